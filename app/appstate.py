"""What every page shares: the sidebar selection, cached model and results, errors, downloads.

Pages call :func:`selection` and :func:`analysis` and draw; nothing here computes an analysis
itself — that is :mod:`vitviz`. Models are shared by all sessions (``st.cache_resource``); per-image
results are cached per (model, weights, device, image hash, size) with a bounded number of entries.
"""
from __future__ import annotations

import dataclasses
import hashlib
import io
import os
import sys
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Mapping, Optional

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # `streamlit run app/...` puts app/ on the path, not the repo
    sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402
import pandas  # noqa: E402,F401  (plotly imports pandas lazily; doing that in 8 session threads at once
import plotly.graph_objects  # noqa: E402,F401  raced into "partially initialized module" errors)
import streamlit as st  # noqa: E402

from vitviz.catalog import list_models  # noqa: E402
from vitviz.errors import VitvizError  # noqa: E402
from vitviz.images import MAX_PIXELS, load_image  # noqa: E402
from vitviz.registry import VIT, ModelSpec  # noqa: E402
from vitviz.weights import find_local_weights, hub_cached_file  # noqa: E402

SAMPLES = REPO / "assets" / "samples"
UPLOAD_TYPES = ["jpg", "jpeg", "png", "webp", "bmp", "tif", "tiff", "gif"]
PLOT_CONFIG = {"displaylogo": False, "toImageButtonOptions": {"format": "png", "scale": 2}}


def weights_dir() -> Optional[str]:
    """``$VITVIZ_WEIGHTS_DIR``, else ``weights/`` in the repository if it exists."""
    value = os.environ.get("VITVIZ_WEIGHTS_DIR")
    if value:
        return value
    local = REPO / "weights"
    return str(local) if local.is_dir() else None


@dataclass(frozen=True)
class Selection:
    """The sidebar's choices for this rerun."""

    model: str
    pretrained: bool
    device: str
    weights_dir: Optional[str]
    image_label: str
    image_key: str  # sha256 of the bytes: cache key, never a file name
    image_bytes: bytes
    size: Optional[tuple[int, int]]


# --------------------------------------------------------------------------- cached computation
# One model computation at a time for the whole server: sessions share the CPU cores (or the GPU)
# anyway, and running eight forwards at once only multiplies peak memory and thread contention.
COMPUTE_LOCK = threading.Lock()


@st.cache_resource(max_entries=4, show_spinner="Loading the model…")
def cached_model(name: str, folder: Optional[str], device: str, pretrained: bool):
    from vitviz.models import load_model

    # A load that raises is not cached by Streamlit, so the next attempt starts clean.
    with COMPUTE_LOCK:
        return load_model(name, weights_dir=folder, device=device, pretrained=pretrained, use_cache=False)


@st.cache_resource(max_entries=8, show_spinner="Running the model on the image…")
def cached_analysis(name: str, folder: Optional[str], device: str, pretrained: bool, image_key: str,
                    size: Optional[tuple[int, int]], _image_bytes: bytes):
    from vitviz.pipeline import analyze_image

    loaded = cached_model(name, folder, device, pretrained)
    image = load_image(_image_bytes)
    with COMPUTE_LOCK:
        return analyze_image(loaded, image, size)


def model(sel: Selection):
    return cached_model(sel.model, sel.weights_dir, sel.device, sel.pretrained)


def analysis(sel: Selection):
    """The per-image results for the current selection (computed once, then cached).

    If the GPU runs out of memory, the caches are freed, this view is computed on the CPU, and the
    session stays on the CPU (the sidebar says so); other sessions are not affected.
    """
    try:
        return cached_analysis(sel.model, sel.weights_dir, sel.device, sel.pretrained, sel.image_key, sel.size,
                               sel.image_bytes)
    except Exception as exc:
        if not _is_oom(exc) or sel.device == "cpu":
            raise
        free_gpu_memory()
        st.session_state["_vv_force_cpu"] = True
        st.warning("The GPU ran out of memory: cached models and results were freed and this view was computed "
                   "on the CPU. This session stays on the CPU.", icon="⚠️")
        return cached_analysis(sel.model, sel.weights_dir, "cpu", sel.pretrained, sel.image_key, sel.size,
                               sel.image_bytes)


def _is_oom(exc: BaseException) -> bool:
    import torch

    return isinstance(exc, torch.cuda.OutOfMemoryError) or "out of memory" in str(exc).lower()


