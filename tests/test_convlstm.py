"""ConvLSTM from scratch: shapes, equality with nn.LSTMCell, gradients to every gate, gradcheck."""

import pytest
import torch
from torch import nn

from dljournal.models.convlstm import ConvLSTM, ConvLSTMCell, ConvLSTMPredictor, FrameCNN


def test_shapes_of_every_layer_and_state():
    net = ConvLSTM(3, hidden_channels=(4, 6), kernel_size=(3, 5))
    x = torch.randn(2, 7, 3, 9, 11)  # (B, T, C, H, W)
    outputs, states = net(x)
    assert [o.shape for o in outputs] == [(2, 7, 4, 9, 11), (2, 7, 6, 9, 11)]
    assert [(h.shape, c.shape) for h, c in states] == [((2, 4, 9, 11),) * 2, ((2, 6, 9, 11),) * 2]
    for out, (h, _) in zip(outputs, states):
        assert torch.equal(out[:, -1], h)  # the last output is the last hidden state
    state, steps = None, []
    for t in range(7):  # layer 2 runs over layer 1's output sequence
        state = net.cells[1](outputs[0][:, t], state)
        steps.append(state[0])
    assert torch.allclose(torch.stack(steps, 1), outputs[1])


def test_initial_state_is_used():
    net = ConvLSTM(1, 2)
    x = torch.randn(1, 3, 1, 4, 4)
    zero = [(torch.zeros(1, 2, 4, 4), torch.zeros(1, 2, 4, 4))]
    assert torch.allclose(net(x)[0][0], net(x, zero)[0][0])
    other = [(torch.ones(1, 2, 4, 4), torch.ones(1, 2, 4, 4))]
    assert not torch.allclose(net(x)[0][0], net(x, other)[0][0])


def test_bad_configuration_is_refused():
    with pytest.raises(ValueError, match="odd"):
        ConvLSTMCell(1, 2, kernel_size=2)
    with pytest.raises(ValueError, match="2 layers but 3 kernel sizes"):
        ConvLSTM(1, (2, 2), kernel_size=(3, 3, 3))


def test_equals_lstm_cell_with_1x1_kernels_on_1x1_inputs():
    torch.manual_seed(0)
    n_in, n_hidden, batch, steps = 5, 7, 4, 6
    ref = nn.LSTMCell(n_in, n_hidden)
    cell = ConvLSTMCell(n_in, n_hidden, kernel_size=1)
    with torch.no_grad():  # the conv over [x, h] is [W_ih | W_hh]; both biases add up
        cell.conv.weight.copy_(torch.cat([ref.weight_ih, ref.weight_hh], 1).view(4 * n_hidden, n_in + n_hidden, 1, 1))
        cell.conv.bias.copy_(ref.bias_ih + ref.bias_hh)
    x = torch.randn(steps, batch, n_in)
    h = c = torch.randn(batch, n_hidden)
    state = (h.view(batch, n_hidden, 1, 1), c.view(batch, n_hidden, 1, 1))
    for t in range(steps):
        h, c = ref(x[t], (h, c))
        state = cell(x[t].view(batch, n_in, 1, 1), state)
        assert torch.allclose(state[0].flatten(1), h, atol=1e-6) and torch.allclose(state[1].flatten(1), c, atol=1e-6)
    assert h.abs().max() > 0.05  # the comparison was not between two vanishing states


def test_gradients_reach_every_gate():
    torch.manual_seed(0)
    net = ConvLSTM(2, (3, 3), kernel_size=3)
    outputs, _ = net(torch.randn(2, 4, 2, 5, 5))
    outputs[-1].square().sum().backward()
    for layer, cell in enumerate(net.cells):
        grads = cell.conv.weight.grad.chunk(4, dim=0)  # i, f, g, o
        for gate, grad in zip("ifgo", grads):
            assert grad.abs().sum() > 0, f"layer {layer}: gate {gate} gets no gradient"
        assert all(b.abs().sum() > 0 for b in cell.conv.bias.grad.chunk(4))


def test_gradcheck_double_precision():
    torch.manual_seed(0)
    net = ConvLSTM(1, (2, 2), kernel_size=(3, 1)).double()
    names = [n for n, _ in net.named_parameters()]
    params = tuple(p.detach().clone().requires_grad_() for p in net.parameters())
    x = torch.randn(1, 3, 1, 3, 3, dtype=torch.double, requires_grad=True)

    def f(x, *ps):
        outputs, states = torch.func.functional_call(net, dict(zip(names, ps)), (x,))
        return outputs[-1], states[0][1]  # the top layer's sequence and the first layer's cell state

    assert torch.autograd.gradcheck(f, (x, *params), eps=1e-6, atol=1e-5, fast_mode=True)


@pytest.mark.parametrize("cls", [ConvLSTMPredictor, FrameCNN])
def test_predictors_keep_the_frame_shape(cls):
    model = cls(width=4, hidden=(6,))
    x = torch.rand(2, 5, 1, 16, 16)
    assert model(x).shape == x.shape


def test_frame_cnn_has_no_memory_and_convlstm_has():
    torch.manual_seed(0)
    x = torch.rand(1, 4, 1, 16, 16)
    changed = x.clone()
    changed[:, 0] = torch.rand(1, 1, 16, 16)  # only the first frame differs
    for cls, remembers in ((FrameCNN, False), (ConvLSTMPredictor, True)):
        model = cls(width=4, hidden=(6,)).eval()
        later = (model(x)[:, 1:] - model(changed)[:, 1:]).abs().max().item()
        assert (later > 1e-6) == remembers, cls.__name__
