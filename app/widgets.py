"""Figure widgets, page headers, and the error guard every page runs under."""
from __future__ import annotations

import html
import logging
import re
import uuid
from contextlib import contextmanager
from typing import Callable, Iterator, Mapping, Optional, Sequence

import numpy as np
import streamlit as st

from vitviz_dashboard import devices, params, selection
from vitviz.text import i18n
from vitviz.figures import plots
from vitviz.errors import ImageError, UnknownModelError, UnsupportedModelError, VitvizError, WeightsError, \
    WeightsNotFoundError
from vitviz.export import file_stem, grid_csv, matrix_csv, npz_bytes
from vitviz.text.i18n import md_text, t, tn
from vitviz.figures.map_pictures import map_picture, peak_text, picture_png
from vitviz_dashboard.map_view import map_view

LOG = logging.getLogger("vitviz.app")
PLOT_CONFIG = {"displaylogo": False, "toImageButtonOptions": {"format": "png", "scale": 2}}
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


def controls(name: str, spec, **kwargs):
    """``st.columns(spec)`` for a row of controls named ``name``; on a phone they sit two per line (LAYOUT_CSS)."""
    return st.container(key=f"vv-controls-{name}").columns(spec, **kwargs)


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


def show_figure(fig, key: str, sel: Optional[selection.Selection] = None, *,
                npz: Optional[Callable[[], Mapping[str, np.ndarray]]] = None,
                csv: Optional[Callable[[], str]] = None, on_select: bool = False, height: Optional[int] = None,
                alt: str = ""):
    """A plotly figure with PNG export (camera button), lazy CSV/NPZ downloads named after the model, and a
    text alternative for screen readers: the figure's title, ``alt`` (what it shows, in words) and where its
    data is."""
    stem = figure_stem(key, sel)
    config = {**PLOT_CONFIG, "toImageButtonOptions": {**PLOT_CONFIG["toImageButtonOptions"], "filename": stem}}
    extra = {"height": height} if height else {}
    if fig.layout.width:  # a figure laid out for its width (small multiples) keeps it: panels stay square
        extra["width"] = "content"
    # The text alternative is the chart's accessible name (role="figure", aria-label): no extra element to redraw.
    event = st.plotly_chart(fig, key=key, config=config, on_select="rerun" if on_select else "ignore",
                            selection_mode="points", alt=alt_text(fig.layout.title.text or "", alt, npz is not None or csv is not None),
                            **extra)
    data_row(key, stem, npz=npz, csv=csv)
    return event


def figure_stem(key: str, sel: Optional[selection.Selection]) -> str:
    """A figure's download file name without extension: what it is and the model it shows."""
    return file_stem(key, sel.short_label if sel else "", "untrained" if sel and sel.untrained else "")


def data_row(key: str, stem: str, alt: str = "", *, npz: Optional[Callable[[], Mapping[str, np.ndarray]]] = None,
             csv: Optional[Callable[[], str]] = None, png: Optional[Callable[[], bytes]] = None) -> None:
    """Under a figure: its NPZ / CSV / PNG downloads (built lazily), and ``alt``, a text alternative for
    screen readers only, for a figure that carries none itself."""
    row = st.container(horizontal=True, gap="small")
    if alt:
        row.html(f'<p class="vv-alt">{html.escape(alt)}</p>')
    if png is not None:
        row.download_button("PNG", icon=":material/download:", help=t("ui.png_help"), data=png,
                            file_name=f"{stem}.png", mime="image/png", key=f"{key}-png", on_click="ignore")
    if npz is not None:
        row.download_button("NPZ", icon=":material/download:", help=t("ui.npz_help"),
                            data=lambda: npz_bytes(npz()), file_name=f"{stem}.npz",
                            mime="application/octet-stream", key=f"{key}-npz", on_click="ignore")
    if csv is not None:
        row.download_button("CSV", icon=":material/download:", help=t("ui.csv_help"),
                            data=lambda: csv().encode(), file_name=f"{stem}.csv", mime="text/csv",
                            key=f"{key}-csv", on_click="ignore")


def show_map(key: str, sel: selection.Selection, display_shape, picture: str, top: float, grid_map: np.ndarray,
             fig_title: str, value_name: str, *, npz: Callable[[], Mapping[str, np.ndarray]],
             marked: Sequence[tuple[int, int]] = (), pickable: bool = False, max_height: Optional[int] = None,
             alt: str = "", patch_label: str = "", presenter_height: int = PRESENTER_HEIGHT - 90) -> Optional[int]:
    """A map picture (``vitviz.figures.map_pictures.map_picture`` over an image of ``display_shape``, shown by
    app/map_view.py) with its text alternative (``alt``, default: where ``grid_map`` peaks) and PNG / NPZ /
    CSV downloads; ``marked`` patches get the sink frame; the read-out names a cell ``patch_label``
    (default "patch"); ``presenter_height`` caps the picture's height in presenter mode (a page with more
    controls above its maps passes less). Returns the clicked patch when ``pickable``."""
    point = map_view(key, picture, grid_map, display_shape, title=fig_title, top=top, value_name=value_name,
                     alt=alt_text(fig_title, alt or peak_text(grid_map), True), marked=marked,
                     marked_label=t("plot.sink"), patch_label=patch_label or t("plot.patch"),
                     click_label=t("plot.click_to_select") if pickable else "",
                     max_height=presenter_height if sel.presenter else max_height)
    data_row(key, figure_stem(key, sel), npz=npz, csv=lambda: grid_csv(grid_map), png=lambda: picture_png(picture))
    return point


