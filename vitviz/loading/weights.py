"""Local weights folders: the offline source of pretrained weights.

Folder format (as in ``shared/weights/README.md``)::

    <name>.safetensors   timm state dict of the architecture below (preferred)
    <name>.pth | .bin    alternatively, a torch checkpoint, read with weights_only=True
    <name>.json          optional: {"architecture", "kwargs", "num_classes", "label",
                         "family", "description", "input_size", "mean", "std", "sha256"}

Without a JSON sidecar, ``<name>`` must be a timm tag (``arch.tag``) so the
architecture is known. The folder comes from an argument or ``VITVIZ_WEIGHTS_DIR``.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Optional, TypeVar

from vitviz.errors import UnknownModelError, VitvizError, WeightsError, WeightsNotFoundError
from vitviz.loading.registry import ModelSpec, guess_kind

ENV_VAR = "VITVIZ_WEIGHTS_DIR"
T = TypeVar("T")
WEIGHT_SUFFIXES = (".safetensors", ".pth", ".bin")  # in order of preference


#: The folder looked in when neither an argument nor ``$VITVIZ_WEIGHTS_DIR`` names one (relative to the
#: current directory: in a checkout, ``weights/`` beside ``app/``).
DEFAULT_DIR = Path("weights")


def weights_dir(explicit: str | os.PathLike | None = None) -> Optional[Path]:
    """The weights folder, one rule for the CLI and the app: the explicit argument, else ``$VITVIZ_WEIGHTS_DIR``,
    else ``weights/`` in the current directory when there is one, else None (the Hugging Face cache and hub)."""
    value = explicit if explicit is not None else os.environ.get(ENV_VAR)
    if value:
        return Path(value).expanduser()
    return DEFAULT_DIR.resolve() if DEFAULT_DIR.is_dir() else None


@dataclass(frozen=True)
class LocalWeights:
    """A weights file found in a folder, with its parsed JSON sidecar (or {})."""

    name: str
    path: Path
    meta: dict[str, Any]


def check_model_name(name: str) -> str:
    """``name`` unchanged when it is a name, not a path: no path separator, no ``..``, no NUL.

    A weights folder is looked up as ``<folder>/<name>.safetensors``, so a "name" such as
    ``../outside/m`` would load a file outside the folder; timm tags never hold these characters.

    Raises:
        UnknownModelError: the name holds a path separator, ``..`` or NUL, or is empty.
    """
    seps = {"/", "\\", os.sep, os.altsep or "/", "\0"}
    if not name or any(c in name for c in seps) or ".." in name:
        raise UnknownModelError(f"model name {name!r} is not a name (model names hold no '/', '\\' or '..'); "
                                f"run 'python -m vitviz models' for the list")
    return name


def find_local_weights(name: str, folder: Optional[Path]) -> Optional[LocalWeights]:
    """Return the weights file for ``name`` in ``folder``, or None if absent.

    Raises:
        UnknownModelError: ``name`` is a path, not a name (:func:`check_model_name`).
    """
    check_model_name(name)
    if folder is None or not folder.is_dir():
        return None
    for suffix in WEIGHT_SUFFIXES:
        path = folder / f"{name}{suffix}"
        if path.is_file():
            sidecar = folder / f"{name}.json"
            return LocalWeights(name, path, read_sidecar(sidecar) if sidecar.is_file() else {})
    return None


def read_sidecar(path: Path) -> dict[str, Any]:
    """Parse and check a ``<name>.json`` sidecar."""
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise WeightsError(f"cannot read weights description {path}: {exc}") from exc
    if not isinstance(meta, dict):
        raise WeightsError(f"weights description {path} must hold a JSON object")
    if "kwargs" in meta and not isinstance(meta["kwargs"], dict):
        raise WeightsError(f"weights description {path}: 'kwargs' must be an object")
    return meta


def spec_from_local(local: LocalWeights, base: Optional[ModelSpec] = None) -> ModelSpec:
    """Build a :class:`ModelSpec` from a sidecar, filling gaps from a registry spec."""
    meta = local.meta
    # Without a sidecar the full tag goes to timm, which then knows the tag's preprocessing.
    arch = meta.get("architecture") or local.name
    kwargs = dict(meta.get("kwargs") or {})
    num_classes = meta.get("num_classes", kwargs.get("num_classes", base.num_classes if base else None))
    kind = base.kind if base else guess_kind(arch)

    def tup(key: str) -> Optional[tuple]:
        value = meta.get(key)
        return tuple(value) if value is not None else (getattr(base, key) if base else None)

    return ModelSpec(
        name=local.name,
        label=meta.get("label") or (base.label if base else local.name),
        family=meta.get("family") or (base.family if base else "Local"),
        kind=kind,
        architecture=arch,
        kwargs=kwargs,
        num_classes=num_classes,
        description=meta.get("description") or (base.description if base else ""),
        input_size=tup("input_size"),
        mean=tup("mean"),
        std=tup("std"),
        sha256=meta.get("sha256"),
        local=True,
    )


def scan_weights_dir(folder: Optional[Path]) -> list[LocalWeights]:
    """Every usable weights file in ``folder`` (sorted by name); unreadable sidecars are skipped."""
    if folder is None or not folder.is_dir():
        return []
    found: dict[str, LocalWeights] = {}
    for path in sorted(folder.iterdir()):
        if path.suffix not in WEIGHT_SUFFIXES or path.stem in found:
            continue
        try:
            local = find_local_weights(path.stem, folder)
        except WeightsError:
            continue
        if local is not None and (local.meta or "." in local.name):
            found[local.name] = local
    return list(found.values())


def sha256sum(path: Path, chunk: int = 1 << 20) -> str:
    """Hex SHA-256 of a file."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def load_state_dict(path: Path) -> dict[str, Any]:
    """Read a state dict from safetensors, or from a torch file with ``weights_only=True``.

    Raises:
        WeightsError: the file is truncated, corrupt, or needs unsafe unpickling.
    """
    import torch

    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            state = load_file(str(path), device="cpu")
        else:
            state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # safetensors and pickle raise many types; all mean "unusable file"
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise WeightsError(f"cannot read weights file {path}: {reason[:300]}") from exc
    if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    if isinstance(state, dict) and "model" in state and isinstance(state["model"], dict):
        state = state["model"]
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise WeightsError(f"weights file {path} does not hold a state dict of tensors")
    return state


