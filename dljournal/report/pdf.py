"""HTML -> PDF with WeasyPrint, reading nothing outside the project."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import unquote, urlparse

from ..core.files import chmod_umask
from .views import ReportError


def project_fetcher(allowed: Iterable[Path]):
    """A WeasyPrint URL fetcher that serves ``file:`` URLs under ``allowed`` folders and ``data:``
    URLs, and stops the build on anything else (network, other local files).

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
                    return super().fetch(url, headers)
            raise FatalURLFetchingError(f"the report may only read files inside the project, not {url}")

    return ProjectFetcher(allowed_protocols=["file", "data"])


def write_pdf(html: str, target: Path, base: Path, allowed: Iterable[Path]) -> Path:
    """Render ``html`` to ``target`` atomically (a half-written PDF never replaces a good one)."""
    import weasyprint
    from weasyprint.urls import FatalURLFetchingError

    fetcher = project_fetcher(allowed)
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
    return target
