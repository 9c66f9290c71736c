"""The dashboard's server: ``streamlit run app/serve.py`` (the command README gives).

Streamlit's ``st.App`` around the dashboard script (``app/vitviz_app.py``), for the one thing a plain
``streamlit run app/vitviz_app.py`` cannot do: start work when the server starts. The lifespan hook
starts :func:`warm_up` on a background thread and returns at once, so the server answers at once too.
The warm-up imports torch and timm (about 4 s of a 2-core CPU, most of a cold first page), then loads
the default model and analyses the default sample into the caches every session shares. A visitor
who arrives meanwhile waits on the same import and cache locks rather than starting the work again;
one who arrives later gets the first page from the caches. A failed warm-up is logged and changes
nothing else: the first visitor's page meets the same error and shows it the usual way.
"""
from __future__ import annotations

import gc
import logging
import threading
import time
from contextlib import asynccontextmanager
from pathlib import Path

# As in vitviz_app: imported once before any session or thread can import them at the same time.
import pandas  # noqa: F401
import plotly.graph_objects  # noqa: F401
import streamlit as st

HERE = Path(__file__).resolve().parent
LOG = logging.getLogger("vitviz.app")
READY = "vitviz: warmed up"  # the log line that says the first page will come from the caches


def log_to_stderr() -> None:
    """The app's loggers (``vitviz.*``) at INFO on the server's stderr, beside Streamlit's own lines
    (Streamlit configures only its ``streamlit.*`` loggers)."""
    root = logging.getLogger("vitviz")
    if not root.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
        root.addHandler(handler)
        root.setLevel(logging.INFO)


def warm_up() -> None:
    """Import what every first page needs, then fill the model and analysis caches for
    :func:`sidebar.first_selection` (a no-op for them when its weights cannot be had)."""
    start = time.perf_counter()
    # The imports create a few million objects that live as long as the server; the cyclic collector
    # walking them again and again while they arrive costs ~15 % of the import time. gc.freeze keeps
    # them out of later collections too (as caches.settle_heap does after a model load).
    gc.disable()
    try:
        import timm  # noqa: F401
        import torch  # noqa: F401

        from vitviz.run.serving import share_cores
        share_cores()  # one thread per script thread; the analysis forward takes all cores when alone

        from vitviz_dashboard import compute, sidebar
        from vitviz_dashboard import widgets  # noqa: F401  (imports vitviz.figures.plots and the app's other shared modules)
        import vitviz.run.pipeline  # noqa: F401
        from vitviz.text import i18n
        for lang in i18n.LANGUAGES:  # parsed once per process (~35 ms for both), here rather than on a first page
            i18n.catalogue(lang)
    finally:
        gc.enable()
        gc.freeze()
    imported = time.perf_counter()
    sel = sidebar.first_selection()
    if sel is None:
        LOG.info("%s in %.1f s (imports only: the default model's weights are not here)", READY, imported - start)
        return
    compute.analysis(sel)  # loads the model through compute.model, as the first page does
    LOG.info("%s in %.1f s (imports %.1f s; %s and %s)", READY, time.perf_counter() - start, imported - start,
             sel.model, sel.image_label)


def _warm_up_logged() -> None:
    try:
        warm_up()
    except Exception:  # noqa: BLE001 - the first visitor's page shows the error; the operator gets it here
        LOG.warning("the warm-up failed; the first page will load the model itself", exc_info=True)


def rerun_pages_whose_fragment_is_gone() -> None:
    """After a server restart a browser's page looks alive, but its widgets inside fragments ask for fragment
    runs that the new server does not know: Streamlit drops those requests (``AppSession.request_rerun``
    logs "The fragment with id … does not exist anymore"), so sliders moved and figures stayed. Here such a
    request becomes a run of the whole page with the browser's widget values and URL, which rebuilds the
    fragments and tells the user what was lost (an upload). Idempotent."""
    from streamlit.runtime.app_session import AppSession

    original = AppSession.request_rerun
    if getattr(original, "vitviz_whole_page", False):
        return

    def request_rerun(self, client_state):
        if client_state is not None and client_state.fragment_id and not self.has_fragment(client_state.fragment_id):
            LOG.info("fragment %s is unknown to this server (restarted?): running the whole page instead",
                     client_state.fragment_id)
            client_state.ClearField("fragment_id")
        return original(self, client_state)

    request_rerun.vitviz_whole_page = True
    AppSession.request_rerun = request_rerun


@asynccontextmanager
async def lifespan(_app):
    log_to_stderr()
    rerun_pages_whose_fragment_is_gone()
    threading.Thread(target=_warm_up_logged, name="vitviz-warm-up", daemon=True).start()
    yield


app = st.App(str(HERE / "vitviz_app.py"), lifespan=lifespan)