def free_gpu_memory() -> None:
    """Drop every cached model and result (they hold GPU memory) and return it to the driver."""
    import torch

    st.cache_resource.clear()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


@st.cache_data(max_entries=32, show_spinner=False)
def sample_bytes(name: str) -> bytes:
    return (SAMPLES / f"{name}.jpg").read_bytes()


def sample_names() -> list[str]:
    return sorted(p.stem for p in SAMPLES.glob("*.jpg"))


# --------------------------------------------------------------------------- sidebar
def availability(spec: ModelSpec, folder: Optional[str]) -> Optional[str]:
    """None when pretrained weights can be had, else why not (for the picker)."""
    if find_local_weights(spec.name, Path(folder) if folder else None) or hub_cached_file(spec.name):
        return None
    from vitviz.models import hub_reachable

    if hub_reachable(timeout=1.5):
        return None
    return "no local weights and the Hugging Face hub is unreachable"


def _init_from_query_params(vit_specs: list[ModelSpec]) -> None:
    """On a session's first run, take model and sample from the URL (deep links)."""
    if st.session_state.get("_vv_init"):
        return
    st.session_state["_vv_init"] = True
    params = st.query_params
    names = [s.name for s in vit_specs]
    if params.get("model") in names:
        st.session_state["vv_model"] = params["model"]
    if params.get("sample") in sample_names():
        st.session_state["vv_sample"] = params["sample"]
        st.session_state["vv_source"] = "Sample"


def selection(page: str) -> Optional[Selection]:
    """Draw the shared sidebar and return its choices, or None (with a hint shown) if nothing to show yet.

    Every page calls this with its own name. Streamlit scopes widget state to the page that draws
    the widget, so the sidebar's values are mirrored in plain session keys and restored when the
    user arrives on another page.
    """
    st.session_state["_vv_hint"] = None
    if st.session_state.get("_vv_page") != page:
        st.session_state["_vv_page"] = page
        _restore()
    sel = _draw_sidebar()
    if sel is None and st.session_state.get("_vv_hint"):
        st.info(st.session_state["_vv_hint"])
    return sel


PERSISTENT = ("vv_model", "vv_untrained", "vv_device", "vv_source", "vv_sample", "vv_size")


def _restore() -> None:
    for key in PERSISTENT:
        if f"_keep_{key}" in st.session_state:
            st.session_state[key] = st.session_state[f"_keep_{key}"]


def _keep() -> None:
    for key in PERSISTENT:
        if key in st.session_state:
            st.session_state[f"_keep_{key}"] = st.session_state[key]


def _draw_sidebar() -> Optional[Selection]:
    folder = weights_dir()
    specs = [s for s in list_models(folder) if s.kind == VIT]
    _init_from_query_params(specs)
    try:
        return _sidebar_widgets(folder, specs)
    finally:
        _keep()


