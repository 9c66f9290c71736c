"""Patch-embedding filters: what the first linear layer looks for (paper Fig. 7 left)."""
import streamlit as st

import compute
from vitviz import plots
from vitviz.export import matrix_csv
from widgets import current, fit, fragment, header, show_figure, title

EXPLANATION = ("The patch projection E is a bank of D filters of P×P×3 pixels. As in the paper's Fig. 7 (left) we "
               "show the top principal components of those filters (centred, each scaled to its own range). In the "
               "paper (ViT-L/32) they resemble plausible basis functions for a low-dimensional representation of the "
               "fine structure within each patch. Toggle to see the raw filters.")


def model_note(sel, result) -> str:
    """How the loaded model differs from the paper's ViT-L/32, in a few words (empty when it does not)."""
    notes = []
    if sel.untrained:
        notes.append("random weights: expect noise, not basis functions")
    if result.logits is None:
        notes.append("a backbone without a classifier head (e.g. self-supervised DINO/DINOv2)")
    ph, pw = result.layout.patch_size
    if (ph, pw) != (32, 32):
        notes.append(f"{ph}×{pw} px patches (the paper's figure: 32×32)")
    return "This model differs from the paper's: " + "; ".join(notes) + "." if notes else ""


@fragment
def filters(sel) -> None:
    result = compute.analysis(sel)
    static = result.static
    note = model_note(sel, result)
    if note:
        st.caption(note)
    view = st.radio("Show", ["Principal components", "Raw filters"], horizontal=True, key="vv_filter_view",
                    persist_state="session")
    if view == "Principal components":
        pca = static.filter_pca
        k = len(pca.components)
        st.write(f"Top {k} of {static.filters.shape[0]} filters' principal components; together they explain "
                 f"**{pca.explained_variance_ratio.sum():.0%}** of the filters' variance.")
        left, right = st.columns([3, 2])
        with left:
            fig = plots.filters_figure(pca.components, columns=7,
                                       title=title(sel, "Embedding filters", f"top {k} principal components"))
            show_figure(fit(fig, sel, 380), "filters-pca", sel,
                        npz=lambda: {"components": pca.components,
                                     "explained_variance_ratio": pca.explained_variance_ratio})
        with right:
            show_figure(plots.explained_variance_figure(pca.explained_variance_ratio,
                                                        title(sel, "Explained variance")), "filters-evr", sel,
                        csv=lambda: matrix_csv(pca.explained_variance_ratio[:, None], ["explained_variance_ratio"],
                                               "component"))
    else:
        total = static.filters.shape[0]
        count = st.slider("Filters shown", 7, min(196, total), 49, step=7, key="vv_filter_count",
                          persist_state="session")
        fig = plots.filters_figure(static.filters[:count], columns=7,
                                   title=title(sel, "Embedding filters", f"first {count} raw filters"))
        show_figure(fit(fig, sel, 380), "filters-raw", sel, npz=lambda: {"filters": static.filters})


sel = current()
header("Embedding filters", EXPLANATION, sel)
if sel is not None:
    filters(sel)
