"""One table of view parameters: session-state key, URL name, parsing, and the fallback notice.

Every view setting lives in session state under its widget key (widgets use
``persist_state="session"``, so a value survives page changes) and is mirrored in the URL under
its short name, so a copied link reopens the same view. Adding a control is one row here.

A link's values are read once, on the session's first run. A value that does not parse, or that
the widget cannot take (``layer=40`` on a 12-layer model), falls back to the default with a
one-line notice at the top of the page — never silently.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Optional

import streamlit as st

from vitviz.text.i18n import md_code, t


def _parse_bool(text: str) -> bool:
    if text in ("1", "true"):
        return True
    if text in ("0", "false"):
        return False
    raise ValueError(text)


def _format_bool(value: bool) -> str:
    return "1" if value else "0"


@dataclass(frozen=True)
class Param:
    """A view setting: URL ``name``, session ``key``, and how its URL text maps to a value."""

    name: str
    key: str
    parse: Callable[[str], Any] = str
    format: Callable[[Any], str] = str
    help: str = ""


def _float(text: str) -> float:
    value = float(text)
    if value != value:  # NaN never validates
        raise ValueError(text)
    return value


def _patch(text: str) -> tuple[int, int]:
    row, col = text.split(",")  # anything but two parts raises ValueError
    return int(row), int(col)


def _table(params: list[Param]) -> dict[str, Param]:
    """The parameters by URL name; a name or a session key used twice is a mistake caught at import."""
    for field in ("name", "key"):
        values = [getattr(p, field) for p in params]
        twice = sorted({v for v in values if values.count(v) > 1})
        if twice:
            raise ValueError(f"view parameters with the same {field}: {', '.join(twice)}")
    return {p.name: p for p in params}


PARAMS: dict[str, Param] = _table([
    Param("model", "vv_model", help="model name (timm tag)"),
    Param("sample", "vv_sample", help="bundled sample image"),
    Param("image", "_vv_image_kind", help="upload: the view was made with an uploaded image, which a link cannot carry"),
    Param("untrained", "vv_untrained", _parse_bool, _format_bool, "1 = random weights"),
    Param("size", "vv_size", int, help="input size in px"),
    Param("layer", "vv_layer", int, help="attention layer (0-based)"),
    Param("head", "vv_head", help="head number or 'mean'"),
    Param("query", "vv_query", int, help="query token index"),
    Param("fusion", "vv_fusion", help="rollout head fusion: mean, max, min"),
    Param("discard", "vv_discard", _float, lambda v: f"{v:g}", "rollout discard ratio"),
    Param("start", "vv_start", int, help="rollout start layer"),
    Param("sinks", "vv_sinks", help="rollout: keep or drop attention sinks"),
    Param("step", "vv_step", int, help="walk-through step, 1-based"),
    Param("row", "vv_pos_row", int, help="position page: patch row"),
    Param("col", "vv_pos_col", int, help="position page: patch column"),
    Param("cnn", "vv_cnn", help="CNN model name"),
    Param("stage", "vv_cnn_stage", help="CNN stage name"),
    Param("present", "vv_present", _parse_bool, _format_bool, "1 = presenter mode"),
    Param("lang", "vv_lang", help="interface language: en or ko"),
    Param("device", "vv_device", help="auto, cpu or cuda (on a server with a GPU)"),
    Param("opacity", "vv_opacity", _float, lambda v: f"{v:g}", "attention page: the map's opacity, 0-1"),
    Param("wpatch", "vv_patch", int, help="walk-through: the patch followed in steps 3-5 (0-based, row-major)"),
    Param("illus", "vv_illus", int, help="walk-through step 2: the illustration's patch size in px"),
    Param("filters", "vv_filter_view", help="embedding filters: pcs (principal components) or raw"),
    Param("count", "vv_filter_count", int, help="embedding filters: how many raw filters (a multiple of 7)"),
    Param("images", "vv_dist_mode", help="attention distance: this, samples (all bundled samples) or uploads"),
    Param("vs", "vv_compare", lambda s: [n for n in s.split(",") if n], ",".join,
          "attention distance: up to 2 other ViTs, comma-separated names"),
    Param("camstage", "vv_cam_stage", help="explanations page: the CNN stage of the Grad-CAM"),
    Param("cnnuntrained", "vv_cnn_untrained", _parse_bool, _format_bool, "CNN page: 1 = random weights"),
    Param("fit", "vv_token_fit", help="tokens page: PCA fitted on this image or jointly on the samples"),
    Param("mask", "vv_token_mask", _parse_bool, _format_bool, "tokens page: 1 = foreground mask"),
    Param("log", "vv_matrix_log", _parse_bool, _format_bool, "matrix page: 1 = log colour scale, 0 = linear"),
    Param("cls", "vv_class", int, help="explanations page: the ViT's class index to explain"),
    Param("cnncls", "vv_cnn_class", int, help="explanations page: the CNN's class index to explain"),
    Param("model2", "vv_model2", help="compare page: the second model (a ViT or a CNN)"),
    Param("untrained2", "vv_untrained2", _parse_bool, _format_bool, "compare page: 1 = random weights for model 2"),
    Param("cmpmap", "vv_compare_map", help="compare page: rollout, or layer (one layer's class-token attention)"),
    Param("layer2", "vv_layer2", int, help="compare page: model 2's attention layer (0-based)"),
    # The Encoder page (one patch through the encoder)
    Param("patch", "vv_enc_patch", _patch, lambda v: f"{v[0]},{v[1]}", "encoder page: the patch, ROW,COL (0-based)"),
    Param("elayer", "vv_enc_layer", int, help="encoder page: layer (0-based)"),
    Param("ehead", "vv_enc_head", int, help="encoder page: head (0-based)"),
    Param("estep", "vv_enc_step", int, help="encoder page: step, 1-based"),
    Param("slide", "vv_slide", int, help="talk page: slide, 1-based"),
])

_URL = "_vv_url"  # the link's values, consumed as each widget takes them
_NOTICES = "_vv_notices"


def read_link() -> None:
    """On a session's first run, keep the URL's values for the widgets to take."""
    if _URL not in st.session_state:
        st.session_state[_URL] = {name: st.query_params[name] for name in PARAMS if name in st.query_params}
        st.session_state[_NOTICES] = []


def link_value(name: str, default: Any) -> Any:
    """The link's value of ``name`` parsed as :func:`prepare` will parse it, without taking it (``default``
    when absent or invalid): for what must be decided before the widgets are drawn (presenter mode)."""
    text = st.session_state.get(_URL, {}).get(name)
    if text is None:
        return default
    try:
        return PARAMS[name].parse(text)
    except (TypeError, ValueError):
        return default


def prepare(name: str, default: Any, valid: Callable[[Any], bool] = lambda _v: True) -> Any:
    """Make the session value of ``name`` valid before its widget is drawn, and return it.

    First the link's value (if it parses and ``valid`` accepts it, else the default with a notice);
    afterwards the session's value, reset to ``default`` when it is no longer valid (another model
    with fewer layers, say).
    """
    param = PARAMS[name]
    link: dict = st.session_state.setdefault(_URL, {})
    if name in link:
        text = link.pop(name)
        try:
            value = param.parse(text)
            ok = valid(value)
        except (TypeError, ValueError):
            ok = False
        if ok:
            st.session_state[param.key] = value
        else:
            st.session_state[param.key] = default
            st.session_state.setdefault(_NOTICES, []).append(
                # The value is the link's, i.e. anybody's: shown as code it cannot close, never as markdown.
                t("params.fallback", given=md_code(f"{name}={text}"), shown=md_code(f"{name}={param.format(default)}")))
    current = st.session_state.get(param.key, default)
    try:
        ok = valid(current)
    except (TypeError, ValueError):
        ok = False
    if not ok:
        current = default
    st.session_state[param.key] = current
    return current


def publish(name: str, value: Any, default: Any) -> None:
    """Mirror a setting in the URL; a default value is left out to keep links short."""
    param = PARAMS[name]
    if value is None or value == default:
        if name in st.query_params:
            del st.query_params[name]
    else:
        text = param.format(value)
        if st.query_params.get(name) != text:
            st.query_params[name] = text


def notice(text: str) -> None:
    """A one-line notice at the top of this run's page (trusted text: escape what a user supplied)."""
    st.session_state.setdefault(_NOTICES, []).append(text)


def show_notices(container: Optional[Any] = None) -> None:
    """Show (once) the link values that fell back to defaults, one line each."""
    notices = st.session_state.get(_NOTICES) or []
    target = container or st
    for text in notices:
        target.warning(text, icon=":material/link_off:")
    st.session_state[_NOTICES] = []
