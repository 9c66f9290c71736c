"""Guards for commands that write to disk: an output folder checked before any work, an exclusive
lock on a run's output folder, and a watch that stops a rank whose launcher is gone.

Standard library only (the CLI imports it before torch). POSIX: the lock is ``fcntl.flock``, held
by an open file and dropped by the kernel when the process ends however it ends (SIGKILL too), so a
stale lock never outlives its run. On a platform without ``fcntl`` the lock is a no-op.
"""
from __future__ import annotations

import os
import socket
import tempfile
import threading
import time
from pathlib import Path
from typing import Callable, Mapping, Optional, TextIO

from vitviz.errors import VitvizError

try:
    import fcntl
except ImportError:  # Windows: no flock; runs are not locked there
    fcntl = None  # type: ignore[assignment]


def check_out_folder(path: str | os.PathLike, option: str = "--out") -> Path:
    """Make sure ``path`` is, or can be made, a folder a file can be written into; return it.

    Called before any model is loaded or image read, so a wrong output folder costs nothing. A
    folder created for the check is removed again (with the parents it created), so a command that
    fails later leaves nothing behind; the command creates it when it writes.

    Raises:
        VitvizError: one line naming ``option`` and the folder: it is a file, it cannot be created, or
            nothing can be written into it (permissions, a read-only file system, a full disk).
    """
    folder = Path(path)
    if folder.exists() and not folder.is_dir():
        raise VitvizError(f"{option} {folder}: is a file, not a folder")
    created = [p for p in (folder, *folder.parents) if not p.exists()]
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # a parent is a file, no permission, read-only file system
        raise VitvizError(f"{option} {folder}: cannot create the folder ({_why(exc)})") from exc
    try:
        handle, probe = tempfile.mkstemp(prefix=".vitviz-write-test-", dir=folder)
        os.close(handle)
        os.unlink(probe)
    except OSError as exc:
        raise VitvizError(f"{option} {folder}: cannot write into the folder ({_why(exc)})") from exc
    finally:
        for made in created:  # deepest first
            try:
                made.rmdir()
            except OSError:  # someone put something there meanwhile: leave it
                break
    return folder


def _why(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__


class RunLock:
    """An advisory lock on a run's output folder: a file ``path`` locked with ``flock``.

    One run takes it exclusively (:meth:`exclusive`); the processes of one data-parallel run hold it
    shared (:meth:`share`, :meth:`shared`), so a second run is refused while any process of the first
    is alive. The file stays; its text names the process that took it last (for the refusal).
    """

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self._fh: Optional[TextIO] = None

    def _open(self) -> TextIO:
        if self._fh is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fh = open(self.path, "a+", encoding="utf-8")
        return self._fh

    def _lock(self, mode: int) -> None:
        if fcntl is None:
            return
        fh = self._open()
        try:
            fcntl.flock(fh.fileno(), mode | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = self.holder()
            self.release()
            raise VitvizError(f"another run holds {self.path.parent} ({holder or 'lock ' + str(self.path)}); wait "
                              f"for it to end or stop it, or use another --out") from None

    def holder(self) -> str:
        """Who took the lock last, as written in the file (may be empty)."""
        try:
            return " ".join(self.path.read_text(encoding="utf-8").split())[:200]
        except OSError:
            return ""

    def exclusive(self) -> "RunLock":
        """Take the lock alone and write who holds it.

        Raises:
            VitvizError: another process holds it, shared or exclusive.
        """
        self._lock(fcntl.LOCK_EX if fcntl else 0)
        fh = self._open()
        fh.seek(0)
        fh.truncate()
        fh.write(f"pid {os.getpid()} on {socket.gethostname()} since {time.strftime('%Y-%m-%d %H:%M:%S')}\n")
        fh.flush()
        return self

    def share(self) -> None:
        """Turn this process's exclusive lock into a shared one, so the other ranks can join.

        flock makes the change in two steps; another run that takes the lock between them is
        caught here (VitvizError), never missed.
        """
        self._lock(fcntl.LOCK_SH if fcntl else 0)

    def shared(self) -> "RunLock":
        """Join a lock the run's first process holds shared (see :meth:`share`).

        Raises:
            VitvizError: another run holds it exclusively.
        """
        self._lock(fcntl.LOCK_SH if fcntl else 0)
        return self

    def release(self) -> None:
        """Drop the lock (closing the file drops it; so does the end of the process)."""
        if self._fh is not None:
            self._fh.close()
            self._fh = None

    def __enter__(self) -> "RunLock":
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def probe_lock(path: str | os.PathLike) -> None:
    """Raise the refusal of :meth:`RunLock.exclusive` now if another run holds ``path``; hold nothing.

    Lets a command refuse before it loads a model; the run itself takes the lock later.
    """
    if Path(path).parent.is_dir():
        RunLock(path).exclusive().release()


def launched_by_torchrun(env: Optional[Mapping[str, str]] = None) -> bool:
    """True in a process torchrun (torch.distributed.elastic) started: it sets ``TORCHELASTIC_RUN_ID``."""
    env = os.environ if env is None else env
    return "TORCHELASTIC_RUN_ID" in env


class LauncherWatch:
    """Calls ``on_gone`` once this process's parent (the launcher) has died, checking every ``interval`` s.

    torchrun starts each rank in a session of its own, so killing torchrun (or its process group)
    leaves the ranks running; a dead parent shows as a changed ``os.getppid()`` (the orphan is
    adopted by init or a subreaper). If the process is still alive ``grace`` seconds after
    ``on_gone``, ``on_expired`` runs (e.g. save progress and ``os._exit``): a rank blocked in a
    collective op never gets back to check its stop flag.
    """

    def __init__(self, on_gone: Callable[[int], None], *, on_expired: Optional[Callable[[], None]] = None,
                 interval: float = 0.5, grace: float = 30.0, parent: Optional[int] = None):
        self.parent = os.getppid() if parent is None else parent
        self.on_gone, self.on_expired = on_gone, on_expired
        self.interval, self.grace = interval, grace
        self.gone = False
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name="vitviz-launcher-watch", daemon=True)

    def _run(self) -> None:
        while not self._done.wait(self.interval):
            if os.getppid() != self.parent:
                self.gone = True
                self.on_gone(self.parent)
                if not self._done.wait(self.grace) and self.on_expired is not None:
                    self.on_expired()
                return

    def __enter__(self) -> "LauncherWatch":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
