"""Attention maps per layer and head, and attention rollout (paper Fig. 6)."""
import numpy as np
import streamlit as st

from appstate import analysis, apply_pick, clicked_point, grid_csv, guarded, header, selection, show_figure
from vitviz import plots
from vitviz.analysis import attention_map, rollout_map
from vitviz.pipeline import default_query

header("Attention",
       "Left: where one query token looks in one layer — the row of the softmax attention matrix over the patches "
       "(prefix columns left out, not renormalised). Click a patch to use it as the query. Right: attention rollout "
       "(Abnar & Zuidema 2020): heads fused, (A + I) renormalised and multiplied up through the layers.")


def render(sel) -> None:
    result = analysis(sel)
    layout, attn, display = result.layout, result.attention, result.prepared.display
    layers, heads = attn.shape[:2]
    gw = layout.grid[1]
    apply_pick("vv_query_pick", ("vv_query",))
    queries = list(range(layout.num_tokens))
    if st.session_state.get("vv_query", 0) not in queries:
        st.session_state["vv_query"] = 0
    c1, c2, c3, c4 = st.columns(4)
    layer = c1.slider("Layer", 0, layers - 1, layers - 1, key="vv_layer")
    head_choice = c2.selectbox("Head", ["mean of heads"] + [f"head {h}" for h in range(heads)], key="vv_head")
    query = c3.selectbox("Query token", queries, key="vv_query", format_func=layout.token_name)
    opacity = c4.slider("Opacity", 0.0, 1.0, 0.6, 0.05, key="vv_opacity")
    head = None if head_choice == "mean of heads" else int(head_choice.split()[1])
    grid_map = attention_map(attn, layout, layer, head, query)
    query_patch = divmod(query - layout.num_prefix_tokens, gw) if query >= layout.num_prefix_tokens else None

    left, right = st.columns(2)
    with left:
        fig = plots.attention_overlay(display, grid_map, layout.patch_size, opacity=opacity, query_patch=query_patch,
                                      title=f"layer {layer}, {head_choice}, query {layout.token_name(query)}")
        trace = plots.add_patch_picker(fig, layout.grid, layout.patch_size, grid_map, "attention")
        event = show_figure(fig, "attn-map", on_select=True, npz=lambda: {"attention": attn},
                            csv=lambda: grid_csv(grid_map))
        picked = clicked_point(event, trace)
        if picked is not None and picked + layout.num_prefix_tokens != query:
            st.session_state["vv_query_pick"] = (picked + layout.num_prefix_tokens,)
            st.rerun()
    with right:
        r1, r2, r3 = st.columns(3)
        fusion = r1.selectbox("Head fusion", ["mean", "max", "min"], key="vv_fusion")
        discard = r2.slider("Discard ratio", 0.0, 0.95, 0.0, 0.05, key="vv_discard",
                            help="Share of the weakest attention links dropped in every row (prefix→prefix kept).")
        start = r3.slider("Start layer", 0, layers - 1, 0, key="vv_start")
        rollout_query = query if query < layout.num_prefix_tokens else default_query(layout)
        rolled = rollout_map(attn, layout, query=rollout_query, head_fusion=fusion, discard_ratio=discard,
                             start_layer=start)
        show_figure(plots.attention_overlay(display, rolled, layout.patch_size, opacity=opacity, value_name="rollout",
                                            title=f"rollout from layer {start}, {fusion} fusion, discard {discard:.0%}"),
                    "attn-rollout", npz=lambda: {"rollout": rolled},
                    csv=lambda: grid_csv(rolled))

    st.subheader(f"All {heads} heads of layer {layer}")
    maps = np.stack([attention_map(attn, layout, layer, h, query) for h in range(heads)])
    show_figure(plots.heads_grid(maps, columns=min(6, heads)), "attn-heads", npz=lambda: {"maps": maps})


sel = selection("attention")
if sel is not None:
    with guarded():
        render(sel)
