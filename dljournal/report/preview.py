"""``dljournal preview``: the report as HTML on 127.0.0.1, re-rendered whenever its narrative or the
templates change, and reloaded in the browser by itself. It never trains: a missing or unreadable
result shows as a page naming what to run."""

from __future__ import annotations

import html
import http.server
import signal
import socketserver
import sys
import threading
from pathlib import Path

from ..core.project import Project, ProjectError
from .html import standalone

ADDRESS = "127.0.0.1"  # loopback only: a preview is for the person writing
RELOAD = """<script>
(function poll(seen) {
  fetch("/version").then(r => r.text()).then(v => {
    if (seen !== null && v !== seen) { location.reload(); return; }
    setTimeout(() => poll(v), 500);
  }).catch(() => setTimeout(() => poll(seen), 1000));
})(null);
</script>"""


class Preview:
    """The latest rendering of one report, and a version that changes with it."""

    def __init__(self, project: Project, report: str):
        self.project, self.report = project, report
        self.page, self.version = "", 0
        self.lock = threading.Lock()

    def render(self) -> None:
        from . import build_html

        try:
            body = standalone(build_html(self.project, self.report), [self.project.root, self.project.build])
        except ProjectError as exc:  # nothing to show yet, or a broken narrative: say what to do
            body = (
                f"<html><body><h1>{html.escape(self.report)}: not ready</h1>"
                f'<p class="placeholder">{html.escape(str(exc))}</p></body></html>'
            )
        with self.lock:
            self.page = body.replace("</body>", RELOAD + "</body>")
            self.version += 1

    def watched(self) -> list[Path]:
        return [p for p in (self.project.journal / self.report, self.project.templates) if p.is_dir()]


def serve(project: Project, report: str, port: int = 0, stop: threading.Event | None = None) -> None:
    """Serve ``report`` until Ctrl-C (or ``stop``); prints the address."""
    import watchfiles

    preview, stop = Preview(project, report), stop or threading.Event()
    preview.render()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            with preview.lock:
                body, kind = (
                    (str(preview.version), "text/plain") if self.path == "/version" else (preview.page, "text/html")
                )
            data = body.encode()
            self.send_response(200)
            self.send_header("Content-Type", f"{kind}; charset=utf-8")
            self.send_header("Cache-Control", "no-store")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):  # quiet: the terminal shows re-renders, not requests
            pass

    class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
        daemon_threads = True

    server = Server((ADDRESS, port), Handler)

    def watch() -> None:
        for changes in watchfiles.watch(*preview.watched(), stop_event=stop, debounce=200):
            preview.render()
            names = ", ".join(sorted({Path(p).name for _, p in changes}))
            print(f"preview: re-rendered after a change to {names}", file=sys.stderr, flush=True)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    # Ctrl-C and SIGTERM stop it, even where SIGINT was ignored when this process started (a
    # background job of a shell); a stop from another thread (tests) needs no handler
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
    print(f"preview of {report} on http://{ADDRESS}:{server.server_address[1]}/ (Ctrl-C stops)", flush=True)
    try:
        stop.wait()
        print("preview: stopped", file=sys.stderr)
    finally:
        stop.set()
        server.shutdown()
        server.server_close()
        watcher.join(timeout=5)
