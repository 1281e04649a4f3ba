"""The model registry (timm style): ``@register_model`` on a factory, ``create_model(name)``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from torch import nn

from ..core.registries import Registry, import_submodules

Factory = Callable[..., nn.Module]


@dataclass(frozen=True)
class ModelEntry:
    name: str
    factory: Factory
    input_shape: tuple[int, ...]  # one sample, for tests and summaries
    output_dim: int


MODELS: Registry[ModelEntry] = Registry("model", defined_by=lambda entry: entry.factory)


def register_model(input_shape: tuple[int, ...], output_dim: int) -> Callable[[Factory], Factory]:
    """Register the decorated factory under its function name."""
    return MODELS.decorator(make=lambda factory: ModelEntry(factory.__name__, factory, tuple(input_shape), output_dim))


def list_models() -> list[str]:
    return MODELS.names()


def model_entry(name: str) -> ModelEntry:
    return MODELS.get(name)


def create_model(name: str, **kwargs) -> nn.Module:
    return MODELS.get(name).factory(**kwargs)


import_submodules(__name__, __path__)  # each module registers its models on import: a new file needs no wiring
