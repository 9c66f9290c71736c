"""Attention maps per layer and head, and attention rollout (paper Fig. 6), with attention sinks marked."""
import streamlit as st

import compute
import params
from vitviz import plots
from vitviz.analysis import SINK_EXPLANATION, attention_map
from vitviz.export import grid_csv
from vitviz.pipeline import default_query
from widgets import PRESENTER_HEIGHT, clicked_point, current, fit, fragment, header, show_figure, title

EXPLANATION = ("Top: where one query token looks in one layer — its row of the softmax attention matrix over the "
               "patches (prefix columns left out, not renormalised); click a patch to make it the query. Bottom: "
               "attention rollout (Abnar & Zuidema 2020), the paper's Fig. 6 method: heads fused, (A + I) "
               "renormalised and multiplied through the layers, read from the class token (or the mean patch query "
               "without one). Dashed magenta frames mark attention sinks.")
HEAD_MEAN = "mean"


@fragment
def attention_view(sel) -> None:
    result = compute.analysis(sel)
    aid = compute.analysis_id(sel)
    layout, attn = result.layout, result.attention
    layers, heads = attn.shape[:2]
    picked = st.session_state.pop("_vv_query_pick", None)
    if picked is not None:
        st.session_state["vv_query"] = picked
    c1, c2, c3, c4 = st.columns([3, 2, 2, 2])
    params.prepare("layer", layers - 1, lambda v: 0 <= v < layers)
    layer = c1.slider("Layer", 0, layers - 1, key="vv_layer", persist_state="session")
    head_options = [HEAD_MEAN] + [str(h) for h in range(heads)]
    params.prepare("head", HEAD_MEAN, lambda v: v in head_options)
    head_choice = c2.selectbox("Head", head_options, key="vv_head", persist_state="session",
                               format_func=lambda h: "mean of heads" if h == HEAD_MEAN else f"head {h}")
    params.prepare("query", 0, lambda v: 0 <= v < layout.num_tokens)
    query = c3.selectbox("Query token", list(range(layout.num_tokens)), key="vv_query", persist_state="session",
                         format_func=layout.token_name)
    opacity = c4.slider("Opacity", 0.0, 1.0, 0.6, 0.05, key="vv_opacity", persist_state="session")
    for name, value, default in (("layer", layer, layers - 1), ("head", head_choice, HEAD_MEAN), ("query", query, 0)):
        params.publish(name, value, default)
    head = None if head_choice == HEAD_MEAN else int(head_choice)
    grid_map = attention_map(attn, layout, layer, head, query)
    head_text = "mean of heads" if head is None else f"head {head}"

    left, right = st.columns([3, 2])
    with left:
        fig_title = title(sel, "Attention", f"layer {layer}, {head_text}, query {layout.token_name(query)}")
        fig, trace = attention_figure(aid, layer, head, query, opacity, fig_title, sel.presenter, result)
        event = show_figure(fig, "attention-map", sel, on_select=True, npz=lambda: {"attention": attn},
                            csv=lambda: grid_csv(grid_map))
        point = clicked_point(event, trace)
        if point is not None and point + layout.num_prefix_tokens != query:
            st.session_state["_vv_query_pick"] = point + layout.num_prefix_tokens
            st.rerun(scope="fragment")
    with right:
        maps = compute.head_maps(aid, layer, query, result)
        show_figure(heads_figure(aid, layer, query, title(sel, f"All {heads} heads", f"layer {layer}"), result),
                    "attention-heads", sel, npz=lambda: {"maps": maps})


# Figures are cached per setting: a slider step back to a seen value sends without rebuilding.
# The heads are one server-composed picture: n plotly subplots took the browser ~0.5 s per step.
@st.cache_resource(max_entries=128, show_spinner=False)
def attention_figure(aid: str, layer: int, head, query: int, opacity: float, fig_title: str, presenter: bool,
                     _result):
    layout, display = _result.layout, _result.prepared.display
    found, _ = compute.sinks(aid, _result)
    grid_map = attention_map(_result.attention, layout, layer, head, query)
    fig = plots.attention_overlay(display, grid_map, layout.patch_size, opacity=opacity,
                                  query_patch=layout.patch_of(query),
                                  marked=found.sinks, title=fig_title)
    trace = plots.add_patch_picker(fig, layout.grid, layout.patch_size, grid_map, "attention")
    if presenter:  # the size widgets.fit gives; applied here because the figure is shared by sessions
        fig.update_layout(height=PRESENTER_HEIGHT)
    return fig, trace


