"""Figure widgets, page headers, and the error guard every page runs under."""
from __future__ import annotations

import logging
import uuid
from contextlib import contextmanager
from typing import Callable, Iterator, Mapping, Optional

import numpy as np
import streamlit as st

import compute
from vitviz import plots
from vitviz.errors import VitvizError
from vitviz.export import file_stem, npz_bytes

LOG = logging.getLogger("vitviz.app")
PLOT_CONFIG = {"displaylogo": False, "toImageButtonOptions": {"format": "png", "scale": 2}}
UNTRAINED_BADGE = ":red-badge[:material/warning: untrained (random) weights]"
PRESENTER_HEIGHT = 430  # px: a page's main figure under the title and controls on a 1280×720 screen


def title(sel: compute.Selection, what: str, extra: str = "") -> str:
    """A figure title naming the model, "(untrained)" when so, and ``extra``."""
    return plots.figure_title(what, sel.short_label, untrained=sel.untrained, extra=extra)


def header(page_title: str, explanation: str, sel: Optional[compute.Selection] = None) -> None:
    """Page title, the model it shows (with an untrained badge), and the page's caption.

    In presenter mode the caption moves into the title's help tooltip and the model line stays,
    so the page's figure starts high enough to fit a 1280×720 projector.
    """
    presenter = sel is not None and sel.presenter
    st.title(page_title, help=explanation if presenter else None)
    if sel is not None:
        badge = f" {UNTRAINED_BADGE}" if sel.untrained else ""
        st.markdown(f"**{sel.model_label}** · image: {sel.image_label}{badge}")
    if not presenter:
        st.caption(explanation)


def error_id() -> str:
    return uuid.uuid4().hex[:8]


@contextmanager
def guarded() -> Iterator[None]:
    """Show errors in the page and keep the app serving: one line for the user, the traceback for the operator.

    ``VitvizError`` (bad input, missing weights, …): its one-line message. GPU out of memory: the
    session moves to the CPU and reruns. Anything else: a short message with an error id; the
    server log holds the same id with the traceback.
    """
    try:
        yield
    except compute.GpuOutOfMemory:
        if not st.session_state.get(compute.FORCE_CPU):
            compute.switch_to_cpu_and_rerun()
        st.error("Out of memory: pick a smaller model or input size.", icon=":material/memory:")
    except VitvizError as exc:
        st.error(str(exc), icon=":material/error:")
    except Exception as exc:  # noqa: BLE001 - a page must survive anything; Streamlit's control flow is BaseException
        eid = error_id()
        LOG.exception("error id %s: %s: %s", eid, type(exc).__name__, exc)
        st.error(f"Something went wrong ({type(exc).__name__}). Error id `{eid}` — the server log has the details.",
                 icon=":material/error:")


def show_figure(fig, key: str, sel: Optional[compute.Selection] = None, *,
                npz: Optional[Callable[[], Mapping[str, np.ndarray]]] = None,
                csv: Optional[Callable[[], str]] = None, on_select: bool = False, height: Optional[int] = None):
    """A plotly figure with PNG export (camera button) and lazy CSV/NPZ downloads, named after the model."""
    stem = file_stem(key, sel.short_label if sel else "", "untrained" if sel and sel.untrained else "")
    config = {**PLOT_CONFIG, "toImageButtonOptions": {**PLOT_CONFIG["toImageButtonOptions"], "filename": stem}}
    extra = {"height": height} if height else {}
    if fig.layout.width:  # a figure laid out for its width (small multiples) keeps it: panels stay square
        extra["width"] = "content"
    event = st.plotly_chart(fig, key=key, config=config, on_select="rerun" if on_select else "ignore",
                            selection_mode="points", **extra)
    if npz is None and csv is None:
        return event
    row = st.container(horizontal=True, gap="small")
    if npz is not None:
        row.download_button("NPZ", icon=":material/download:", help="The data behind this figure (NumPy .npz)",
                            data=lambda: npz_bytes(npz()), file_name=f"{stem}.npz",
                            mime="application/octet-stream", key=f"{key}-npz", on_click="ignore")
    if csv is not None:
        row.download_button("CSV", icon=":material/download:", help="The data behind this figure (CSV)",
                            data=lambda: csv().encode(), file_name=f"{stem}.csv", mime="text/csv",
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


def current() -> Optional[compute.Selection]:
    """The selection the entry script built for this run (None, with its hint shown, if there is none)."""
    sel = st.session_state.get("_vv_selection")
    if sel is None and st.session_state.get("_vv_hint"):
        st.info(st.session_state["_vv_hint"])
    return sel


def fit(fig, sel: Optional[compute.Selection], height: int = PRESENTER_HEIGHT):
    """In presenter mode, size a page's main figure so it fits a 1280×720 screen under the title."""
    if sel is not None and sel.presenter:
        fig.update_layout(height=height)
    return fig


def fragment(fn):
    """``st.fragment`` whose every run (also a fragment-only rerun) is :func:`guarded`."""
    import functools

    @functools.wraps(fn)
    def run(*args, **kwargs):
        with guarded():
            fn(*args, **kwargs)

    return st.fragment(run)
