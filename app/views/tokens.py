"""What the tokens know, layer by layer: patch-token PCA as colours, and one patch token's similarity to all.

The layer and the query are the Attention page's own settings (same session keys, same URL names),
so a patch clicked here is the Attention page's query and vice versa.
"""
import numpy as np
import streamlit as st

from vitviz_dashboard import caches, compute, params, selection
from vitviz.figures import plots
from vitviz.analysis.tokens import joint_token_pca, token_similarity
from vitviz.export import grid_csv
from vitviz.text.i18n import t
from vitviz.text.names import token_label
from vitviz_dashboard.controls import clicked_point, controls
from vitviz_dashboard.frame import current, fit, fragment, header, title
from vitviz_dashboard.widgets import show_figure

FITS = ["image", "samples"]


def samples_joint_fit(sel, layer: int):
    """The joint fit on the bundled samples (each analysed once per server), and this image's place among them."""
    sels, _ = selection.sample_selections(sel)
    keys = [s.image_key for s in sels]
    # One PCA fitted jointly on every bundled sample's layer tokens (colours comparable across images), keyed
    # by the samples' analyses, not this image's: every image of a model and size shares one fit.
    joint = caches.cached("joint_token_pca", (*sel.model_key, sel.size, layer), lambda: joint_token_pca(
        tuple(np.asarray(compute.analysis(s).patch_tokens[layer], dtype=np.float32) for s in sels)))
    return joint, keys.index(sel.image_key) if sel.image_key in keys else None


@fragment
def tokens_view(sel) -> None:
    result = compute.analysis(sel)
    layout = result.layout
    if result.patch_tokens is None:
        st.warning(t("tokens.none"))
        return
    layers = result.patch_tokens.shape[0]
    picked = st.session_state.pop("_vv_token_pick", None)
    if picked is not None:
        st.session_state["vv_query"] = picked
    c1, c2, c3 = controls("tokens", [3, 2, 2])
    params.prepare("layer", layers - 1, lambda v: 0 <= v < layers)
    layer = c1.slider(t("attention.layer"), 0, layers - 1, key="vv_layer", persist_state="session")
    params.prepare("fit", "image", lambda v: v in FITS)
    fit_on = c2.radio(t("tokens.fit"), FITS, key="vv_token_fit", persist_state="session",
                      format_func=lambda f: t(f"tokens.fit_{f}"), help=t("tokens.fit_help"))
    params.prepare("mask", False, lambda v: isinstance(v, bool))
    masked = c3.toggle(t("tokens.mask"), key="vv_token_mask", persist_state="session", help=t("tokens.mask_help"))
    params.prepare("query", 0, lambda v: 0 <= v < layout.num_tokens)
    query = int(st.session_state.get("vv_query", 0))
    for name, value, default in (("layer", layer, layers - 1), ("fit", fit_on, "image"), ("mask", masked, False),
                                 ("query", query, 0)):
        params.publish(name, value, default)

    tokens = np.asarray(result.patch_tokens[layer], dtype=np.float32)
    if fit_on == "samples":
        joint, here = samples_joint_fit(sel, layer)
        pca = joint[here] if here is not None else joint[0].fit.transform(tokens)
    else:
        pca = compute.token_pca(sel, layer)
    evr = pca.explained_variance_ratio
    left, right = st.columns([3, 2])
    with left:
        fig = plots.token_pca_figure(pca.rgb, result.prepared.display, patch_size=layout.patch_size,
                                     foreground=pca.foreground if masked else None, scores=pca.scores,
                                     explained=evr,
                                     title=title(sel, t("tokens.pca_title"), t("attention.layer_n", layer=layer),
                                                 two_lines=True))  # the columns are narrow on tablets
        share = f"{float(np.sum(evr[:3])):.0%}"
        show_figure(fit(fig, sel), "tokens-pca", sel, npz=lambda: {"rgb": pca.rgb, "scores": pca.scores,
                                                                   "foreground": pca.foreground,
                                                                   "explained_variance_ratio": evr},
                    alt=t("tokens.pca_alt", layer=layer, share=share))
        st.caption(t("tokens.pca_caption", share=share, fg=f"{float(pca.foreground.mean()):.0%}"))
    with right:
        patch = layout.patch_of(query)
        note = ""
        if patch is None:  # a prefix token has no place on the image: the centre patch until one is clicked
            patch = (layout.grid[0] // 2, layout.grid[1] // 2)
            note = t("tokens.prefix_query", token=token_label(layout, query))
        sim = token_similarity(tokens, patch)
        fig = plots.token_similarity_figure(
            sim, result.prepared.display, patch_size=layout.patch_size, query=patch, picker=True,
            title=title(sel, t("tokens.sim_title"), t("tokens.sim_setting", layer=layer, row=patch[0], col=patch[1]),
                        two_lines=True))
        event = show_figure(fit(fig, sel), "tokens-similarity", sel, on_select=True, csv=lambda: grid_csv(sim),
                            alt=t("tokens.sim_alt", row=patch[0], col=patch[1], mean=f"{float(sim.mean()):.2f}"))
        if note:
            st.caption(note)
        st.caption(t("tokens.sim_caption"))
        point = clicked_point(event, len(fig.data) - 1)
        if point is not None and point + layout.num_prefix_tokens != query:
            st.session_state["_vv_token_pick"] = point + layout.num_prefix_tokens
            st.rerun(scope="fragment")


sel = current()
header(t("tokens.page"), t("tokens.explanation"), sel)
if sel is not None:
    tokens_view(sel)
