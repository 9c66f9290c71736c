"""A page's frame: the layout CSS (phones, presenter mode), the header and captions, figure titles that name the
model, the run's :class:`~vitviz_dashboard.selection.Selection` (:func:`current`), presenter sizing and guarded fragments.
"""
from __future__ import annotations

from typing import Optional

import streamlit as st

from vitviz_dashboard import selection
from vitviz.text import i18n
from vitviz.figures import plots
from vitviz.text.i18n import t, tn
from vitviz_dashboard.guard import guarded


PRESENTER_HEIGHT = 430  # px: a page's main figure under the title and controls on a 1280×720 screen


LANG_KEY = "vv_lang"


# Phones (≤ 640 px) and tablets: Streamlit stacks columns there, so control rows become 2 per line,
# the walk-through's Back/Next stay side by side at the bottom of the screen (thumb reach), and the
# page caption folds into an expander. Keyed containers (``st-key-…`` classes) are the hooks.
LAYOUT_CSS = """<style>
  .vv-alt { position: absolute; width: 1px; height: 1px; overflow: hidden; clip-path: inset(50%); white-space: nowrap; }
  [class*="st-key-vv-caption-folded"] { display: none; }
  /* Streamlit's captions are 60 % text colour (≈ 3.9:1 on white); WCAG AA asks 4.5:1 for small text. */
  [data-testid="stCaptionContainer"], [data-testid="stCaptionContainer"] p { color: #55585f; }
  .st-key-vv-plotly-preload, [data-testid="stLayoutWrapper"]:has(> .st-key-vv-plotly-preload) { display: none; }
  @media (max-width: 640px) {
    [data-testid="stMainBlockContainer"] { padding-left: 0.75rem; padding-right: 0.75rem; padding-top: 3.2rem; }
    h1 { font-size: 1.45rem !important; }
    [class*="st-key-vv-caption-full"] { display: none; }
    [class*="st-key-vv-caption-folded"] { display: block; }
    [class*="st-key-vv-controls"] [data-testid="stHorizontalBlock"] { flex-wrap: wrap; gap: 0.25rem 0.75rem; }
    [class*="st-key-vv-controls"] [data-testid="stColumn"] { min-width: calc(50% - 0.5rem) !important;
      flex: 1 1 calc(50% - 0.5rem) !important; width: calc(50% - 0.5rem) !important; }
    .st-key-vv-stepper { position: fixed; left: 0; right: 0; bottom: 0; z-index: 50; padding: 0.4rem 0.75rem;
      background: var(--background-color, #fff); box-shadow: 0 -2px 8px rgba(0, 0, 0, 0.15); }
    .st-key-vv-stepper [data-testid="stHorizontalBlock"] { flex-wrap: wrap; gap: 0.2rem 0.75rem; }
    .st-key-vv-stepper [data-testid="stColumn"] { min-width: 0 !important; flex: 1 1 40% !important; }
    .st-key-vv-stepper [data-testid="stColumn"]:nth-child(2) { order: -1; flex-basis: 100% !important; }
    .st-key-vv-stepper button { min-height: 3rem; }
    .st-key-vv-stepper kbd, .st-key-vv-stepper [data-testid="stButtonShortcut"] { display: none; }
    [data-testid="stMainBlockContainer"]:has(.st-key-vv-stepper) { padding-bottom: 9rem; }
    /* clip, not hidden: hidden on one axis turns the other into a scroll box */
    [data-testid="stPlotlyChart"], [data-testid="stPlotlyChart"] > div { max-width: 100%; overflow-x: clip;
      overflow-y: visible; }
    .js-plotly-plot .gtitle, .vv-heads > figcaption, .vv-map-title { font-size: 12px !important; }  /* projector size */
    .js-plotly-plot .gtitle { font-size: 11px !important; }  /* plots.wrap_title's lines fit 366 px at 11 px */
    /* Plotly's toolbar goes to a strip of its own above the chart, off the title it covered on a tap. */
    [data-testid="stFullScreenFrame"]:has(> [data-testid="stPlotlyChart"]) { margin-top: 30px; }
    [data-testid="stElementContainer"]:has([data-testid="stPlotlyChart"]) {
      height: auto !important; flex: 0 0 auto !important; }  /* Streamlit gives it the figure's height: the strip comes on top */
    [data-testid="stPlotlyChart"] .modebar-container { top: -30px !important; }
  }
</style>"""


