"""``build --format html``: the report as one self-contained HTML file, for people who share a link
rather than a file; figures and the stylesheet are embedded, read only from inside the project."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import unquote, urlparse

from ..core.files import atomic_write_text
from .views import ReportError

_REF = re.compile(r'(<link rel="stylesheet" href="|src=")(file://[^"]+)"(>?)')
_TYPES = {".svg": "image/svg+xml", ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg"}


def standalone(html: str, allowed: Iterable[Path]) -> str:
    """``html`` with every ``file:`` stylesheet inlined and every ``file:`` image as a data URL."""
    roots = [Path(p).resolve() for p in allowed]

    def embed(m: re.Match) -> str:
        path = Path(unquote(urlparse(m.group(2)).path)).resolve()
        if not any(path.is_relative_to(r) for r in roots):
            raise ReportError(f"the report may only read files inside the project, not {path}")
        if m.group(1).startswith("<link"):
            return f"<style>{path.read_text()}</style>"
        data = base64.b64encode(path.read_bytes()).decode()
        return f'src="data:{_TYPES.get(path.suffix.lower(), "application/octet-stream")};base64,{data}"{m.group(3)}'

    return _REF.sub(embed, html)


def write_html(html: str, target: Path, allowed: Iterable[Path]) -> Path:
    atomic_write_text(target, standalone(html, allowed))
    return target
