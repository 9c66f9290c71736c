"""Attention maps per layer and head, and attention rollout (paper Fig. 6), with attention sinks marked."""
import streamlit as st

import compute
import params
from vitviz import plots
from vitviz.analysis import attention_map
from vitviz.export import grid_csv
from vitviz.pipeline import default_query
from vitviz.i18n import language, t
from widgets import (PRESENTER_HEIGHT, clicked_point, controls, current, fit, fragment, head_text, header,
                     layer_and_head, map_alt, show_figure, title)

@fragment
def attention_view(sel) -> None:
    result = compute.analysis(sel)
    aid = compute.analysis_id(sel)
    layout, attn = result.layout, result.attention
    layers, heads = attn.shape[:2]
    picked = st.session_state.pop("_vv_query_pick", None)
    if picked is not None:
        st.session_state["vv_query"] = picked
    c1, c2, c3, c4 = controls("attention", [3, 2, 2, 2])
    layer, head = layer_and_head(c1, c2, layers, heads)
    params.prepare("query", 0, lambda v: 0 <= v < layout.num_tokens)
    query = c3.selectbox(t("attention.query"), list(range(layout.num_tokens)), key="vv_query", persist_state="session",
                         format_func=layout.token_name)
    opacity = c4.slider(t("attention.opacity"), 0.0, 1.0, 0.6, 0.05, key="vv_opacity", persist_state="session")
    params.publish("query", query, 0)
    grid_map = attention_map(attn, layout, layer, head, query)

    left, right = st.columns([3, 2])
    with left:
        fig_title = title(sel, t("attention.fig_title"), t("attention.fig_setting", layer=layer, head=head_text(head),
                                                             query=layout.token_name(query)))
        fig, trace = attention_figure(aid, layer, head, query, opacity, fig_title, sel.presenter, language(), result)
        event = show_figure(fig, "attention-map", sel, on_select=True, npz=lambda: {"attention": attn},
                            csv=lambda: grid_csv(grid_map), alt=map_alt(grid_map))
        point = clicked_point(event, trace)
        if point is not None and point + layout.num_prefix_tokens != query:
            st.session_state["_vv_query_pick"] = point + layout.num_prefix_tokens
            st.rerun(scope="fragment")
    with right:
        maps = compute.head_maps(aid, layer, query, result)
        show_figure(heads_figure(aid, layer, query, title(sel, t("attention.heads_title", n=heads),
                                                              t("attention.layer_n", layer=layer)), language(), result),
                    "attention-heads", sel, npz=lambda: {"maps": maps}, alt=t("attention.heads_alt", n=heads))


# Figures are cached per setting: a slider step back to a seen value sends without rebuilding.
# The heads are one server-composed picture: n plotly subplots took the browser ~0.5 s per step.
@st.cache_resource(max_entries=128, show_spinner=False)
def attention_figure(aid: str, layer: int, head, query: int, opacity: float, fig_title: str, presenter: bool,
                     lang: str, _result):  # lang: axis titles follow the language
    layout, display = _result.layout, _result.prepared.display
    found, _ = compute.sinks(aid, _result)
    grid_map = attention_map(_result.attention, layout, layer, head, query)
    fig = plots.attention_overlay(display, grid_map, layout.patch_size, opacity=opacity,
                                  query_patch=layout.patch_of(query),
                                  marked=found.sinks, marked_label=t("plot.sink"), value_name=t("plot.attention"),
                                  title=fig_title)
    trace = plots.add_patch_picker(fig, layout.grid, layout.patch_size, grid_map, t("plot.attention"))
    if presenter:  # the size widgets.fit gives; applied here because the figure is shared by sessions
        fig.update_layout(height=PRESENTER_HEIGHT)
    return fig, trace


@st.cache_resource(max_entries=128, show_spinner=False)
def heads_figure(aid: str, layer: int, query: int, fig_title: str, lang: str, _result):
    layout, display = _result.layout, _result.prepared.display
    found, _ = compute.sinks(aid, _result)
    heads = _result.attention.shape[1]
    return plots.heads_mosaic(compute.head_maps(aid, layer, query, _result), display, layout.patch_size,
                              columns=3 if heads <= 12 else 4, width=520, query_patch=layout.patch_of(query),
                              marked=found.sinks, value_name=t("plot.attention"), title=fig_title)


