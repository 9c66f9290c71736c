"""A local stand-in for the Hugging Face hub, for tests without internet.

A real :class:`http.server.ThreadingHTTPServer` on ``127.0.0.1`` (free port) answers the part of
the hub API that ``huggingface_hub.hf_hub_download`` uses (as timm calls it for
``create_model(name, pretrained=True)``):

* ``HEAD /{repo_id}/resolve/{revision}/{filename}``: 200 with ``X-Repo-Commit`` (40 hex digits),
  ``ETag`` (the file's sha256, quoted, as the hub gives for LFS files), ``X-Linked-Etag``,
  ``X-Linked-Size`` and ``Content-Length``; a missing file is 404 with ``X-Error-Code: EntryNotFound``
  and a missing repo 404 with ``X-Error-Code: RepoNotFound``, as on the hub;
* ``GET`` on the same path: the bytes, honouring ``Range: bytes=N-`` with 206 (huggingface_hub
  resumes an interrupted download that way).

``hub.fault`` makes it misbehave, for every request from then on:

* ``"404"``: every resolve answers 404 RepoNotFound;
* ``"500"``: every request answers 500;
* ``"stall"``: accepts the connection and never answers;
* ``"stall-body"``: HEAD answers normally; GET sends the headers, then nothing;
* ``"truncate"``: GET claims the full ``Content-Length`` but sends only the first half of the
  file, then closes; a resumed GET (``Range`` past that half) sends headers and closes at once.

Every request is logged in ``hub.requests`` as ``(method, path)``. Stalled handlers wait on an
event that :meth:`FakeHub.close` sets, so shutting down never hangs.
"""
from __future__ import annotations

import hashlib
import http.server
import re
import threading
from typing import Optional

COMMIT = "0123456789abcdef0123456789abcdef01234567"
_RESOLVE = re.compile(r"^/(?P<repo>[^/]+/[^/]+)/resolve/(?P<revision>[^/]+)/(?P<filename>.+)$")


class FakeHub:
    """``with FakeHub({"timm/x": {"model.safetensors": b"..."}}) as hub: hub.url ...``"""

    def __init__(self, repos: dict[str, dict[str, bytes]]):
        self.repos = repos
        self.fault: Optional[str] = None
        self.requests: list[tuple[str, str]] = []
        self._release = threading.Event()
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="fakehub", daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> "FakeHub":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Stop serving and free the port (idempotent); stalled handlers are released first."""
        self._release.set()
        if self._thread.is_alive():  # shutdown() would wait forever for a loop that never ran
            self._server.shutdown()
        self._server.server_close()

    def _handler_class(self):
        hub = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:  # keep test output clean
                pass

            def do_HEAD(self) -> None:
                self._answer(body=False)

            def do_GET(self) -> None:
                self._answer(body=True)

            def _stall(self) -> None:
                hub._release.wait(120)
                self.close_connection = True

            def _error(self, status: int, code: Optional[str] = None, message: str = "") -> None:
                payload = f'{{"error": "{message or status}"}}'.encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                if code == "EntryNotFound":  # the repo exists, so the hub names its commit
                    self.send_header("X-Repo-Commit", COMMIT)
                if code:
                    self.send_header("X-Error-Code", code)
                    self.send_header("X-Error-Message", message)
                self.end_headers()
                if self.command == "GET":
                    self.wfile.write(payload)

            def _answer(self, body: bool) -> None:
                hub.requests.append((self.command, self.path))
                fault = hub.fault
                if fault == "stall":
                    return self._stall()
                if fault == "500":
                    return self._error(500, message="Internal Server Error")
                match = _RESOLVE.match(self.path.split("?")[0])
                if match is None:
                    return self._error(404, "RepoNotFound", "Repository not found")
                repo, filename = match["repo"], match["filename"]
                if fault == "404" or repo not in hub.repos:
                    return self._error(404, "RepoNotFound", "Repository not found")
                data = hub.repos[repo].get(filename)
                if data is None:
                    return self._error(404, "EntryNotFound", f"{filename} does not exist on main")
                etag = f'"{hashlib.sha256(data).hexdigest()}"'
                start = 0
                rng = re.match(r"bytes=(\d+)-$", self.headers.get("Range", ""))
                if body and rng:
                    start = min(int(rng[1]), len(data))
                self.send_response(206 if start else 200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(len(data) - start))
                if start:
                    self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
                self.send_header("Accept-Ranges", "bytes")
                self.send_header("ETag", etag)
                self.send_header("X-Linked-Etag", etag)
                self.send_header("X-Linked-Size", str(len(data)))
                self.send_header("X-Repo-Commit", COMMIT)
                self.end_headers()
                if not body:
                    return
                if fault == "stall-body":
                    self.wfile.flush()
                    return self._stall()
                if fault == "truncate":
                    half = len(data) // 2
                    self.wfile.write(data[start:half] if start < half else b"")
                    self.wfile.flush()
                    self.close_connection = True
                    return
                self.wfile.write(data[start:])

        return Handler
