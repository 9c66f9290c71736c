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
import sys
import threading
import time
from contextlib import asynccontextmanager
from pathlib import Path

HERE = Path(__file__).resolve().parent
for path in (str(HERE), str(HERE.parent)):  # the app's modules and the repository, as in vitviz_app
    if path not in sys.path:
        sys.path.insert(0, path)

# As in vitviz_app: imported once before any session or thread can import them at the same time.
import pandas  # noqa: E402,F401
import plotly.graph_objects  # noqa: E402,F401
import streamlit as st  # noqa: E402

LOG = logging.getLogger("vitviz.app")
READY = "vitviz: warmed up"  # the log line that says the first page will come from the caches


def warm_up() -> None:
    """Import what every first page needs, then fill the model and analysis caches for
    :func:`sidebar.first_selection` (a no-op for them when its weights cannot be had)."""
    start = time.perf_counter()
    # The imports create a few million objects that live as long as the server; the cyclic collector
    # walking them again and again while they arrive costs ~15 % of the import time. gc.freeze keeps
    # them out of later collections too (as compute.settle_heap does after a model load).
    gc.disable()
    try:
        import timm  # noqa: F401
        import torch  # noqa: F401

        import compute
        import sidebar
        import widgets  # noqa: F401  (imports vitviz.plots and the app's other shared modules)
        import vitviz.pipeline  # noqa: F401
    finally:
        gc.enable()
        gc.freeze()
    imported = time.perf_counter()
    sel = sidebar.first_selection()
    if sel is None:
        print(f"{READY} in {imported - start:.1f} s (imports only: the default model's weights are not here)",
              flush=True)
        return
    compute.analysis(sel)  # loads the model through compute.model, as the first page does
    print(f"{READY} in {time.perf_counter() - start:.1f} s (imports {imported - start:.1f} s; {sel.model} and "
          f"{sel.image_label})", flush=True)


def _warm_up_logged() -> None:
    try:
        warm_up()
    except Exception:  # noqa: BLE001 - the first visitor's page shows the error; the operator gets it here
        LOG.warning("the warm-up failed; the first page will load the model itself", exc_info=True)


@asynccontextmanager
async def lifespan(_app):
    threading.Thread(target=_warm_up_logged, name="vitviz-warm-up", daemon=True).start()
    yield


app = st.App(str(HERE / "vitviz_app.py"), lifespan=lifespan)