def show_grad_cam(key: str, sel: selection.Selection, display: np.ndarray, cam, fig_title: str, *, alt: str,
                  max_height: Optional[int] = None, presenter_height: int = PRESENTER_HEIGHT - 90) -> None:
    """A Grad-CAM (``vitviz.run.explain.GradCAM``) over the image as a picture, like a ViT's maps: the picture
    from the full-resolution map, the read-out and the CSV per stage cell (:meth:`GradCAM.cell_means`)."""
    picture, top = map_picture(cam.map, display, (1, 1))
    show_map(key, sel, display.shape, picture, top, cam.cell_means(), fig_title, "Grad-CAM",
             npz=lambda: {"map": cam.map, "coarse": cam.coarse}, max_height=max_height, alt=alt,
             patch_label=t("plot.cell"), presenter_height=presenter_height)


def depth_comparison_view(sel: selection.Selection, comp, vit_name: str, cnn_name: str, key: str, *,
                          two_lines: bool = False) -> None:
    """The ViT's attention distance per head next to the CNN's receptive-field radius on relative depth
    (:func:`vitviz.figures.plots.depth_comparison_figure`), its downloads and its one-line summary."""
    fig_title = t("cnn.versus_title", vit=vit_name, cnn=cnn_name)
    fig = plots.depth_comparison_figure(comp, vit_name, cnn_name,
                                        title=two_line(fig_title) if two_lines else fig_title)
    first = comp.vit_heads[0]
    summary = t("cnn.versus_summary", lo=f"{first.min():.0f}", hi=f"{first.max():.0f}",
                radius=f"{comp.cnn_theoretical_radius[0]:.0f}")
    show_figure(fig, key, sel, alt=summary,
                npz=lambda: {"vit_depth": comp.vit_depth, "vit_heads": comp.vit_heads,
                             "cnn_layer_depth": comp.cnn_layer_depth, "cnn_layer_radius": comp.cnn_layer_radius,
                             "cnn_stage_depth": comp.cnn_stage_depth, "cnn_effective_radius": comp.cnn_effective_radius},
                csv=lambda: matrix_csv(np.stack([comp.cnn_layer_depth, comp.cnn_layer_radius], 1),
                                       ["relative_depth", "theoretical_rf_radius_px"], "layer"))
    st.caption(summary)


HEAD_MEAN = "mean"


def head_text(head) -> str:
    """"mean of heads" or "head h", in the current language."""
    return t("attention.head_mean") if head in (None, HEAD_MEAN) else t("attention.head_n", n=head)


def layer_and_head_setting(layers: int, heads: int) -> tuple[int, Optional[int]]:
    """The layer and head (None: the mean of heads) that :func:`layer_and_head` will show: the link's or
    the session's values, made valid. For work to be done before the widgets are drawn."""
    layer = params.prepare("layer", layers - 1, lambda v: 0 <= v < layers)
    choice = params.prepare("head", HEAD_MEAN, lambda v: v in _head_options(heads))
    return layer, _head(choice)


def _head_options(heads: int) -> list[str]:
    return [HEAD_MEAN] + [str(h) for h in range(heads)]


def _head(choice: str) -> Optional[int]:
    """The head picker's choice as a head index, None for the mean of heads."""
    return None if choice == HEAD_MEAN else int(choice)


def layer_and_head(layer_column, head_column, layers: int, heads: int) -> tuple[int, Optional[int]]:
    """The Attention page's layer slider and head picker (also the matrix page's: same keys, same URL names).

    Returns the layer and the head (None: the mean of heads).
    """
    layer_and_head_setting(layers, heads)
    layer = layer_column.slider(t("attention.layer"), 0, layers - 1, key="vv_layer", persist_state="session")
    options = _head_options(heads)
    choice = head_column.selectbox(t("attention.head"), options, key="vv_head", persist_state="session",
                                   format_func=head_text)
    params.publish("layer", layer, layers - 1)
    params.publish("head", choice, HEAD_MEAN)
    return layer, _head(choice)


def alt_text(title: str, alt: str = "", has_data: bool = False) -> str:
    """A figure in words: its title (markup removed), what it shows, and where its data can be downloaded."""
    title = re.sub(r"<[^>]+>", " ", title).replace("  ", " ").strip()
    parts = [t("ui.alt_figure", title=title) if title else "", alt, t("ui.alt_data") if has_data else ""]
    return " ".join(p for p in parts if p)


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
