"""Patch-embedding filters: what the first linear layer looks for (paper Fig. 7 left)."""
import streamlit as st

from vitviz_dashboard import compute, params
from vitviz.figures import plots
from vitviz.export import matrix_csv
from vitviz.text.i18n import t
from vitviz_dashboard.frame import current, fit, fragment, header, title
from vitviz_dashboard.widgets import show_figure


def model_note(sel, result) -> str:
    """How the loaded model differs from the paper's ViT-L/32, in a few words (empty when it does not)."""
    notes = []
    if sel.untrained:
        notes.append(t("filters.note_random"))
    if result.logits is None:
        notes.append(t("filters.note_backbone"))
    ph, pw = result.layout.patch_size
    if (ph, pw) != (32, 32):
        notes.append(t("filters.note_patch", ph=ph, pw=pw))
    return t("filters.differs", notes="; ".join(notes)) if notes else ""


@fragment
def filters(sel) -> None:
    result = compute.analysis(sel)
    static = result.static
    if static.filter_pca is None:  # a hybrid: its projection reads CNN features, not pixels
        st.info(t("filters.hybrid", note=static.filters_note))
        return
    note = model_note(sel, result)
    if note:
        st.caption(note)
    params.prepare("filters", "pcs", lambda v: v in ("pcs", "raw"))
    view = st.radio(t("filters.show"), ["pcs", "raw"], horizontal=True, key="vv_filter_view", persist_state="session",
                    format_func=lambda v: t("filters.pca") if v == "pcs" else t("filters.raw"))
    params.publish("filters", view, "pcs")
    if view == "pcs":
        pca = static.filter_pca
        k = len(pca.components)
        st.write(t("filters.pca_text", k=k, n=static.filters.shape[0], share=f"{pca.explained_variance_ratio.sum():.0%}"))
        left, right = st.columns([3, 2])
        with left:
            fig = plots.filters_figure(pca.components, columns=7,
                                       title=title(sel, t("filters.page"), t("filters.top_k", k=k)))
            show_figure(fit(fig, sel, 380), "filters-pca", sel,
                        npz=lambda: {"components": pca.components,
                                     "explained_variance_ratio": pca.explained_variance_ratio},
                        alt=t("filters.pca_alt", k=k))
        with right:
            show_figure(plots.explained_variance_figure(pca.explained_variance_ratio,
                                                        title(sel, t("filters.evr"))), "filters-evr", sel,
                        csv=lambda: matrix_csv(pca.explained_variance_ratio[:, None], ["explained_variance_ratio"],
                                               "component"))
    else:
        total = static.filters.shape[0]
        top = min(196, total) // 7 * 7
        params.prepare("count", min(49, top), lambda v: 7 <= v <= top and v % 7 == 0)
        count = st.slider(t("filters.count"), 7, top, step=7, key="vv_filter_count", persist_state="session")
        params.publish("count", count, min(49, top))
        fig = plots.filters_figure(static.filters[:count], columns=7,
                                   title=title(sel, t("filters.page"), t("filters.first_n", n=count)))
        show_figure(fit(fig, sel, 380), "filters-raw", sel, npz=lambda: {"filters": static.filters})


sel = current()
header(t("filters.page"), t("filters.explanation"), sel)
if sel is not None:
    filters(sel)
