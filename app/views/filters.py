"""Patch-embedding filters: what the first linear layer looks for (paper Fig. 7 left)."""
import streamlit as st

from appstate import analysis, csv_bytes, guarded, header, selection, show_figure
from vitviz import plots

header("Embedding filters",
       "The patch projection E is a bank of D filters of P×P×3 pixels. Like the paper's Fig. 7 (left) we show the "
       "top principal components of those filters (centred, each scaled to its own range); they resemble basis "
       "functions for the fine structure within a patch. Toggle to see the raw filters.")


def render(sel) -> None:
    static = analysis(sel).static
    view = st.radio("Show", ["Principal components", "Raw filters"], horizontal=True, key="vv_filter_view")
    if view == "Principal components":
        pca = static.filter_pca
        k = len(pca.components)
        st.write(f"Top {k} of {static.filters.shape[0]} filters' principal components; together they explain "
                 f"**{pca.explained_variance_ratio.sum():.0%}** of the filters' variance.")
        show_figure(plots.filters_figure(pca.components, columns=7, title=f"top-{k} principal components"),
                    "filters-pca", npz=lambda: {"components": pca.components,
                                                "explained_variance_ratio": pca.explained_variance_ratio})
        show_figure(plots.explained_variance_figure(pca.explained_variance_ratio, "explained variance"), "filters-evr",
                    csv=lambda: csv_bytes(pca.explained_variance_ratio[:, None], ["explained_variance_ratio"],
                                          "component"))
    else:
        count = st.slider("Filters shown", 7, min(196, static.filters.shape[0]), 49, step=7, key="vv_filter_count")
        show_figure(plots.filters_figure(static.filters[:count], columns=7, title=f"first {count} raw filters"),
                    "filters-raw", npz=lambda: {"filters": static.filters})


sel = selection("filters")
if sel is not None:
    with guarded():
        render(sel)
