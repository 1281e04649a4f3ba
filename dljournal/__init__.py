"""dljournal: an experiment journal as code.

Experiments are decorated functions ``(ctx) -> Result``; the runner caches their results, the
report builder merges them with the markdown journal into a PDF.
"""

import importlib

# name -> (module, attribute; None for the module itself). Imported on first use (PEP 562): the
# command line (``--help``, a cached ``build``) then never pays for torch or matplotlib. Nothing is
# cached in this module's namespace, so that what the cache key's fingerprint sees here does not
# depend on which names some code happened to use.
_EXPORTS = {
    "viz": ("figures", None),  # figure specs: what to draw; the report draws them at build time
    "experiment": ("core.registry", "experiment"),
    "Recipe": ("core.profiles", "Recipe"),
    "Result": ("core.result", "Result"),
    "Context": ("core.context", "Context"),
    "TrainConfig": ("train", "TrainConfig"),
    "fit": ("train", "fit"),
    "evaluate": ("train", "evaluate"),
    "predict": ("train", "predict"),
    "count_params": ("train", "count_params"),
}

__all__ = list(_EXPORTS)
__version__ = "0.1.0"


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'dljournal' has no attribute {name!r}")
    module, attr = _EXPORTS[name]
    found = importlib.import_module(f"{__name__}.{module}")
    return found if attr is None else getattr(found, attr)


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
