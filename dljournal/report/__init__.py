"""Reports: journal markdown + cached results -> PDF. Never trains anything."""

from __future__ import annotations

from pathlib import Path

from ..core.cores import usable_cores
from ..core.keymemo import known_experiments
from ..core.preflight import ensure_writable
from ..core.profiles import profile_of
from ..core.project import Project
from ..core.registries import suggest
from ..core.staleness import stale_results
from ..core.store import CorruptResult, ResultStore
from .changes import compare, previous, remember, snapshot
from .html import write_html
from .pdf import write_pdf
from .render import Journal
from .spec import ReportSpec, load_report_spec, safe_file_part
from .views import ReportError

__all__ = ["Journal", "ReportError", "ReportSpec", "build_report", "load_report_spec", "output_path", "safe_file_part"]


def output_path(project: Project, spec: ReportSpec, author: str | None = None, output: Path | None = None) -> Path:
    """Where the PDF goes, checked before any work: not a folder, writable, and (by default)
    inside the build folder whatever the author's name holds."""
    if output is None:
        target = project.build / spec.output_name(author or spec.author or "anonymous")
        if target.resolve().parent != project.build.resolve():
            raise ReportError(f"{spec.toml}: the PDF name {target.name!r} leaves the build folder {project.build}")
    else:
        target = Path(output)
        if target.is_dir():
            raise ReportError(f"--output {output} is a folder; give a file name, e.g. {target / (spec.name + '.pdf')}")
    ensure_writable(target.parent, f"the PDF's folder {target.parent}" + (" (--output)" if output else ""))
    return target


def build_report(
    project: Project,
    report: str,
    author: str | None = None,
    output: Path | None = None,
    strict: bool = False,
    data_root: Path | None = None,
    formats: tuple[str, ...] = ("pdf",),
    changes: bool | None = None,
) -> Path:
    """Render ``build/<file name>.pdf`` from the cached results of ``report``. A result whose
    cache key no longer holds gets a banner saying what changed; ``strict`` refuses to build with
    any such result, or with smoke results. ``formats``: "pdf" and/or "html" (one self-contained file
    beside the PDF). ``changes`` (default: on unless the results are smoke or a dry run) appends what
    changed since the last build of the same profiles; every build remembers its numbers for the next."""
    spec = _spec(project, report)
    target = output_path(project, spec, author, output)
    results, stale = _results(project, spec, report, data_root, strict)
    author = author or spec.author
    rehearsal = any(profile_of(r.profile).synthetic for r in results.values())
    profiles = sorted({r.profile for r in results.values()})
    numbers, old = snapshot(results), previous(project.build, report, profiles)
    moved = compare(old, numbers) if old is not None and (changes if changes is not None else not rehearsal) else None
    from ..figures.render import Drawer

    drawer = Drawer(usable_cores())  # figures are drawn while the rest of the page is made
    with _own_kinds(project, report):
        try:
            journal = Journal(project, spec, results, stale, drawer)
            html = journal.html(author, moved)
            allowed = [project.root, project.build, project.templates]
            written = []
            if "pdf" in formats:
                memo = project.build / "cache" / "pdf" / f"{target.name}.json"  # its own hash guards a shared name
                written.append(write_pdf(html, target, project.templates, allowed, memo, ready=journal.wait))
            journal.wait()  # every figure, read or not (the HTML embeds them; a failure is named)
            if "html" in formats:
                written.append(write_html(html, target.with_suffix(".html"), allowed))
        finally:
            drawer.close()
    remember(project.build, report, profiles, numbers)  # what the next build compares with
    return written[0]


def build_html(project: Project, report: str) -> str:
    """The report's HTML from its cached results, as the PDF would have it (for the preview)."""
    spec = _spec(project, report)
    results, stale = _results(project, spec, report, None, False)
    with _own_kinds(project, report):
        return Journal(project, spec, results, stale).html(spec.author)


def _own_kinds(project: Project, report: str):
    """Figure kinds the report's experiments register are found by importing them, if a figure needs
    one: a build that found its keys memoised has imported no experiments."""
    from ..core.registry import load_experiments
    from ..figures.registry import kind_source

    return kind_source(lambda: load_experiments(project, report))


def _spec(project: Project, report: str) -> ReportSpec:
    ids = sorted(k.id for k in known_experiments(project, report))  # first: a module that will not import is named
    spec = load_report_spec(project, report)
    if not spec.experiments:
        spec = ReportSpec(**{**spec.__dict__, "experiments": tuple(ids)})
    for exp_id in spec.experiments:
        if exp_id not in ids:  # a typo in report.toml: say which file and what exists
            raise ReportError(f"{spec.toml}: unknown experiment {exp_id!r} in report {report}{suggest(exp_id, ids)}")
    return spec


def _results(project: Project, spec: ReportSpec, report: str, data_root: Path | None, strict: bool):
    store = ResultStore(project.results)
    results = {}
    for exp_id in spec.experiments:
        try:
            res = store.load(report, exp_id)
        except CorruptResult as exc:
            raise ReportError(
                f"{exp_id}: cached result unreadable ({exc}); re-run it: "
                f"nox -s run_experiments -- --report {report} --only {exp_id}"
            ) from None
        if res is None:
            raise ReportError(
                f"{exp_id} has no cached result; run it first: "
                f"nox -s run_experiments -- --report {report} --only {exp_id}"
            )
        results[exp_id] = res
    stale = stale_results(project, report, results, data_root)
    if strict:
        rehearsals = [e for e, r in results.items() if profile_of(r.profile).synthetic]
        if stale or rehearsals:
            why = "; ".join(
                [f"{e} is stale ({w} changed)" for e, w in stale.items()]
                + ([f"{', '.join(rehearsals)} ran on synthetic data (smoke or dry run)"] if rehearsals else [])
            )
            raise ReportError(f"--strict: {why}; re-run: nox -s run_experiments -- --report {report}")
    return results, stale
