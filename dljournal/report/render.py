"""Narrative (markdown + Jinja, sandboxed) and live results -> one HTML document."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2
import markdown
from markupsafe import Markup, escape

from ..core.project import Project
from ..core.result import StoredResult
from .changes import Changes
from .findings import compute_findings
from .sandbox import Helper, JournalSandbox, error_line
from .spec import ReportSpec, load_report_spec
from .views import FILTERS, Node, ReportError, ResultsView, count, fixed, num, pct

if TYPE_CHECKING:
    from ..figures.render import Drawer

__all__ = ["Journal", "ReportSpec", "Section", "flatten", "format_cell", "load_report_spec"]

MD_EXTENSIONS = ["tables", "fenced_code", "sane_lists", "attr_list", "md_in_html", "footnotes"]


@dataclass
class Section:
    """One experiment's part of the journal."""

    result: StoredResult
    narrative: Markup
    figures: list[Markup] = field(default_factory=list)  # not placed by the narrative
    tables: list[Markup] = field(default_factory=list)
    config_rows: list[tuple[str, str]] = field(default_factory=list)
    metric_rows: list[tuple[str, str]] = field(default_factory=list)
    stale: str = ""  # what changed since the result was computed ("" while its key holds)


class Journal:
    """Renders the parts of one report; figures and tables are numbered by CSS counters."""

    def __init__(
        self,
        project: Project,
        spec: ReportSpec,
        results: Mapping[str, StoredResult],
        stale: Mapping[str, str] | None = None,
        drawer: Drawer | None = None,
    ):
        self.project, self.spec, self.results = project, spec, dict(results)
        self.drawer, self.drawing = drawer, {}  # figures drawn in the background: path -> what it is
        if drawer is not None:
            specs = [f["spec"] for r in self.results.values() for f in r.figures.values()]
            drawer.prepare(specs, project.build / "figures")
        self.stale = dict(stale or {})
        # {% include "_part.md" %} reads a shared piece of narrative from the report's own folder only
        self.env = JournalSandbox(spec.folder, autoescape=False, keep_trailing_newline=True)
        self.env.filters.update(FILTERS)
        self.placed: set[tuple[str, str, str]] = set()
        self.findings = compute_findings(project, spec.name, self.results)

    # ---- narrative ------------------------------------------------------------------------------
    def narrative(self, file: Path, this: str | None = None, required: bool = True) -> Markup:
        """Render ``file`` (markdown with Jinja expressions) with live results, to HTML."""
        where = self._where(file)
        if not file.is_file():
            if required:
                raise ReportError(f"{where}: file not found")
            return Markup("")
        folder = self.spec.folder.resolve()
        real = file.resolve()
        if not real.is_relative_to(folder):  # a symlink out of the report's folder
            raise ReportError(
                f"{where}: resolves to {real}, outside {self._where(self.spec.folder)}; "
                f"narrative files must be files of the report's folder"
            )
        r = ResultsView(self.results, self.spec.name, where)
        ctx = {
            "r": r,
            "this": r[this] if this else None,
            "report": self.spec.plain(),
            "findings": Node(self.findings, "findings", where),
            "fig": Helper(lambda name, exp=None, width=None: self.figure(exp or this, name, where, width)),
            "table": Helper(lambda name, exp=None: self.table(exp or this, name, where)),
            "figref": Helper(lambda name, exp=None: self.ref("fig", exp or this, name, where)),
            "tabref": Helper(lambda name, exp=None: self.ref("tab", exp or this, name, where)),
        }
        text = _render(
            self.env,
            real.relative_to(folder).as_posix(),
            ctx,
            self.spec.folder,
            self.project.root,
            where,
            include_hint=self._where(self.spec.folder),
        )
        return Markup(markdown.markdown(text, extensions=MD_EXTENSIONS, output_format="html"))

    def _result(self, exp: str | None, where: str) -> StoredResult:
        if exp is None:
            raise ReportError(
                f"{where}: fig()/table() outside an experiment section must name the "
                f"experiment, e.g. fig('curves', 'EXP01')"
            )
        return ResultsView(self.results, self.spec.name, where)[exp]._r

    def figure(self, exp: str | None, name: str, where: str, width: str | None = None) -> Markup:
        res = self._result(exp, where)
        if name not in res.figures:
            raise ReportError(f"{where}: {res.exp_id} has no figure {name!r} (has: {', '.join(res.figures)})")
        self.placed.add(("fig", res.exp_id, name))
        f = res.figures[name]
        path = self._draw(res, name)
        caption = escape(f["caption"] or name) + self._stamp(res)
        style = f' style="width:{escape(width)}"' if width else ""
        return Markup(
            f'\n\n<figure id="fig-{res.exp_id}-{escape(name)}">'
            f'<img src="{path.resolve().as_uri()}"{style} alt="{escape(name)}"/>'
            f"<figcaption>{caption}</figcaption></figure>\n\n"
        )

    def _draw(self, res: StoredResult, name: str) -> Path:
        """The figure's file, drawn from its stored spec (or taken from the figure cache)."""
        from ..figures.render import render
        from ..figures.spec import Arrays

        f = res.figures[name]
        what = f"{res.exp_id}: figure {name!r} ({f['spec'].get('__spec__')}) cannot be drawn"
        try:
            path = render(f["spec"], Arrays(f["arrays"]), self.project.build / "figures", self.drawer)
        except Exception as exc:
            raise ReportError(f"{what}: {type(exc).__name__}: {exc}") from exc
        self.drawing[path.resolve()] = what
        return path

    def wait(self, path: Path | None = None) -> None:
        """Until the figure file ``path`` (every figure, if None) is drawn, if it is being drawn."""
        from ..figures.render import DrawingFailed

        if self.drawer is None or (path is not None and path.resolve() not in self.drawing):
            return
        try:
            self.drawer.wait(path)
        except DrawingFailed as exc:
            raise ReportError(f"{self.drawing[exc.path]}: {exc}") from None

    def table(self, exp: str | None, name: str, where: str) -> Markup:
        res = self._result(exp, where)
        if name not in res.tables:
            raise ReportError(f"{where}: {res.exp_id} has no table {name!r} (has: {', '.join(res.tables)})")
        self.placed.add(("tab", res.exp_id, name))
        t = res.tables[name]
        head = "".join(f"<th>{escape(c)}</th>" for c in t["columns"])
        body = "".join(
            "<tr>" + "".join(f"<td>{escape(format_cell(c, v))}</td>" for c, v in zip(t["columns"], row)) + "</tr>"
            for row in t["rows"]
        )
        caption = escape(t.get("caption") or name) + self._stamp(res)
        return Markup(
            f'\n\n<table class="data" id="tab-{res.exp_id}-{escape(name)}">'
            f"<caption>{caption}</caption><thead><tr>{head}</tr></thead>"
            f"<tbody>{body}</tbody></table>\n\n"
        )

    def ref(self, kind: str, exp: str | None, name: str, where: str) -> Markup:
        res = self._result(exp, where)
        if name not in (res.figures if kind == "fig" else res.tables):
            raise ReportError(f"{where}: {res.exp_id} has no {'figure' if kind == 'fig' else 'table'} {name!r}")
        return Markup(f'<a class="{kind}ref" href="#{kind}-{res.exp_id}-{escape(name)}"></a>')

    def _stamp(self, res: StoredResult) -> Markup:
        if res.profile == "smoke":
            return Markup(' <span class="stamp">[smoke profile: synthetic data]</span>')
        if res.profile.endswith(DRY_RUN):
            return Markup(' <span class="stamp">[DRY RUN: 2 steps on synthetic data]</span>')
        return Markup("")

    # ---- the document ---------------------------------------------------------------------------
    def sections(self) -> list[Section]:
        out = []
        for exp_id in self.spec.experiments or sorted(self.results):
            res = self._result(exp_id, str(self.spec.folder / "report.toml"))
            narrative = self.narrative(self.spec.folder / f"{exp_id}.md", this=exp_id, required=False)
            where = f"{exp_id} (auto)"
            sec = Section(res, narrative, stale=self.stale.get(exp_id, ""))
            sec.figures = [self.figure(exp_id, n, where) for n in res.figures if ("fig", exp_id, n) not in self.placed]
            sec.tables = [self.table(exp_id, n, where) for n in res.tables if ("tab", exp_id, n) not in self.placed]
            sec.config_rows = [(k, _short(v)) for k, v in flatten(res.config) if not _engine_default(k, v)]
            # lists (a grid, the confused pairs) are shown whole by the section's tables; here, their start
            sec.metric_rows = [
                (k, _short(v) if isinstance(v, list) else format_cell(k, v)) for k, v in flatten(res.metrics)
            ]
            out.append(sec)
        return out

    def grouped(self, sections: list[Section]) -> list[tuple[str | None, list[Section]]]:
        """(group title, its sections); one untitled group when report.toml defines none."""
        if not self.spec.groups:
            return [(None, sections)]
        by_id = {s.result.exp_id: s for s in sections}
        return [(g["title"], [by_id[e] for e in g["experiments"]]) for g in self.spec.groups]

    def html(self, author: str, changes: Changes | None = None) -> str:
        description = self.narrative(self.spec.folder / "description.md")
        sections = self.sections()
        summary = self.narrative(self.spec.folder / "summary.md")
        profiles = sorted({s.result.profile for s in sections})
        page_env = JournalSandbox(self.project.templates, autoescape=True)
        page_env.filters.update(FILTERS)
        # the page template gets plain data too: no Path, no StoredResult
        plain = {s.result.exp_id: _plain(s) for s in sections}
        groups = [(title, [plain[s.result.exp_id] for s in group]) for title, group in self.grouped(sections)]
        ctx = dict(
            spec=self.spec.plain(),
            author=author,
            description=description,
            sections=list(plain.values()),
            summary=summary,
            groups=groups,
            engine_defaults=_engine_defaults(),
            profiles=profiles,
            **_rehearsal(profiles),
            changes=_changes_page(changes),
            built=dt.date.today().isoformat(),
            report=self.spec.name,
            css=(self.project.templates / "report.css").resolve().as_uri(),
        )
        page = self.project.templates / "report.html.j2"
        return _render(
            page_env,
            "report.html.j2",
            ctx,
            self.project.templates,
            self.project.root,
            self._where(page),
            include_hint=self._where(self.project.templates),
        )

    def _where(self, path: Path) -> str:
        root = self.project.root
        return str(path.relative_to(root)) if path.is_relative_to(root) else str(path)