@st.cache_resource(max_entries=128, show_spinner=False)
def heads_figure(aid: str, layer: int, query: int, fig_title: str, _result):
    layout, display = _result.layout, _result.prepared.display
    found, _ = compute.sinks(aid, _result)
    heads = _result.attention.shape[1]
    return plots.heads_mosaic(compute.head_maps(aid, layer, query, _result), display, layout.patch_size,
                              columns=3 if heads <= 12 else 4, width=520, query_patch=layout.patch_of(query),
                              marked=found.sinks, value_name="attention", title=fig_title)


@fragment
def rollout_view(sel) -> None:
    result = compute.analysis(sel)
    aid = compute.analysis_id(sel)
    layout, display = result.layout, result.prepared.display
    layers = result.attention.shape[0]
    found, outliers = compute.sinks(aid, result)
    st.subheader("Attention rollout")
    r1, r2, r3, r4 = st.columns(4)
    params.prepare("fusion", "mean", lambda v: v in ("mean", "max", "min"))
    fusion = r1.selectbox("Head fusion", ["mean", "max", "min"], key="vv_fusion", persist_state="session")
    params.prepare("discard", 0.0, lambda v: 0.0 <= v <= 0.95)
    discard = r2.slider("Discard ratio", 0.0, 0.95, step=0.05, key="vv_discard", persist_state="session",
                        help="Share of the weakest attention links dropped in every row (prefix→prefix kept).")
    params.prepare("start", 0, lambda v: 0 <= v < layers)
    start = r3.slider("Start layer", 0, layers - 1, key="vv_start", persist_state="session")
    params.prepare("sinks", "keep", lambda v: v in ("keep", "drop"))
    sink_mode = r4.radio("Attention sinks", ["keep", "drop"], key="vv_sinks", persist_state="session",
                         horizontal=True, disabled=not found.sinks,
                         format_func=lambda m: "keep" if m == "keep" else "leave out",
                         help="Leave the sink patches out as keys in every layer; rows renormalised.")
    for name, value, default in (("fusion", fusion, "mean"), ("discard", discard, 0.0), ("start", start, 0),
                                 ("sinks", sink_mode, "keep")):
        params.publish(name, value, default)
    drop = found.sink_tokens if sink_mode == "drop" and found.sinks else ()
    query = default_query(layout)
    if (fusion, discard, start, drop) == ("mean", 0.0, 0, ()):
        rolled = result.rollout  # computed with the analysis, from float32 attention
    else:
        rolled = compute.rollout(aid, query, fusion, float(discard), int(start), tuple(drop), result)
    setting = f"from layer {start}, {fusion} fusion, discard {discard:.0%}" + (", sinks left out" if drop else "")
    left, right = st.columns([3, 2])
    with left:
        fig = plots.attention_overlay(display, rolled, layout.patch_size, value_name="rollout",
                                      marked=found.sinks, title=title(sel, "Attention rollout", setting))
        show_figure(fit(fig, sel), "attention-rollout", sel, npz=lambda: {"rollout": rolled},
                    csv=lambda: grid_csv(rolled))
    with right:
        if found.sinks:
            r, c = found.sinks[0]
            where = ", ".join(f"({a}, {b})" for a, b in found.sinks)
            layers_out = found.outsized_layers(r, c)
            st.markdown(f"**Attention sink{'s' if len(found.sinks) > 1 else ''} at patch {where}.** "
                        f"Patch ({r}, {c}) receives up to **{found.score[r, c]:.0f}×** the uniform share of "
                        f"attention (1/{layout.num_tokens} per key), in layer(s) {', '.join(map(str, layers_out))}.")
            st.caption(SINK_EXPLANATION)
            norm_note = ("It is not a high-norm token: its block outputs are "
                         f"≤ {outliers.ratio[:, layout.num_prefix_tokens + r * layout.grid[1] + c].max():.2f}× the "
                         "median patch norm." if outliers is not None and not outliers.patches else "")
            st.caption(norm_note + " To see the object: *leave out* the sink (its key columns dropped, rows "
                       "renormalised), or start the rollout after the layer where it appears.")
            if not layout.num_prefix_tokens > 1:
                st.caption("For contrast: models with register tokens (Darcet et al. 2024, e.g. DINOv2 ViT-S/14 with "
                           "4 registers, `vit_small_patch14_reg4_dinov2`) give such global attention a place of its "
                           "own outside the image; their maps have fewer such patches.")
        else:
            st.caption(f"No attention sink here: no patch receives ≥ {found.threshold:.0f}× the uniform share in "
                       "any layer.")
        if outliers is not None and outliers.patches:
            st.caption(f"High-norm tokens (Darcet et al. 2024) at {', '.join(map(str, outliers.patches))}: output "
                       f"norm > {outliers.k:g}× the median patch's.")


sel = current()
header("Attention", EXPLANATION, sel)
if sel is not None:
    attention_view(sel)
    rollout_view(sel)