@fragment
def rollout_view(sel) -> None:
    result = compute.analysis(sel)
    aid = compute.analysis_id(sel)
    layout, display = result.layout, result.prepared.display
    layers = result.attention.shape[0]
    found, outliers = compute.sinks(aid, result)
    st.subheader(t("attention.rollout"))
    r1, r2, r3, r4 = controls("rollout", 4)
    params.prepare("fusion", "mean", lambda v: v in ("mean", "max", "min"))
    fusion = r1.selectbox(t("attention.fusion"), ["mean", "max", "min"], key="vv_fusion", persist_state="session",
                          format_func=lambda f: t(f"attention.fusion_{f}"))
    params.prepare("discard", 0.0, lambda v: 0.0 <= v <= 0.95)
    discard = r2.slider(t("attention.discard"), 0.0, 0.95, step=0.05, key="vv_discard", persist_state="session",
                        help=t("attention.discard_help"))
    params.prepare("start", 0, lambda v: 0 <= v < layers)
    start = r3.slider(t("attention.start"), 0, layers - 1, key="vv_start", persist_state="session")
    params.prepare("sinks", "keep", lambda v: v in ("keep", "drop"))
    sink_mode = r4.radio(t("attention.sinks"), ["keep", "drop"], key="vv_sinks", persist_state="session",
                         horizontal=True, disabled=not found.sinks, format_func=lambda m: t(f"attention.sinks_{m}"),
                         help=t("attention.sinks_help"))
    for name, value, default in (("fusion", fusion, "mean"), ("discard", discard, 0.0), ("start", start, 0),
                                 ("sinks", sink_mode, "keep")):
        params.publish(name, value, default)
    drop = found.sink_tokens if sink_mode == "drop" and found.sinks else ()
    query = default_query(layout)
    if (fusion, discard, start, drop) == ("mean", 0.0, 0, ()):
        rolled = result.rollout  # computed with the analysis, from float32 attention
    else:
        rolled = compute.rollout(aid, query, fusion, float(discard), int(start), tuple(drop), result)
    setting = t("attention.rollout_setting", start=start, fusion=t(f"attention.fusion_{fusion}"),
                discard=f"{discard:.0%}") + (t("attention.rollout_sinks_out") if drop else "")
    left, right = st.columns([3, 2])
    with left:
        fig = plots.attention_overlay(display, rolled, layout.patch_size, value_name=t("plot.rollout"),
                                      marked=found.sinks, marked_label=t("plot.sink"),
                                      title=title(sel, t("attention.rollout"), setting))
        show_figure(fit(fig, sel), "attention-rollout", sel, npz=lambda: {"rollout": rolled},
                    csv=lambda: grid_csv(rolled), alt=map_alt(rolled))
    with right:
        if found.sinks:
            r, c = found.sinks[0]
            where = ", ".join(f"({a}, {b})" for a, b in found.sinks)
            layers_out = found.outsized_layers(r, c)
            st.markdown(t("attention.sink_found_" + ("one" if len(found.sinks) == 1 else "many"), where=where, row=r, col=c, score=f"{found.score[r, c]:.0f}",
                          tokens=layout.num_tokens, layers=", ".join(map(str, layers_out))))
            st.caption(t("attention.sink_explanation"))
            norm_note = (t("attention.sink_not_high_norm", ratio=f"{outliers.ratio[:, layout.num_prefix_tokens + r * layout.grid[1] + c].max():.2f}")
                         if outliers is not None and not outliers.patches else "")
            st.caption(norm_note + " " + t("attention.sink_howto"))
            if not layout.num_prefix_tokens > 1:
                st.caption(t("attention.sink_registers"))
        else:
            st.caption(t("attention.no_sink", threshold=f"{found.threshold:.0f}"))
        if outliers is not None and outliers.patches:
            st.caption(t("attention.high_norm", where=", ".join(map(str, outliers.patches)), k=f"{outliers.k:g}"))


sel = current()
header(t("attention.page"), t("attention.explanation"), sel)
if sel is not None:
    attention_view(sel)
    rollout_view(sel)
