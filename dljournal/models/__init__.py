"""The model registry (timm style): ``@register_model`` on a factory, ``create_model(name)``."""
from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Callable

from torch import nn


@dataclass(frozen=True)
class ModelEntry:
    name: str
    factory: Callable[..., nn.Module]
    input_shape: tuple[int, ...]  # one sample, for tests and summaries
    output_dim: int


_MODELS: dict[str, ModelEntry] = {}


def register_model(input_shape: tuple[int, ...], output_dim: int):
    """Register the decorated factory under its function name."""
    def register(factory: Callable[..., nn.Module]) -> Callable[..., nn.Module]:
        name = factory.__name__
        if name in _MODELS and _MODELS[name].factory.__module__ != factory.__module__:
            raise ValueError(f"model {name!r} registered twice")
        _MODELS[name] = ModelEntry(name, factory, tuple(input_shape), output_dim)
        return factory
    return register


def list_models() -> list[str]:
    return sorted(_MODELS)


def model_entry(name: str) -> ModelEntry:
    if name not in _MODELS:
        close = difflib.get_close_matches(name, _MODELS, n=3, cutoff=0.5)
        hint = f"; did you mean {' or '.join(close)}?" if close else ""
        raise KeyError(f"unknown model {name!r}{hint} (known: {', '.join(list_models())})")
    return _MODELS[name]


def create_model(name: str, **kwargs) -> nn.Module:
    return model_entry(name).factory(**kwargs)


def _import_all() -> None:
    """Every module of this package registers its models on import; a new file needs no wiring."""
    import importlib
    import pkgutil

    for info in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{info.name}")


_import_all()