def _render(env: JournalSandbox, name: str, ctx: dict, folder: Path, root: Path, where: str, include_hint: str) -> str:
    """Render template ``name`` of ``folder``; every failure is one ReportError line with file:line."""
    try:
        return env.render(env.get_template(name), ctx)
    except ReportError:
        raise  # already one line naming the file, the experiment and the key
    except jinja2.TemplateNotFound as exc:
        raise ReportError(f"{where}: cannot include {exc.name!r}: not a file of {include_hint}") from None
    except jinja2.TemplateSyntaxError as exc:
        raise ReportError(f"{error_line(exc, folder, root, where)}: {exc.message}") from None
    except jinja2.TemplateError as exc:  # undefined names, sandbox violations
        raise ReportError(f"{error_line(exc, folder, root, where)}: {exc.message}") from None
    except Exception as exc:  # 1/0, a filter on a dict, runaway recursion, ...
        raise ReportError(f"{error_line(exc, folder, root, where)}: {type(exc).__name__}: {exc}") from None


def _plain(s: Section) -> dict:
    r = s.result
    result = {
        "exp_id": r.exp_id,
        "title": r.title,
        "question": r.question,
        "profile": r.profile,
        "notes": list(r.notes),
        "provenance": r.provenance,
        "key": r.key,
    }
    return {
        "result": result,
        "narrative": s.narrative,
        "figures": list(s.figures),
        "tables": list(s.tables),
        "config_rows": list(s.config_rows),
        "metric_rows": list(s.metric_rows),
        "stale": s.stale,
    }


