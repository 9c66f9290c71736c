"""What the dashboard's benchmarks share: a `streamlit run app/serve.py` they start and stop, its memory,
and Streamlit's websocket frames read with Streamlit's own protobufs.

Used by ``bench/ui.py`` (a real browser) and ``bench/hall.py`` (many sessions without a browser).
"""
from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Callable, Mapping, Optional

REPO = Path(__file__).resolve().parent.parent
APP = REPO / "app" / "serve.py"  # README's command: the dashboard with its start-up warm-up
READY = "vitviz: warmed up"  # serve.READY, the line it logs when the first page will come from the caches


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`streamlit run app/serve.py` on a free port, its own process group, log in a temp file.

    ``env`` adds to (or overrides) the environment, e.g. ``{"VITVIZ_CACHE_BYTES": "256M"}``.
    """

    def __init__(self, weights: Path, profile: bool = False, extra: tuple[str, ...] = (),
                 env: Optional[Mapping[str, str]] = None, port: Optional[int] = None):
        self.port = port or free_port()
        self.log = tempfile.NamedTemporaryFile("w+", prefix="vitviz-ui-", suffix=".log", delete=False)
        # The checkout is installed in place (README: pip install -r requirements.txt), so app/ imports as
        # vitviz_dashboard from this checkout.
        full_env = {**os.environ, "VITVIZ_WEIGHTS_DIR": str(weights), "HF_HUB_OFFLINE": "1",
                    # --profile: Streamlit then sends a page_profile ForwardMsg per run (exec time, per-command time)
                    "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "true" if profile else "false", **(env or {})}
        self.launched = time.monotonic()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(APP), "--server.port", str(self.port),
             "--server.address", "127.0.0.1", "--server.headless", "true",
             # no file watcher: edits to app/ during a run would show "Source file changed" in the status widget
             "--server.fileWatcherType", "none", *extra],
            cwd=REPO, env=full_env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _wait(self, ready: Callable[[], bool], what: str, timeout: float, interval: float) -> None:
        """Poll ``ready()`` every ``interval`` s until it holds; raise with the log's tail if the server
        exits first or ``timeout`` s pass (the error says it is not yet ``what``)."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise RuntimeError(f"streamlit exited ({self.proc.returncode}):\n{self.tail()}")
            if ready():
                return
            time.sleep(interval)
        raise RuntimeError(f"streamlit not {what} after {timeout:.0f} s:\n{self.tail()}")

    def wait_healthy(self, timeout: float = 120) -> None:
        def healthy() -> bool:
            with contextlib.suppress(OSError):
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=1) as r:
                    return r.status == 200
            return False

        self._wait(healthy, "healthy", timeout, 0.02)

    def wait_for_log(self, line: str, timeout: float = 300) -> None:
        self._wait(lambda: line in self.log_text(), f"showing {line!r}", timeout, 0.05)

    def log_text(self) -> str:
        self.log.flush()
        return Path(self.log.name).read_text(errors="replace")

    def tail(self, n: int = 40) -> str:
        return "".join(self.log_text().splitlines(True)[-n:])

    def memory_mib(self) -> tuple[float, float]:
        """(resident now, peak resident since start) of the server process in MiB (Linux ``/proc``)."""
        return proc_memory_mib(self.proc.pid)

    def stop(self) -> None:
        stop_group(self.proc, signal.SIGTERM)
        self.log.close()
        with contextlib.suppress(OSError):
            os.unlink(self.log.name)


def stop_group(proc: subprocess.Popen, sig: int) -> None:
    """Send ``sig`` to a process group started with ``start_new_session``; SIGKILL after 10 s without exit."""
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, sig)
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(5)


def proc_memory_mib(pid: int) -> tuple[float, float]:
    """(``VmRSS``, ``VmHWM``) of a process in MiB: resident memory now and its high-water mark, which
    the kernel keeps exactly (no sampling can miss a short peak). (nan, nan) when unreadable."""
    values = {}
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                values[key] = int(rest.split()[0]) / 1024  # kB
    return values.get("VmRSS", float("nan")), values.get("VmHWM", float("nan"))


def proc_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process has used (``/proc/PID/stat``); nan when unreadable. On a
    shared machine this, unlike wall time, barely depends on what else runs."""
    with contextlib.suppress(OSError, IndexError, ValueError):
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime (fields 14, 15)
    return float("nan")


def parse(raw: bytes | None):
    """(kind, ForwardMsg or None) of one websocket frame (frames over 64 KiB arrive truncated to 4 KiB)."""
    if raw is None:
        return "?", None
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    msg = ForwardMsg()
    try:
        msg.ParseFromString(raw)
    except Exception:  # noqa: BLE001 - truncated: read the oneof tag by hand
        return kind_by_tag(raw), None
    return msg.WhichOneof("type") or "?", msg


def kind_by_tag(raw: bytes) -> str:
    """The ForwardMsg type of a (truncated) frame, read from its first oneof field's tag."""
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    names = {f.number: f.name for f in ForwardMsg.DESCRIPTOR.oneofs_by_name["type"].fields}
    i = 0
    while i < len(raw):  # walk top-level fields until the first oneof member
        key, i = varint(raw, i)
        field, wire = key >> 3, key & 7
        if field in names:
            return names[field]
        if wire == 0:
            _, i = varint(raw, i)
        elif wire == 2:
            size, i = varint(raw, i)
            i += size
        elif wire == 1:
            i += 8
        elif wire == 5:
            i += 4
        else:
            break
    return "?"


def varint(b: bytes, i: int) -> tuple[int, int]:
    value = shift = 0
    while i < len(b):
        byte = b[i]
        i += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            break
    return value, i