def hub_repo_id(name: str) -> Optional[str]:
    """The Hugging Face repo timm downloads a tagged model from (``timm/<arch>.<tag>``)."""
    return f"timm/{name}" if "." in name else None


def hf_hub_cache() -> Path:
    """The Hugging Face cache folder, with huggingface_hub's precedence, read now (huggingface_hub reads
    it once, at import): ``$HF_HUB_CACHE``, ``$HUGGINGFACE_HUB_CACHE``, ``$HF_HOME/hub``,
    ``$XDG_CACHE_HOME/huggingface/hub``, ``~/.cache/huggingface/hub``."""
    for var in ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE"):
        if os.environ.get(var):
            return Path(os.environ[var]).expanduser()
    if os.environ.get("HF_HOME"):
        return Path(os.environ["HF_HOME"]).expanduser() / "hub"
    xdg = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache").expanduser()
    return xdg / "huggingface" / "hub"


def hub_cached_file(name: str) -> Optional[Path]:
    """A weights file for ``name`` already in the Hugging Face cache, found without network."""
    from huggingface_hub import try_to_load_from_cache

    repo = hub_repo_id(name)
    if repo is None:
        return None
    for filename in ("model.safetensors", "pytorch_model.bin"):
        # huggingface_hub's own lookup: the snapshot refs/main names, not whichever snapshot sorts first
        found = try_to_load_from_cache(repo, filename, cache_dir=hf_hub_cache())
        if isinstance(found, str) and Path(found).is_file():
            return Path(found)
    return None