def flatten(d: Mapping[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    out = []
    for k, v in d.items():
        key = f"{prefix}{k}"
        out += flatten(v, key + ".") if isinstance(v, Mapping) else [(key, v)]
    return out


def format_cell(column: str, value: Any) -> str:
    """Numbers formatted by what the column holds (accuracy, parameters, seconds, ...)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return "n/a" if value is None else str(value)
    c = column.lower().removesuffix(" std")  # a spread is printed like the value it spreads
    if c.endswith("acc") or "accuracy" in c or c.endswith("acc (%)") or c.startswith("gap (acc"):
        return pct(value, 2)
    if "param" in c or isinstance(value, int):
        return count(value)
    if "second" in c or c.endswith("(s)") or "time" in c:
        return fixed(value, 1)
    return num(value, 4)


def _engine_defaults() -> list[tuple[str, str]]:
    from ..core.trainconfig import TrainConfig

    return [(f.name, _short(f.default)) for f in TrainConfig.__dataclass_fields__.values()]


def _engine_default(key: str, value: Any) -> bool:
    """A training field left at the engine's default (listed once in the report, not per section)."""
    from ..core.trainconfig import TrainConfig

    field = key.rsplit(".", 1)[-1]
    default = TrainConfig.__dataclass_fields__.get(field)
    return default is not None and default.default == value


def _short(v: Any) -> str:
    s = ", ".join(map(str, v)) if isinstance(v, list) else str(v)
    return s if len(s) <= 48 else s[:45] + "..."


DRY_RUN = "(dry run)"  # the end of a dry run's profile label (core.profiles.Profile.label)


def _rehearsal(profiles: list[str]) -> dict[str, str]:
    """What marks every page of a document built from results that are not results: the body's
    class, the running header, the title page's banner (all empty for real results)."""
    if any(p.endswith(DRY_RUN) for p in profiles):
        return dict(
            rehearsal="dry-run",
            page_stamp="DRY RUN: 2 steps per training on synthetic data, not results",
            banner="Built from a DRY RUN: each experiment's configuration trained for 2 steps on tiny "
            "synthetic data, to prove that it runs. None of these numbers is a result.",
        )
    if "smoke" in profiles:
        return dict(
            rehearsal="smoke",
            page_stamp="SMOKE PROFILE: synthetic data, not real results",
            banner="Built from smoke-profile results: tiny synthetic stand-ins of the data and a budget of "
            "seconds. These numbers only show that the pipeline runs; they are not results.",
        )
    return dict(rehearsal="", page_stamp="", banner="")


def _changes_page(changes: Changes | None) -> dict | None:
    """The appendix's data, or None when nothing moved at the precision the report prints."""
    plain = changes.plain(format_cell) if changes is not None else None
    return plain if plain and (plain["added"] or plain["removed"] or plain["moved"]) else None
