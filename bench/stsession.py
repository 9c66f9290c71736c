"""One Streamlit browser session without a browser: the websocket protocol the front end speaks,
with Streamlit's own protobufs (``BackMsg`` out, ``ForwardMsg`` in), on asyncio.

What a browser does and this does too: ``GET /`` for the cookies (Streamlit's XSRF cookie, and a
proxy's routing cookie), the websocket at ``/_stcore/stream`` with the ``streamlit`` subprotocol,
a ``rerun_script`` with the page's URL path and query string, widget changes as ``rerun_script``
with the widget's new state (and the fragment it lives in, so only that fragment reruns), and an
upload as the front end makes it: ``file_urls_request`` → ``file_urls_response`` → a multipart
``PUT`` to the URL given, with the ``X-Xsrftoken`` header → the uploader's widget state.

What it does not: fetch the front end's JavaScript, draw anything, or send the states of widgets
it did not change (the server keeps their last values).
"""
from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import Optional
from urllib.parse import urlsplit

XSRF_COOKIE = "_streamlit_xsrf"
FINISHED = {0: "ok", 1: "compile error", 2: "early for rerun", 3: "fragment ok"}


@dataclass
class Widget:
    """The last element seen for a widget label: its proto (``slider``, ``radio``, …) and its fragment."""

    kind: str
    proto: object
    fragment_id: str


@dataclass
class RunResult:
    """One script run as the client saw it: seconds from request to ``script_finished``, bytes, errors."""

    seconds: float
    status: str
    bytes: int
    errors: list[str] = field(default_factory=list)
    labels: set[str] = field(default_factory=set)  # the widgets this run drew


class SessionError(RuntimeError):
    pass


async def http_request(base: str, method: str, path: str, *, headers: Optional[dict[str, str]] = None,
                       body: bytes = b"", timeout: float = 60) -> tuple[int, dict[str, list[str]], bytes]:
    """A minimal HTTP/1.1 request (``Connection: close``) on asyncio: (status, headers, body)."""
    parts = urlsplit(base)
    host, port = parts.hostname, parts.port or 80
    reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    try:
        lines = [f"{method} {path} HTTP/1.1", f"Host: {host}:{port}", "Connection: close",
                 f"Content-Length: {len(body)}"]
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        await writer.drain()
        raw = await asyncio.wait_for(reader.read(), timeout)
    finally:
        writer.close()
    head, _, payload = raw.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    got: dict[str, list[str]] = {}
    for line in header_lines:
        k, _, v = line.partition(":")
        got.setdefault(k.strip().lower(), []).append(v.strip())
    return int(status_line.split()[1]), got, payload