def preload_plotly() -> None:
    """On a session's first run, an empty hidden plotly chart, so the browser fetches and starts
    Streamlit's plotly bundle (4.7 MB of JavaScript, 1.0–1.5 s on a laptop) while the server still
    imports torch, loads the model and analyses the image, instead of after the first real chart
    arrives. Streamlit loads that bundle with the first plotly element it renders and drops
    ``<link rel="preload">`` from ``st.html``. The keyed container is drawn on every run, so the
    page's own elements keep their places when the chart is gone (LAYOUT_CSS hides it)."""
    box = st.container(key="vv-plotly-preload")
    if not st.session_state.get("_vv_plotly_preloaded"):
        st.session_state["_vv_plotly_preloaded"] = True
        import plotly.graph_objects as go

        box.plotly_chart(go.Figure(), config={"staticPlot": True}, key="vv_plotly_preload_chart")


def untrained_badge() -> str:
    return f":red-badge[:material/warning: {t('ui.untrained_badge')}]"


def title(sel: selection.Selection, what: str, extra: str = "", *, two_lines: bool = False) -> str:
    """A figure title naming the model, "(untrained)" when so, and ``extra``; ``two_lines`` for narrow columns."""
    text = plots.figure_title(what, sel.short_label, untrained=sel.untrained, extra=extra)
    return two_line(text) if two_lines else text


def two_line(title_text: str) -> str:
    """A " · "-joined title broken after its first part, for a figure in a third or half of the page."""
    return title_text.replace(" · ", "<br>", 1)


def header(page_title: str, explanation: str, sel: Optional[selection.Selection] = None) -> None:
    """Page title, the model it shows (with an untrained badge), and the page's caption.

    In presenter mode the caption moves into the title's help tooltip and the model line stays,
    so the page's figure starts high enough to fit a 1280×720 projector.
    """
    presenter = sel is not None and sel.presenter
    st.title(page_title, help=explanation if presenter else None)
    if sel is not None:
        badge = f" {untrained_badge()}" if sel.untrained else ""
        st.markdown(f"**{sel.model_label}** · {t('ui.image')}: {sel.image_label}{badge}")
    if not presenter:
        folding_caption(explanation, "page")


def folding_caption(text: str, key: str, label: str = "") -> None:
    """A caption in full on wide screens; on a phone folded into an expander (LAYOUT_CSS), so figures come first."""
    st.container(key=f"vv-caption-full-{key}").caption(text)
    with st.container(key=f"vv-caption-folded-{key}"):
        with st.expander(label or t("ui.about_view")):
            st.caption(text)


def sinks_note(result, lead: str = "") -> str:
    """A rollout figure's title note where the analysis found attention sinks and the figure leaves them out."""
    return f"{lead}{t('plot.sinks_out')}" if result.sink_tokens else ""


def sinks_caption(result) -> str:
    """The caption line for a rollout without its sinks: which patches, and where they come back."""
    layout = result.layout
    where = ", ".join(str(layout.patch_of(token)) for token in result.sink_tokens)
    return tn("plot.sinks_out_caption", len(result.sink_tokens), where=where)


def mib(nbytes: int) -> str:
    """Bytes as the budgets are stated: "512 MiB", "2 GiB"."""
    return f"{nbytes / 2**30:g} GiB" if nbytes >= 2**30 and nbytes % 2**28 == 0 else f"{nbytes / 2**20:.0f} MiB"


def current() -> Optional[selection.Selection]:
    """The selection the entry script built for this run (None, with its hint shown, if there is none)."""
    sel = st.session_state.get("_vv_selection")
    if sel is None and st.session_state.get("_vv_hint"):
        st.info(st.session_state["_vv_hint"])
    return sel


def fit(fig, sel: Optional[selection.Selection], height: int = PRESENTER_HEIGHT):
    """In presenter mode, size a page's main figure so it fits a 1280×720 screen under the title."""
    if sel is not None and sel.presenter:
        fig.update_layout(height=height)
    return fig


def fragment(fn):
    """``st.fragment`` whose every run (also a fragment-only rerun) is :func:`guarded`."""
    import functools

    @functools.wraps(fn)
    def run(*args, **kwargs):
        i18n.set_language(st.session_state.get(LANG_KEY, i18n.DEFAULT))  # a fragment-only rerun skips the entry script
        with guarded():
            fn(*args, **kwargs)

    return st.fragment(run)
