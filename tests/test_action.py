"""The action-recognition model: shapes, which recurrent module, order in time matters."""

import pytest
import torch
from torch import nn

from dljournal.models import create_model
from dljournal.models.action import RECURRENT, ActionRecognizer
from dljournal.models.convlstm import ConvLSTM


@pytest.mark.parametrize("recurrent", RECURRENT)
@pytest.mark.parametrize("frame", [32, 64])
def test_logits_for_each_clip(recurrent, frame):
    model = ActionRecognizer(recurrent, num_classes=4, frame_size=frame, width=4, hidden=8, features=16)
    assert model(torch.randn(3, 5, 1, frame, frame)).shape == (3, 4)


def test_each_variant_uses_its_module():
    kinds = {r: type(ActionRecognizer(r, width=4, hidden=8, features=16).rnn) for r in RECURRENT}
    assert kinds == {"lstm": nn.LSTMCell, "gru": nn.GRUCell, "convlstm": ConvLSTM}
    assert create_model("action_gru", num_classes=3).head[-1].out_features == 3


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="unknown recurrent module 'rnn'"):
        ActionRecognizer("rnn")
    with pytest.raises(ValueError, match="divisible by 8"):
        ActionRecognizer("gru", frame_size=60)


@pytest.mark.parametrize("recurrent", RECURRENT)
def test_the_order_of_frames_matters(recurrent):
    torch.manual_seed(0)
    model = ActionRecognizer(recurrent, width=4, hidden=8, features=16, frame_size=16).eval()
    x = torch.randn(2, 6, 1, 16, 16)
    out = model(x)
    assert not torch.allclose(out, model(x.flip(1)), atol=1e-5)  # not a bag of frames
    assert torch.allclose(out[:1], model(x[:1]), atol=1e-6)  # clips are independent samples