# --------------------------------------------------------------------------- hub downloads
HUB_TIMEOUT_VAR = "VITVIZ_HUB_TIMEOUT"
DEFAULT_HUB_TIMEOUT = 30.0  # s without progress; more than huggingface_hub's 23 s of retry pauses
_WORKER_PREFIX = "vitviz-hub-"


class HubDownloadError(WeightsNotFoundError):
    """A download from the hub failed; ``reason`` says what failed in a few words."""

    def __init__(self, name: str, reason: str):
        repo = hub_repo_id(name)
        where = f"{hub_endpoint()}/{repo}" if repo else hub_endpoint()
        super().__init__(f"could not download '{name}' from {where}: {reason}")
        self.name, self.reason = name, reason


def hub_endpoint() -> str:
    """The hub address huggingface_hub uses (``$HF_ENDPOINT`` or https://huggingface.co)."""
    return os.environ.get("HF_ENDPOINT", "https://huggingface.co").rstrip("/")


def hub_offline() -> bool:
    """Whether ``$HF_HUB_OFFLINE`` forbids downloads (read as huggingface_hub reads it)."""
    value = os.environ.get("HF_HUB_OFFLINE") or os.environ.get("TRANSFORMERS_OFFLINE") or ""
    return value.upper() in {"1", "ON", "YES", "TRUE"}


def hub_timeout() -> float:
    """Seconds a hub download may go without progress: ``$VITVIZ_HUB_TIMEOUT``, default 30."""
    try:
        return max(1.0, float(os.environ.get(HUB_TIMEOUT_VAR, DEFAULT_HUB_TIMEOUT)))
    except ValueError:
        return DEFAULT_HUB_TIMEOUT


def _hub_cache_state(cache: Path) -> tuple[tuple[int, int], int]:
    """((files, bytes) under every repo's ``blobs/``, number of complete blobs).

    The whole cache is watched, not one repo's folder: for an untagged name (timm picks the
    default tag) or a model hosted outside ``timm/`` the repo is not known here.
    """
    files = size = complete = 0
    for blobs in cache.glob("*/blobs"):
        try:
            entries = list(blobs.iterdir())
        except OSError:  # removed while listing
            continue
        for path in entries:
            try:
                size += path.stat().st_size
            except OSError:  # renamed between listing and stat
                continue
            files += 1
            complete += not path.name.endswith(".incomplete")
    return (files, size), complete


def hub_failure(exc: BaseException) -> str:
    """What went wrong in a hub download, in a few words, from the exception and its causes."""
    chain: list[BaseException] = []
    seen: set[int] = set()
    current: Optional[BaseException] = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        chain.append(current)
        current = current.__cause__ or current.__context__
    names = [{c.__name__ for c in type(e).__mro__} for e in chain]
    for e, mro in zip(chain, names):
        response = getattr(e, "response", None)
        status = getattr(response, "status_code", None)
        if isinstance(status, int) and status >= 400:
            if "RepositoryNotFoundError" in mro:
                return f"HTTP {status}, the hub has no such repository"
            if "EntryNotFoundError" in mro:
                return f"HTTP {status}, the repository has no weights file"
            return f"the hub answered HTTP {status}"
    for e, mro in zip(chain, names):
        if "OfflineModeIsEnabled" in mro:
            return "HF_HUB_OFFLINE is set, so the hub is not asked"
        if "TimeoutException" in mro:
            return "the hub did not answer in time"
        if "RemoteProtocolError" in mro or "Consistency check failed" in str(e):
            return "the connection closed before the file was complete"
        if "ConnectError" in mro:
            return "cannot connect to the hub"
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:160]


