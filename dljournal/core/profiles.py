"""Profiles (smoke / quick / full) and the recipe: a config with per-profile overrides."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .project import ProjectError


@dataclass(frozen=True)
class Profile:
    name: str
    synthetic: bool  # smoke trains on synthetic stand-ins of the real data
    budget: str
    dry_run: bool = False  # this profile's configuration, a couple of steps on tiny synthetic data

    @property
    def is_real(self) -> bool:
        return not self.synthetic

    @property
    def label(self) -> str:
        """What a result records and a page shows: ``full``, or ``full (dry run)``."""
        return profile_label(self.name, self.dry_run)

    def as_dry_run(self) -> Profile:
        return dataclasses.replace(
            self,
            synthetic=True,
            dry_run=True,
            budget=f"dry run of {self.name}: its configuration, 2 steps per training",
        )


PROFILES: dict[str, Profile] = {
    p.name: p
    for p in (
        Profile("smoke", True, "synthetic data, seconds per experiment (tests, CI)"),
        Profile("quick", False, "real data, reduced budget: minutes on 2 CPU cores"),
        Profile("full", False, "real data, the full recipe: meant for a GPU"),
    )
}


def profile_label(name: str, dry_run: bool = False) -> str:
    return f"{name} (dry run)" if dry_run else name


def profile_of(label: str) -> Profile:
    """The profile a result records (``Profile.label``): ``full``, or ``full (dry run)``."""
    name, dry, _ = label.partition(" (dry run)")
    return get_profile(name).as_dry_run() if dry else get_profile(name)


def get_profile(name: str) -> Profile:
    try:
        return PROFILES[name]
    except KeyError:
        raise ProjectError(f"unknown profile {name!r}; choose one of: {', '.join(PROFILES)}") from None


Overrides = tuple[tuple[str, Any], ...]  # (field, value) pairs: immutable and hashable


@dataclass(frozen=True)
class Recipe:
    """Where an experiment's recipe lives: the full config, and what each profile changes of it."""

    config: Any  # a frozen dataclass instance: the full recipe, the assignment's
    smoke: Mapping[str, Any] | Overrides = ()
    quick: Mapping[str, Any] | Overrides = ()
    full: Mapping[str, Any] | Overrides = ()

    def __post_init__(self) -> None:
        # fail at import time, not after an hour of training, on a misspelt override
        config = self.config
        if not (dataclasses.is_dataclass(config) and not isinstance(config, type)):
            raise TypeError(f"Recipe: config must be a dataclass instance, got {type(config).__name__}")
        if not config.__dataclass_params__.frozen:
            raise TypeError(f"Recipe: config dataclass {type(config).__name__} must be frozen")
        for profile in PROFILES:
            values = getattr(self, profile)
            items = tuple(values.items()) if isinstance(values, Mapping) else tuple(values)
            _check_fields(config, [k for k, _ in items], f"{profile} override")
            object.__setattr__(self, profile, items)

    def for_profile(self, name: str) -> Any:
        """The config with the overrides of profile ``name`` applied."""
        return dataclasses.replace(self.config, **dict(getattr(self, get_profile(name).name)))

    def replace(self, **fields: Any) -> Recipe:
        """A variant of a shared recipe: ``fields`` set on the config hold in every profile."""
        _check_fields(self.config, list(fields), "replace")
        kept = {p: tuple((k, v) for k, v in getattr(self, p) if k not in fields) for p in PROFILES}
        return Recipe(dataclasses.replace(self.config, **fields), **kept)


def _check_fields(config: Any, names: list[str], what: str) -> None:
    known = {f.name for f in dataclasses.fields(config)}
    unknown = [n for n in names if n not in known]
    if unknown:
        cls = type(config).__name__
        raise TypeError(f"Recipe({cls}): {what} sets unknown field(s) {unknown}; {cls} has {sorted(known)}")
