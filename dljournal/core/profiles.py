"""Profiles (smoke / quick / full) and per-profile configuration overrides."""

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


def check_overrides(config: Any, overrides: Mapping[str, Mapping[str, Any]], where: str) -> None:
    """Fail at import time, not after an hour of training, on a misspelt override."""
    if config is None:
        if any(overrides.values()):
            raise TypeError(f"{where}: profile overrides given without a config dataclass")
        return
    if not (dataclasses.is_dataclass(config) and not isinstance(config, type)):
        raise TypeError(f"{where}: config must be a dataclass instance, got {type(config).__name__}")
    if not config.__dataclass_params__.frozen:
        raise TypeError(f"{where}: config dataclass {type(config).__name__} must be frozen")
    names = {f.name for f in dataclasses.fields(config)}
    for profile, values in overrides.items():
        get_profile(profile)
        unknown = sorted(set(values) - names)
        if unknown:
            raise TypeError(
                f"{where}: {profile} override sets unknown field(s) {unknown}; "
                f"{type(config).__name__} has {sorted(names)}"
            )


def resolve(config: Any, overrides: Mapping[str, Mapping[str, Any]], profile: str) -> Any:
    """The base config (the full recipe) with the profile's overrides applied."""
    if config is None:
        return None
    return dataclasses.replace(config, **dict(overrides.get(profile) or {}))
