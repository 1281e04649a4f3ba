"""Reports: journal markdown + cached results -> PDF. Never trains anything."""
from __future__ import annotations

from pathlib import Path

from ..project import Project
from ..registry import experiments_for
from ..store import CorruptResult, ResultStore
from .pdf import write_pdf
from .render import Journal, ReportSpec, load_report_spec
from .views import ReportError

__all__ = ["build_report", "load_report_spec", "ReportSpec", "ReportError", "Journal"]


def build_report(project: Project, report: str, author: str | None = None,
                 output: Path | None = None) -> Path:
    """Render ``build/<file name>.pdf`` from the cached results of ``report``."""
    spec = load_report_spec(project, report)
    if not spec.experiments:
        spec = ReportSpec(**{**spec.__dict__, "experiments": tuple(s.id for s in experiments_for(report))})
    store = ResultStore(project.results)
    results = {}
    for exp_id in spec.experiments:
        try:
            res = store.load(report, exp_id)
        except CorruptResult as exc:
            raise ReportError(f"{exp_id}: cached result unreadable ({exc}); re-run it: "
                              f"nox -s run_experiments -- --report {report} --only {exp_id}") from None
        if res is None:
            raise ReportError(f"{exp_id} has no cached result; run it first: "
                              f"nox -s run_experiments -- --report {report} --only {exp_id}")
        results[exp_id] = res
    author = author or spec.author
    html = Journal(project, spec, results).html(author)
    target = output or project.build / spec.output_name(author or "anonymous")
    return write_pdf(html, target, base=project.templates,
                     allowed=[project.root, project.build, project.templates])
