"""HTML -> PDF with WeasyPrint, reading nothing outside the project; skipped when the PDF in place was
rendered from the same HTML and the same files (WeasyPrint is most of a build's time)."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterable
from importlib.metadata import version
from pathlib import Path
from urllib.parse import unquote, urlparse

from ..core.files import atomic_write_text, chmod_umask, file_sha256, sha
from .views import ReportError


def project_fetcher(
    allowed: Iterable[Path], read: set[Path] | None = None, ready: Callable[[Path], None] | None = None
):
    """A WeasyPrint URL fetcher that serves ``file:`` URLs under ``allowed`` folders and ``data:``
    URLs, and stops the build on anything else (network, other local files); each file served is
    added to ``read``.

    WeasyPrint's ``allowed_protocols`` alone would still read any local file.
    """
    import weasyprint
    from weasyprint.urls import FatalURLFetchingError

    roots = [Path(p).resolve() for p in allowed]

    class ProjectFetcher(weasyprint.URLFetcher):
        def fetch(self, url, headers=None):
            parsed = urlparse(url)
            if parsed.scheme == "data":
                return super().fetch(url, headers)
            if parsed.scheme == "file":
                path = Path(unquote(parsed.path)).resolve()
                if any(path.is_relative_to(r) for r in roots):
                    if read is not None:
                        read.add(path)
                    if ready is not None:  # a figure still being drawn
                        try:
                            ready(path)
                        except ReportError as exc:  # fatal: WeasyPrint would skip the image with a warning
                            raise FatalURLFetchingError(str(exc)) from None
                    return super().fetch(url, headers)
            raise FatalURLFetchingError(f"the report may only read files inside the project, not {url}")

    return ProjectFetcher(allowed_protocols=["file", "data"])


def write_pdf(
    html: str,
    target: Path,
    base: Path,
    allowed: Iterable[Path],
    memo: Path | None = None,
    ready: Callable[[Path], None] | None = None,
) -> Path:
    """Render ``html`` to ``target`` atomically (a half-written PDF never replaces a good one).
    ``memo``: a JSON file recording what the PDF was rendered from; when the HTML, every file it
    read, the renderer's version and the PDF itself are unchanged, nothing is rendered.
    ``ready(path)`` returns once a file the HTML uses can be read (figures drawn meanwhile)."""
    inputs = {"html": sha(html), "base": str(base.resolve()), "weasyprint": version("weasyprint")}
    if memo is not None and _unchanged(memo, inputs, target):
        return target
    import weasyprint
    from weasyprint.urls import FatalURLFetchingError

    read: set[Path] = set()
    fetcher = project_fetcher(allowed, read, ready)
    tmp = None
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
        os.close(fd)
        doc = weasyprint.HTML(string=html, base_url=base.resolve().as_uri() + "/", url_fetcher=fetcher)
        doc.write_pdf(tmp)  # title and author come from <title> and <meta name="author">
        chmod_umask(tmp)  # mkstemp made it 0600; a PDF is shared like any file the user writes
        os.replace(tmp, target)
    except FatalURLFetchingError as exc:
        raise ReportError(str(exc)) from None
    except OSError as exc:  # disk full, a read-only folder: the previous PDF is kept
        raise ReportError(f"cannot write {target}: {exc.strerror or exc}; the previous PDF, if any, is kept") from None
    finally:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
    if memo is not None:
        try:
            files = {str(p): file_sha256(p) for p in sorted(read)}
            atomic_write_text(memo, json.dumps({**inputs, "files": files, "pdf": file_sha256(target)}, indent=1))
        except OSError:  # the new PDF is in place; without its memo the next build draws it again
            pass
    return target


def _unchanged(memo: Path, inputs: dict[str, str], target: Path) -> bool:
    """``target`` is the PDF ``inputs`` (and the files listed in ``memo``) rendered to, untouched since.
    System fonts are not tracked: after installing fonts, delete the memo (or the PDF)."""
    try:
        last = json.loads(memo.read_text())
        return (
            all(last.get(k) == v for k, v in inputs.items())
            and last.get("pdf") == file_sha256(target)
            and all(file_sha256(Path(p)) == digest for p, digest in last["files"].items())
        )
    except (OSError, ValueError, KeyError, AttributeError):  # no memo, no PDF, a file gone: render
        return False
