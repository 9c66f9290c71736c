"""The error guard every page and fragment runs under: the user sees one line (and an error id), the log the
traceback; a GPU out of memory moves the session to the CPU.
"""
from __future__ import annotations

import logging
import uuid
from contextlib import contextmanager
from typing import Iterator

import streamlit as st

from vitviz_dashboard import devices
from vitviz.text import i18n
from vitviz.errors import ImageError, UnknownModelError, UnsupportedModelError, VitvizError, WeightsError, \
    WeightsNotFoundError
from vitviz.text.i18n import md_text, t


LOG = logging.getLogger("vitviz.app")


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
    except devices.GpuOutOfMemory:
        if not st.session_state.get(devices.FORCE_CPU):
            devices.switch_to_cpu_and_rerun()
        st.error(t("error.oom"), icon=":material/memory:")
    except VitvizError as exc:
        st.error(error_text(exc), icon=":material/error:")
    except Exception as exc:  # noqa: BLE001 - a page must survive anything; Streamlit's control flow is BaseException
        eid = error_id()
        LOG.exception("error id %s: %s: %s", eid, type(exc).__name__, exc)
        st.error(t("error.unexpected", kind=type(exc).__name__, id=eid), icon=":material/error:")


#: The translated lead sentence per error kind; the detail (names, sizes, paths) follows as raised.
_ERROR_LEADS = [(ImageError, "error.image"), (UnknownModelError, "error.unknown_model"),
                (WeightsNotFoundError, "error.weights_missing"), (WeightsError, "error.weights_bad"),
                (UnsupportedModelError, "error.unsupported")]


def error_text(exc: VitvizError) -> str:
    """The user's line: the error's own message in English, led by a translated sentence when not English."""
    detail = md_text(exc, limit=400)  # messages quote names and values a user or a link supplied
    if i18n.language() == "en":
        return detail
    lead = next((key for kind, key in _ERROR_LEADS if isinstance(exc, kind)), "error.generic")
    return f"{t(lead)} ({detail})"
