"""``journal/<report>/report.toml``: read, type-checked, and the PDF's file name made safe."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from ..core.project import Project
from .views import ReportError

MAX_NAME_PART = 64  # characters of the author in a file name (a 300-character one hit ENAMETOOLONG)
MAX_FILE_NAME = 255  # bytes: the limit of the usual file systems


@dataclass(frozen=True)
class ReportSpec:
    """``journal/<report>/report.toml``."""

    name: str
    folder: Path
    title: str
    subtitle: str = ""
    course: str = ""
    author: str = ""
    file_name: str = "{report}"  # e.g. "dl4cv2024_{author}_module2"
    experiments: tuple[str, ...] = ()  # order in the journal; default: all, by id
    groups: tuple[dict, ...] = ()  # [[groups]] title = "...", experiments = [...]: headed parts of the journal
    compact: bool = False  # title and contents share page 1; sections list their configuration only

    @property
    def toml(self) -> Path:
        return self.folder / "report.toml"

    def output_name(self, author: str) -> str:
        """``file_name`` with ``{report}`` and ``{author}`` filled in; the author is reduced to
        word characters, dots and dashes (``x/../../y`` must not leave build/)."""
        try:
            stem = self.file_name.format(report=self.name, author=safe_file_part(author))
        except (KeyError, IndexError, ValueError, AttributeError) as exc:
            raise ReportError(
                f"{self.toml}: file_name {self.file_name!r} is not a valid pattern ({exc}); "
                f"it may use {{report}} and {{author}} only"
            ) from None
        name = stem + ".pdf"
        if not stem.strip(".") or "/" in stem or "\0" in stem or len(name.encode()) > MAX_FILE_NAME:
            raise ReportError(
                f"{self.toml}: file_name {self.file_name!r} gives {name!r}, not a file name "
                f"(no '/', at most {MAX_FILE_NAME} bytes)"
            )
        return name

    def plain(self) -> dict:
        """What templates see of the spec: strings, lists and a flag (no paths)."""
        return {
            "name": self.name,
            "title": self.title,
            "subtitle": self.subtitle,
            "course": self.course,
            "author": self.author,
            "experiments": list(self.experiments),
            "compact": self.compact,
            "groups": [{"title": g["title"], "experiments": list(g["experiments"])} for g in self.groups],
        }


def safe_file_part(text: str) -> str:
    """``text`` as part of a file name: word characters, dots and dashes, bounded, never hidden."""
    part = re.sub(r"[^\w.-]+", "_", text.strip()).strip("_").lstrip(".")
    while len(part.encode()) > MAX_NAME_PART:
        part = part[:-1]
    return part or "anonymous"


_STRINGS = ("title", "subtitle", "course", "author", "file_name")


def _check_types(conf: dict, toml: Path) -> None:
    """One line per mistake a hand-written report.toml can hold, naming the key."""
    for key in _STRINGS:
        if key in conf and not isinstance(conf[key], str):
            raise ReportError(f"{toml}: {key!r} must be a string, got {_kind(conf[key])}")
    if "compact" in conf and not isinstance(conf["compact"], bool):
        raise ReportError(f"{toml}: 'compact' must be true or false, got {_kind(conf['compact'])}")
    if "experiments" in conf:
        _check_ids(conf["experiments"], toml, "'experiments'")
    groups = conf.get("groups", [])
    if not isinstance(groups, list) or not all(isinstance(g, dict) for g in groups):
        raise ReportError(f"{toml}: 'groups' must be [[groups]] tables, got {_kind(groups)}")
    for g in groups:
        if set(g) != {"title", "experiments"}:
            raise ReportError(f"{toml}: each [[groups]] needs exactly 'title' and 'experiments', got {sorted(g)}")
        if not isinstance(g["title"], str):
            raise ReportError(f"{toml}: a [[groups]] 'title' must be a string, got {_kind(g['title'])}")
        _check_ids(g["experiments"], toml, f"'experiments' of group {g['title']!r}")


def _check_ids(value: object, toml: Path, what: str) -> None:
    if not isinstance(value, list) or not all(isinstance(e, str) for e in value):
        raise ReportError(
            f'{toml}: {what} must be a list of experiment ids, e.g. ["EXP01", "EXP02"], got {_kind(value)}'
        )


def _kind(value: object) -> str:
    return f"{type(value).__name__} {value!r:.40}"


def load_report_spec(project: Project, report: str) -> ReportSpec:
    folder = project.journal / report
    toml = folder / "report.toml"
    if not toml.is_file():
        raise ReportError(f"report {report}: {toml} not found (each report needs journal/<report>/report.toml)")
    try:
        conf = tomllib.loads(toml.read_text())
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ReportError(f"{toml}: {exc}") from None
    known = {f for f in ReportSpec.__dataclass_fields__} - {"name", "folder"}
    unknown = sorted(set(conf) - known)
    if unknown:
        raise ReportError(f"{toml}: unknown key(s) {unknown}; known: {sorted(known)}")
    if "title" not in conf:
        raise ReportError(f"{toml}: 'title' is required")
    _check_types(conf, toml)
    groups = tuple(conf.get("groups", ()))
    if groups and "experiments" in conf:
        raise ReportError(f"{toml}: give either 'experiments' or [[groups]], not both")
    conf["groups"] = groups
    conf["experiments"] = tuple(e for g in groups for e in g["experiments"]) or tuple(conf.get("experiments", ()))
    spec = ReportSpec(report, folder, **conf)
    spec.output_name(spec.author or "anonymous")  # a broken file_name fails now, not after a run
    return spec
