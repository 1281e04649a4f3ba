"""Every registered model: forward shape, gradients reach every parameter."""

import pytest
import torch

from dljournal.core.project import ProjectError
from dljournal.models import create_model, list_models, model_entry
from dljournal.models.mlp import mlp_params
from dljournal.train import count_params


@pytest.mark.parametrize("name", list_models())
def test_forward_backward(name):
    entry = model_entry(name)
    model = create_model(name)
    x = torch.randn(3, *entry.input_shape)
    out = model(x)
    assert out.shape == (3, entry.output_dim)
    out.square().sum().backward()
    missing = [n for n, p in model.named_parameters() if p.grad is None or not p.grad.abs().sum() > 0]
    assert not missing, f"no gradient reaches {missing}"


def test_unknown_model_names_close_ones():
    with pytest.raises(ProjectError, match="did you mean cnn_deep"):
        create_model("cnn_dep")


def test_hw1_models_have_equal_budgets():
    deep, shallow = count_params(create_model("cnn_deep")), count_params(create_model("cnn_shallow"))
    assert abs(deep - shallow) / deep < 0.01
    sizes = [
        count_params(create_model("fn_mlp", hidden=h)) for h in [(190,), (10, 18, 15, 4), (5, 10, 10, 10, 10, 10, 5)]
    ]
    assert max(sizes) - min(sizes) <= 2
    assert mlp_params(1, (190,), 1) == sizes[0] == 571
