"""The full token × token attention matrix of one layer and head, linked to the image by the pointer.

Layer and head are the Attention page's own settings (same session keys, same URL names), so the two
pages show the same layer and head. The matrix travels as a PNG inside a self-contained HTML view
(:mod:`vitviz.figures.matrix_view`), not as a heatmap array: usable at 1370 tokens.
"""
import numpy as np
import streamlit as st

from vitviz_dashboard import caches, compute, params
from vitviz.export import matrix_csv
from vitviz.text.i18n import language, t
from vitviz.figures.matrix_view import MatrixLabels, layer_matrix, matrix_html, token_names
from vitviz_dashboard.widgets import alt_text, data_row, figure_stem
from vitviz_dashboard.controls import controls, head_text, layer_and_head
from vitviz_dashboard.frame import current, fragment, header, title

def matrix_alt(matrix: np.ndarray, names: list[str], prefix: int) -> str:
    """The matrix in words: its size, the key that draws the most attention, and the prefix tokens' share."""
    received = matrix.mean(axis=0)
    top = int(np.argmax(received))
    share = float(matrix[:, :prefix].sum(axis=1).mean()) if prefix else 0.0
    return t("matrix.alt", tokens=matrix.shape[0], top=names[top], top_share=f"{received[top]:.3f}",
             prefix_share=f"{share:.1%}")


def view_html(sel, layer: int, head, log: bool, fig_title: str, lang: str) -> str:
    """The view's HTML for one setting (a few MB at 1370 tokens; shared by sessions, so built once)."""
    result = compute.analysis(sel)
    key = (*sel.key, layer, head, log, fig_title, sel.presenter, lang)
    return caches.cached("matrix_html", key, lambda: build_html(result, layer, head, log, fig_title, sel.presenter))


def build_html(result, layer: int, head, log: bool, fig_title: str, presenter: bool) -> str:
    layout = result.layout
    matrix = layer_matrix(result.attention, layer, head)
    names = token_names(layout.prefix_names, layout.grid)
    labels = MatrixLabels(
        title=fig_title, query=t("matrix.query"), key=t("matrix.key"), rows=t("matrix.rows"),
        columns=t("matrix.columns"), matrix_label=t("matrix.matrix_label"), image_label=t("matrix.image_label"),
        scale=t("matrix.scale"), scale_log=t("matrix.scale_log"), scale_linear=t("matrix.scale_linear"),
        keys_hint="" if presenter else t("matrix.hint"), alt=matrix_alt(matrix, names, layout.num_prefix_tokens))
    # Presenter: the whole view (title, matrix, colour bar) under the controls within 720 px; the pointer hint,
    # two lines of instructions for the one at the keyboard, is left out there.
    size, image_size = (330, 270) if presenter else (520, 340)
    return matrix_html(matrix, result.prepared.display, layout.grid, layout.patch_size, layout.prefix_names,
                       labels, log=log, size=size, image_size=image_size)


@fragment
def matrix_view(sel) -> None:
    result = compute.analysis(sel)
    layout, attn = result.layout, result.attention
    layers, heads = attn.shape[:2]
    c1, c2, c3 = controls("matrix", [3, 2, 2])
    layer, head = layer_and_head(c1, c2, layers, heads)
    params.prepare("log", True, lambda v: isinstance(v, bool))
    log = c3.toggle(t("matrix.log"), key="vv_matrix_log", persist_state="session", help=t("matrix.log_help"))
    params.publish("log", log, True)
    fig_title = title(sel, t("matrix.fig_title"), t("matrix.fig_setting", layer=layer, head=head_text(head),
                                                       tokens=layout.num_tokens))
    document = view_html(sel, layer, head, bool(log), fig_title, language())
    st.iframe(document, height="content")
    matrix = layer_matrix(attn, layer, head)
    names = token_names(layout.prefix_names, layout.grid)
    stem = figure_stem(f"attention-matrix-l{layer}-{'mean' if head is None else f'h{head}'}", sel)
    alt = alt_text(fig_title, matrix_alt(matrix, names, layout.num_prefix_tokens), True)
    data_row("matrix", stem, alt, npz=lambda: {"attention": matrix, "tokens": np.array(names)},
             csv=lambda: matrix_csv(matrix, names, "query"))


sel = current()
header(t("matrix.page"), t("matrix.explanation"), sel)
if sel is not None:
    matrix_view(sel)