def _sidebar_widgets(folder: Optional[str], specs: list[ModelSpec]) -> Optional[Selection]:
    by_name = {s.name: s for s in specs}
    side = st.sidebar
    side.markdown("### Model")
    reasons = {n: availability(s, folder) for n, s in by_name.items()}
    name = side.selectbox("Model", list(by_name), key="vv_model", label_visibility="collapsed",
                          format_func=lambda n: f"{by_name[n].family} · {by_name[n].label}"
                                                + (" — unavailable offline" if reasons[n] else ""))
    spec = by_name[name]
    reason = reasons[name]
    pretrained = True
    if reason:
        side.warning(f"Pretrained weights unavailable: {reason}. See the README's *Weights* section.")
        pretrained = not side.checkbox("Use untrained (random) weights", key="vv_untrained")
    if spec.description:
        side.caption(spec.description)

    import torch

    devices = ["auto", "cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    device = side.selectbox("Device", devices, key="vv_device")
    if "cuda" not in devices:
        side.caption("CUDA: no GPU on this machine, running on CPU.")
    if st.session_state.get("_vv_force_cpu") and device != "cpu":
        device = "cpu"
        side.caption("Running on the CPU: the GPU ran out of memory earlier in this session.")

    side.markdown("### Image")
    source = side.radio("Image source", ["Sample", "Upload", "Camera"], key="vv_source", horizontal=True,
                        label_visibility="collapsed")
    data, label = None, ""
    if source == "Sample":
        sample = side.selectbox("Sample image", sample_names(), key="vv_sample")
        data, label = sample_bytes(sample), f"sample: {sample}"
        st.query_params["sample"] = sample
    elif source == "Upload":
        upload = side.file_uploader("Upload an image", type=UPLOAD_TYPES, key="vv_upload",
                                    help=f"JPEG, PNG, WebP, BMP, TIFF or GIF (first frame); at most "
                                         f"{st.get_option('server.maxUploadSize')} MB and {MAX_PIXELS // 10**6} megapixels.")
        if upload is not None:
            st.session_state["_keep_upload"] = (upload.getvalue(), "your upload")
        data, label = st.session_state.get("_keep_upload", (None, ""))
        st.query_params.pop("sample", None)
    else:
        shot = side.camera_input("Take a photo", key="vv_camera")
        if shot is not None:
            st.session_state["_keep_camera"] = (shot.getvalue(), "camera photo")
        data, label = st.session_state.get("_keep_camera", (None, ""))
        st.query_params.pop("sample", None)
    st.query_params["model"] = name
    if source == "Upload":
        side.caption(f"Uploads: JPEG, PNG, WebP, BMP, TIFF, GIF; up to {st.get_option('server.maxUploadSize')} MB "
                     f"and {MAX_PIXELS // 10**6} megapixels. Files are read in memory, never saved.")
    if data is None:
        st.session_state["_vv_hint"] = "Choose an image in the sidebar: a sample, an upload or a camera photo."
        return None
    image_key = hashlib.sha256(data).hexdigest()
    side.caption(f"Image id `{image_key[:10]}` ({label})")
    if reason and pretrained:
        st.session_state["_vv_hint"] = "Pick another model, or tick *Use untrained (random) weights* in the sidebar."
        return None

    sel = Selection(name, pretrained, device, folder, label, image_key, data, None)
    with guarded():
        return dataclasses.replace(sel, size=_size_picker(model(sel)))
    return None


def _size_picker(loaded) -> Optional[tuple[int, int]]:
    """Input-size slider in patch-size steps when the model resamples its position embeddings."""
    native = int(loaded.data_config["input_size"][1])
    m = loaded.model
    if not getattr(m, "dynamic_img_size", False):
        st.sidebar.caption(f"Input size: {native} px (fixed for this model)")
        return None
    p = int(m.patch_embed.patch_size[0])
    options = list(range(4 * p, min(1024, 2 * native) + 1, p))
    if native not in options:
        options = sorted(set(options) | {native})
    if st.session_state.get("vv_size") not in options:
        st.session_state["vv_size"] = native
    value = st.sidebar.select_slider("Input size (px)", options=options, key="vv_size",
                                     help=f"Multiples of the patch size ({p} px); position embeddings are resampled.")
    return None if value == native else (value, value)


# --------------------------------------------------------------------------- page helpers
@contextmanager
def guarded() -> Iterator[None]:
    """Show errors in the page and keep the app running: a user's bad input never crashes it."""
    try:
        yield
    except VitvizError as exc:
        st.error(str(exc), icon="⚠️")
    except Exception as exc:  # noqa: BLE001 - the page must survive anything
        if _is_oom(exc):
            free_gpu_memory()
            st.session_state["_vv_force_cpu"] = True
            st.error("The GPU ran out of memory. Cached models were freed and this session now runs on the CPU; "
                     "rerun the page (or pick a smaller model or input size).", icon="⚠️")
        else:
            st.error(f"Something went wrong: {type(exc).__name__}: {str(exc)[:300]}", icon="⚠️")


def header(title: str, explanation: str) -> None:
    st.title(title)
    st.caption(explanation)


def npz_bytes(arrays: Mapping[str, np.ndarray]) -> bytes:
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    return buf.getvalue()


def table_csv(header: list[str], rows) -> bytes:
    """CSV with a header row; the csv module quotes labels that contain commas or quotes."""
    import csv

    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue().encode()


def csv_bytes(matrix: np.ndarray, columns: list[str], index_name: str) -> bytes:
    """A 2-D array as CSV: one row per index, one column per name."""
    return table_csv([index_name, *columns],
                     ([i, *(f"{v:.6g}" for v in row)] for i, row in enumerate(np.atleast_2d(matrix))))


def grid_csv(grid_map: np.ndarray) -> bytes:
    """A ``(gh, gw)`` map as CSV, one row per patch row."""
    return csv_bytes(grid_map, [f"col_{c}" for c in range(grid_map.shape[1])], "row")


def show_figure(fig, key: str, *, npz: Optional[Callable[[], Mapping[str, np.ndarray]]] = None,
                csv: Optional[Callable[[], bytes]] = None, on_select: bool = False):
    """A plotly figure with PNG export (the camera button) and lazy CSV/NPZ data downloads."""
    config = {**PLOT_CONFIG, "toImageButtonOptions": {**PLOT_CONFIG["toImageButtonOptions"], "filename": f"vitviz-{key}"}}
    event = st.plotly_chart(fig, key=key, config=config, on_select="rerun" if on_select else "ignore",
                            selection_mode="points")
    row = st.container(horizontal=True, gap="small")
    if npz is not None:
        row.download_button("NPZ", icon=":material/download:", help="The data behind this figure (NumPy .npz)", data=lambda: npz_bytes(npz()), file_name=f"vitviz-{key}.npz",
                                mime="application/octet-stream", key=f"{key}-npz", on_click="ignore")
    if csv is not None:
        row.download_button("CSV", icon=":material/download:", help="The data behind this figure (CSV)", data=csv, file_name=f"vitviz-{key}.csv", mime="text/csv",
                                key=f"{key}-csv", on_click="ignore")
    return event


def clicked_point(event, trace: int) -> Optional[int]:
    """Index of the point clicked in trace ``trace`` of a figure's selection event, if any."""
    try:
        points = event.selection.points  # type: ignore[union-attr]
    except AttributeError:
        return None
    for point in points or []:
        if point.get("curve_number") == trace:
            return int(point.get("point_index", point.get("point_number", 0)))
    return None


@st.cache_resource(max_entries=8, show_spinner=False)
def cached_embedding(name: str, folder: Optional[str], device: str, pretrained: bool, image_key: str,
                     size: Optional[tuple[int, int]], _tensor):
    from vitviz.analysis import embedding_stages

    loaded = cached_model(name, folder, device, pretrained)
    with COMPUTE_LOCK:
        return embedding_stages(loaded.model, _tensor.to(device=loaded.device, dtype=loaded.dtype))


def embedding(sel: Selection, result):
    """Tokens before the encoder (paper Eq. 1) for the current image."""
    return cached_embedding(sel.model, sel.weights_dir, sel.device, sel.pretrained, sel.image_key, sel.size,
                            result.prepared.tensor)


def int_input(container, label: str, low: int, high: int, default: int, key: str) -> int:
    """A number input whose value may also be set by a click (via :func:`apply_pick`)."""
    if key not in st.session_state or not low <= st.session_state[key] <= high:
        st.session_state[key] = default
    return int(container.number_input(label, low, high, key=key))


def apply_pick(pick_key: str, targets: tuple[str, ...]) -> None:
    """Copy a value stored by a click into widget keys, before those widgets are drawn."""
    picked = st.session_state.pop(pick_key, None)
    if picked is not None:
        for key, value in zip(targets, picked):
            st.session_state[key] = value


@st.cache_resource(max_entries=16, show_spinner=False)
def cached_dataset_distance(name: str, folder: Optional[str], device: str, pretrained: bool,
                            size: Optional[tuple[int, int]], set_key: str, _images: tuple[bytes, ...], _progress=None):
    """Mean attention distance over a set of images, streamed in batches (shared across sessions)."""
    from vitviz.pipeline import dataset_mean_distance

    loaded = cached_model(name, folder, device, pretrained)
    images = (load_image(data) for data in _images)
    with COMPUTE_LOCK:
        return dataset_mean_distance(loaded, images, size, batch_size=8, progress=_progress)


def images_key(images: tuple[bytes, ...]) -> str:
    digest = hashlib.sha256()
    for data in images:
        digest.update(hashlib.sha256(data).digest())
    return digest.hexdigest()


@st.cache_resource(max_entries=4, show_spinner="Running the CNN (features and receptive-field gradients)…")
def cached_cnn_analysis(name: str, folder: Optional[str], device: str, pretrained: bool, image_key: str,
                        _image_bytes: bytes):
    from vitviz.pipeline import analyze_cnn

    loaded = cached_model(name, folder, device, pretrained)
    image = load_image(_image_bytes)
    with COMPUTE_LOCK:
        return analyze_cnn(loaded, image)


def cnn_specs(folder: Optional[str]) -> list[ModelSpec]:
    from vitviz.registry import CNN

    return [s for s in list_models(folder) if s.kind == CNN]
