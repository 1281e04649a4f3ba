"""Placeholder until the rebuild benchmark lands."""

from __future__ import annotations


def cached_rebuild_seconds(project) -> dict:
    return {"skipped": "pending"}


def edit_rebuild_seconds(project) -> dict:
    return {"skipped": "pending"}
