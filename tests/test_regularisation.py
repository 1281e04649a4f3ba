import torch
from torch import nn

from dljournal.data.tensors import Split
from dljournal.train import TrainConfig, fit
from dljournal.train.config import l1_penalty


def test_l1_gradient_is_lambda_sign_w():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    lam = 0.01
    (lam * l1_penalty(model)).backward()
    for name, p in model.named_parameters():
        if p.dim() > 1:
            assert torch.allclose(p.grad, lam * torch.sign(p.detach())), name
        else:
            assert p.grad is None, name  # biases are exempt from the penalty


def test_l1_in_fit_shrinks_weights_and_logs_the_data_loss():
    torch.manual_seed(0)
    x, y = torch.randn(64, 8), torch.randint(0, 2, (64,))

    def train(l1):
        torch.manual_seed(1)
        m = nn.Linear(8, 2)
        h = fit(m, (Split(x, y), None), TrainConfig(epochs=20, batch_size=64, lr=1e-2, l1=l1))
        return m.weight.abs().sum().item(), h.final["train_loss"]

    plain, plain_loss = train(0.0)
    sparse, sparse_loss = train(0.05)
    assert sparse < 0.8 * plain
    assert sparse_loss < 2.0  # the data loss alone, not inflated by λ·Σ|w|