class _WorkerLogs(logging.Filter):
    """Takes huggingface_hub's warnings from vitviz's download threads out of the log.

    A stalled or failing download makes huggingface_hub log a warning per retry; the user gets
    one line from vitviz instead, summarised from these. Installed for good, not per download,
    because an abandoned download thread goes on retrying (and logging) after vitviz gave up.
    """

    def __init__(self) -> None:
        super().__init__()
        self.messages: dict[str, list[str]] = {}
        self._lock = threading.Lock()

    def filter(self, record: logging.LogRecord) -> bool:
        thread = record.threadName or ""
        if not thread.startswith(_WORKER_PREFIX):
            return True
        with self._lock:
            self.messages.setdefault(thread, []).append(record.getMessage())
        return False

    def pop(self, thread_name: str) -> list[str]:
        with self._lock:
            return self.messages.pop(thread_name, [])


_worker_logs = _WorkerLogs()


def _silence_hub_workers() -> None:
    """Put :data:`_worker_logs` on every huggingface_hub logger and its handlers (idempotent).

    A logger's filter only sees records logged on that very logger, so it goes on each module
    logger; the handlers' filter catches modules whose logger appears later.
    """
    import huggingface_hub.file_download  # noqa: F401 (creates the loggers a download uses)

    loggers = [logging.getLogger(name) for name in list(logging.root.manager.loggerDict)
               if name == "huggingface_hub" or name.startswith("huggingface_hub.")]
    for hub_logger in loggers:
        for target in (hub_logger, *hub_logger.handlers):
            if _worker_logs not in target.filters:
                target.addFilter(_worker_logs)


def _summarise_hub_warnings(messages: list[str]) -> str:
    """The most telling of huggingface_hub's retry warnings, in a few words."""
    for message in reversed(messages):
        status = re.search(r"HTTP Error (\d+)", message)
        if status:
            return f"the hub answered HTTP {status[1]}"
        lower = message.lower()
        if "peer closed connection" in lower or "connection reset" in lower or "incomplete" in lower:
            return "the connection closed before the file was complete"
        if "timed out" in lower or "timeout" in lower:
            return "the hub did not answer in time"
    return "the hub did not answer"


def fetch_from_hub(name: str, fetch: Callable[[], T], *, timeout: Optional[float] = None) -> T:
    """Run ``fetch`` (timm's ``pretrained=True`` download of ``name``), bounded when it stalls.

    huggingface_hub retries a request that gets no answer several times, with long timeouts,
    so a stalled hub would hold a user for minutes. ``fetch`` runs in a daemon thread while
    this thread watches the Hugging Face cache: after ``timeout`` seconds (default
    :func:`hub_timeout`) with no new bytes there, it gives up and leaves the thread behind.
    Once a new file is complete there is no limit on building the model.
    huggingface_hub's retry warnings are summarised instead of printed; its progress bar shows.

    Raises:
        HubDownloadError: one line naming the model, the hub and what failed.
    """
    limit = hub_timeout() if timeout is None else timeout
    cache = hf_hub_cache()
    result: dict[str, Any] = {}

    def work() -> None:
        try:
            result["value"] = fetch()
        except BaseException as exc:  # handed to the waiting thread
            result["error"] = exc

    _silence_hub_workers()
    worker = threading.Thread(target=work, name=f"{_WORKER_PREFIX}{name}-{time.monotonic_ns()}", daemon=True)
    state, complete_before = _hub_cache_state(cache)
    last_change = time.monotonic()
    worker.start()
    while worker.is_alive():
        worker.join(0.2)
        now_state, complete = _hub_cache_state(cache)
        if now_state != state:
            state, last_change = now_state, time.monotonic()
        if complete > complete_before:  # the file is in; building the model takes what it takes
            worker.join()
        elif worker.is_alive() and time.monotonic() - last_change > limit:
            reason = _summarise_hub_warnings(_worker_logs.pop(worker.name))
            raise HubDownloadError(name, f"gave up after {limit:g} s without progress ({reason})")
    _worker_logs.pop(worker.name)  # the exception says more than the retry warnings
    if "error" in result:
        error = result["error"]
        if isinstance(error, (KeyboardInterrupt, SystemExit, VitvizError)):
            raise error
        raise HubDownloadError(name, hub_failure(error)) from error
    return result["value"]