class Session:
    """One simulated visitor of ``base`` (``http://host:port``): open a page, change a widget, upload."""

    def __init__(self, base: str):
        self.base = base.rstrip("/")
        self.cookies: dict[str, str] = {}
        self.ws = None
        self.session_id = ""
        self.page_script_hash = ""
        self.query_string = ""
        self.widgets: dict[str, Widget] = {}
        self._frames: asyncio.Queue = asyncio.Queue()
        self._reader: Optional[asyncio.Task] = None
        self._file_urls: dict[str, object] = {}

    # --- connection ------------------------------------------------------------------------
    def cookie_header(self) -> dict[str, str]:
        return {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())} if self.cookies else {}

    async def fetch_cookies(self) -> None:
        """``GET /`` and ``GET /_stcore/health`` as a browser's first requests: keeps the cookies they
        set (a proxy's route cookie; Streamlit sets its XSRF cookie on the health check)."""
        for path in ("/", "/_stcore/health"):
            status, headers, _ = await http_request(self.base, "GET", path, headers=self.cookie_header())
            if status != 200:
                raise SessionError(f"GET {path} answered {status}")
            for value in headers.get("set-cookie", []):
                jar = SimpleCookie()
                jar.load(value)
                self.cookies.update({k: m.value for k, m in jar.items()})

    async def open(self, page: str, query: str, timeout: float) -> RunResult:
        """Connect and run ``page`` (its URL path, e.g. ``attention``) with ``query`` (``a=1&b=2``)."""
        import websockets

        self.query_string = query
        ws_url = "ws" + self.base[4:] + "/_stcore/stream"
        xsrf = self.cookies.get(XSRF_COOKIE)
        self.ws = await asyncio.wait_for(websockets.connect(
            # the front end's subprotocols: "streamlit", then the XSRF token (Streamlit reads it there)
            ws_url, subprotocols=["streamlit", *([xsrf] if xsrf else [])], max_size=None, additional_headers=self.cookie_header(),
            open_timeout=timeout, ping_interval=None), timeout)
        self._reader = asyncio.create_task(self._read())
        from streamlit.proto.BackMsg_pb2 import BackMsg

        msg = BackMsg()
        msg.rerun_script.query_string = query
        msg.rerun_script.page_name = page
        return await self._run(msg, timeout)

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        if self._reader is not None:
            self._reader.cancel()

    async def _read(self) -> None:
        try:
            async for frame in self.ws:
                await self._frames.put((time.perf_counter(), frame))
        finally:
            await self._frames.put((time.perf_counter(), None))

    # --- runs ------------------------------------------------------------------------------
    async def _run(self, back_msg, timeout: float) -> RunResult:
        """Send ``back_msg``; read frames until a run finishes (not one cut short by a rerun)."""
        t0 = time.perf_counter()
        await self.ws.send(back_msg.SerializeToString())
        return await self._until_finished(t0, timeout)

    async def _until_finished(self, t0: float, timeout: float) -> RunResult:
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        nbytes, errors, labels = 0, [], set()
        end = t0 + timeout
        while True:
            left = end - time.perf_counter()
            if left <= 0:
                raise SessionError(f"no script_finished within {timeout:.0f} s")
            try:
                t, frame = await asyncio.wait_for(self._frames.get(), left)
            except asyncio.TimeoutError:
                raise SessionError(f"no script_finished within {timeout:.0f} s") from None
            if frame is None:
                raise SessionError("websocket closed by the server")
            nbytes += len(frame)
            msg = ForwardMsg()
            msg.ParseFromString(frame)
            kind = msg.WhichOneof("type")
            if kind == "new_session":
                self.session_id = msg.new_session.initialize.session_id or self.session_id
            elif kind == "navigation":  # st.navigation names the page that ran (new_session names the entry script)
                self.page_script_hash = msg.navigation.page_script_hash
            elif kind == "page_info_changed":
                self.query_string = msg.page_info_changed.query_string
            elif kind == "delta":
                self._on_delta(msg.delta, errors, labels)
            elif kind == "file_urls_response":
                self._file_urls[msg.file_urls_response.response_id] = msg.file_urls_response
            elif kind == "script_finished":
                status = FINISHED.get(msg.script_finished, str(msg.script_finished))
                if status != "early for rerun":
                    return RunResult(t - t0, status, nbytes, errors, labels)

    def _on_delta(self, delta, errors: list[str], labels: set[str]) -> None:
        if delta.WhichOneof("type") != "new_element":
            return
        el = delta.new_element
        kind = el.WhichOneof("type")
        if kind == "exception":
            errors.append(f"exception: {el.exception.type}: {el.exception.message[:200]}")
        elif kind == "alert" and el.alert.format == 1:  # ERROR
            errors.append(f"error: {el.alert.body[:200]}")
        elif kind in ("slider", "radio", "file_uploader", "selectbox"):
            proto = getattr(el, kind)
            self.widgets[proto.label] = Widget(kind, proto, delta.fragment_id)
            labels.add(proto.label)

    async def change(self, label: str, timeout: float, **state) -> RunResult:
        """Set the widget labelled ``label`` (``double_array_value=[3]``, ``string_value="x"``, …) and
        wait for its rerun (the fragment's alone when the widget lives in one)."""
        from streamlit.proto.BackMsg_pb2 import BackMsg

        w = self.widgets.get(label)
        if w is None:
            raise SessionError(f"no widget labelled {label!r} on the page")
        msg = BackMsg()
        rerun = msg.rerun_script
        rerun.query_string = self.query_string
        rerun.page_script_hash = self.page_script_hash
        if w.fragment_id:
            rerun.fragment_id = w.fragment_id
        ws = rerun.widget_states.widgets.add()
        ws.id = w.proto.id
        for name, value in state.items():
            target = getattr(ws, name)
            if hasattr(target, "data"):
                target.data.extend(value)
            elif hasattr(target, "CopyFrom"):
                target.CopyFrom(value)
            else:
                setattr(ws, name, value)
        return await self._run(msg, timeout)

    async def upload(self, label: str, name: str, data: bytes, content_type: str, timeout: float) -> RunResult:
        """Upload ``data`` through the uploader labelled ``label`` as the front end does; returns the rerun."""
        from streamlit.proto.BackMsg_pb2 import BackMsg
        from streamlit.proto.Common_pb2 import UploadedFileInfo

        w = self.widgets.get(label)
        if w is None or w.kind != "file_uploader":
            raise SessionError(f"no file uploader labelled {label!r} on the page")
        request_id = uuid.uuid4().hex
        msg = BackMsg()
        msg.file_urls_request.request_id = request_id
        msg.file_urls_request.file_names.append(name)
        msg.file_urls_request.session_id = self.session_id
        await self.ws.send(msg.SerializeToString())
        end = time.perf_counter() + timeout
        while request_id not in self._file_urls:  # frames are read by _until_finished; a response is one
            if time.perf_counter() > end:
                raise SessionError("no file_urls_response")
            t, frame = await asyncio.wait_for(self._frames.get(), max(0.01, end - time.perf_counter()))
            if frame is None:
                raise SessionError("websocket closed by the server")
            from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

            fwd = ForwardMsg()
            fwd.ParseFromString(frame)
            if fwd.WhichOneof("type") == "file_urls_response":
                self._file_urls[fwd.file_urls_response.response_id] = fwd.file_urls_response
        response = self._file_urls.pop(request_id)
        if response.error_msg:
            raise SessionError(f"upload refused: {response.error_msg}")
        urls = response.file_urls[0]
        boundary = uuid.uuid4().hex
        body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n"
                f"Content-Type: {content_type}\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
        headers = {"Content-Type": f"multipart/form-data; boundary={boundary}", **self.cookie_header()}
        if XSRF_COOKIE in self.cookies:
            headers["X-Xsrftoken"] = self.cookies[XSRF_COOKIE]
        path = urlsplit(urls.upload_url).path if "://" in urls.upload_url else urls.upload_url
        status, _, reply = await http_request(self.base, "PUT", "/" + path.lstrip("/"), headers=headers, body=body,
                                              timeout=timeout)
        if status not in (200, 204):
            raise SessionError(f"upload PUT answered {status}: {reply[:200]!r}")
        info = UploadedFileInfo(name=name, size=len(data), file_id=urls.file_id)
        info.file_urls.CopyFrom(urls)
        state = BackMsg().rerun_script.widget_states.widgets.add()  # a throwaway to build the oneof value
        state.file_uploader_state_value.uploaded_file_info.append(info)
        return await self.change(label, timeout, file_uploader_state_value=state.file_uploader_state_value)
