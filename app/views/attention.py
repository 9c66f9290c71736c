"""Attention maps per layer and head, and attention rollout (paper Fig. 6), with attention sinks marked."""
import streamlit as st

from vitviz_dashboard import caches, compute, params, widgets
from vitviz.analysis import attention_map
from vitviz.figures.map_pictures import heads_html, map_picture
from vitviz.text.i18n import language, t, tn
from vitviz.text.names import token_label
from vitviz_dashboard.controls import controls, head_text, layer_and_head, layer_and_head_setting
from vitviz_dashboard.frame import current, fragment, header, title
from vitviz_dashboard.widgets import data_row, figure_stem

MAP_HEIGHT = 440  # px: the map's picture at most, beside the heads on a 1440×900 screen


@fragment
def attention_view(sel) -> None:
    result = compute.analysis(sel)
    layout, attn = result.layout, result.attention
    layers, heads = attn.shape[:2]
    picked = st.session_state.pop("_vv_query_pick", None)
    if picked is not None:
        st.session_state["vv_query"] = picked
    # The figures are made before any element is sent, from the values the widgets will show: the
    # browser then redraws once per step instead of once for the controls and again per figure.
    setting = (*layer_and_head_setting(layers, heads), params.prepare("query", 0, lambda v: 0 <= v < layout.num_tokens),
               params.prepare("opacity", 0.6, lambda v: 0.0 <= v <= 1.0 and round(v * 20) == v * 20))
    figures = attention_figures(sel, result, *setting)
    c1, c2, c3, c4 = controls("attention", [3, 2, 2, 2])
    layer, head = layer_and_head(c1, c2, layers, heads)
    query = c3.selectbox(t("attention.query"), list(range(layout.num_tokens)), key="vv_query", persist_state="session",
                         format_func=lambda i: token_label(layout, i))
    opacity = c4.slider(t("attention.opacity"), 0.0, 1.0, step=0.05, key="vv_opacity", persist_state="session")
    params.publish("query", query, 0)
    params.publish("opacity", opacity, 0.6)
    if (layer, head, query, opacity) != setting:  # a widget settled on another value than its session state's
        figures = attention_figures(sel, result, layer, head, query, opacity)
    (picture, top, grid_map, fig_title), heads_page, maps = figures

    left, right = st.columns([3, 2])
    with left:
        point = show_map("attention-map", sel, result, picture, top, grid_map, fig_title, t("plot.attention"),
                         # fetched when asked: a deferred download's closure lives as long as the session, and
                         # holding the attention itself kept every evicted analysis alive (issue 24)
                         npz=lambda: {"attention": compute.analysis(sel).attention}, pickable=True)
        if point is not None and point + layout.num_prefix_tokens != query:
            st.session_state["_vv_query_pick"] = point + layout.num_prefix_tokens
            st.rerun(scope="fragment")
    with right:
        st.html(heads_page)
        data_row("attention-heads", figure_stem("attention-heads", sel), npz=lambda: {"maps": maps})
    for near in (layer - 1, layer + 1):  # the slider's next step either way is then a cache hit
        if 0 <= near < layers:
            compute.prefetch(heads_figure, sel, near, query, opacity, heads_title(sel, heads, near), language())


def show_map(key: str, sel, result, picture: str, top: float, grid_map, fig_title: str, value_name: str, *, npz,
             pickable: bool = False):
    """:func:`widgets.show_map` with the analysis' attention sinks framed; returns the clicked patch when ``pickable``."""
    found, _ = compute.sinks(sel)
    return widgets.show_map(key, sel, result.prepared.display.shape, picture, top, grid_map, fig_title, value_name,
                            npz=npz, marked=found.sinks, pickable=pickable, max_height=MAP_HEIGHT)


def attention_figures(sel, result, layer: int, head, query: int, opacity: float):
    """((the map's picture, its colour range's top, the map, its title), the heads' HTML, the heads' maps)
    of one setting."""
    layout, lang = result.layout, language()
    grid_map = attention_map(result.attention, layout, layer, head, query)
    found, _ = compute.sinks(sel)
    picture, top = map_picture(grid_map, result.prepared.display, layout.patch_size, opacity=opacity,
                               query_patch=layout.patch_of(query), marked=found.sinks)
    fig_title = title(sel, t("attention.fig_title"), t("attention.fig_setting", layer=layer, head=head_text(head),
                                                       query=token_label(layout, query)))
    heads_page = heads_figure(sel, layer, query, opacity, heads_title(sel, result.attention.shape[1], layer), lang)
    return (picture, top, grid_map, fig_title), heads_page, compute.head_maps(sel, layer, query)


def heads_title(sel, heads: int, layer: int) -> str:
    return title(sel, t("attention.heads_title", n=heads), t("attention.layer_n", layer=layer))


# The heads are server-composed pictures in HTML: as a plotly chart they took the browser ~100 ms per step.
def heads_figure(sel, layer: int, query: int, opacity: float, fig_title: str, lang: str) -> str:
    result = compute.analysis(sel)
    layout, display = result.layout, result.prepared.display
    found, _ = compute.sinks(sel)
    heads = result.attention.shape[1]
    return caches.cached("heads_html", (*sel.key, layer, query, opacity, fig_title, lang), lambda: heads_html(
        compute.head_maps(sel, layer, query), display, layout.patch_size, columns=3 if heads <= 12 else 4,
        opacity=opacity, query_patch=layout.patch_of(query), marked=found.sinks, value_name=t("plot.attention"),
        title=fig_title))


@fragment
def rollout_view(sel) -> None:
    result = compute.analysis(sel)
    layout = result.layout
    layers = result.attention.shape[0]
    found, outliers = compute.sinks(sel)
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
    # Where sinks are found the rollout leaves them out by default (the paper's object-focused figure), and
    # the toggle puts them back.
    sink_default = "drop" if found.sinks else "keep"
    params.prepare("sinks", sink_default, lambda v: v in ("keep", "drop"))
    sink_mode = r4.radio(t("attention.sinks"), ["keep", "drop"], key="vv_sinks", persist_state="session",
                         horizontal=True, disabled=not found.sinks, format_func=lambda m: t(f"attention.sinks_{m}"),
                         help=t("attention.sinks_help"))
    for name, value, default in (("fusion", fusion, "mean"), ("discard", discard, 0.0), ("start", start, 0),
                                 ("sinks", sink_mode, sink_default)):
        params.publish(name, value, default)
    drop = result.sink_tokens if sink_mode == "drop" and found.sinks else ()
    rolled = compute.rollout(sel, fusion, float(discard), int(start), tuple(drop))
    setting = t("attention.rollout_setting", start=start, fusion=t(f"attention.fusion_{fusion}"),
                discard=f"{discard:.0%}") + (t("attention.rollout_sinks_out") if drop else "")
    left, right = st.columns([3, 2])
    with left:
        picture, top = map_picture(rolled, result.prepared.display, layout.patch_size, marked=found.sinks)
        show_map("attention-rollout", sel, result, picture, top, rolled, title(sel, t("attention.rollout"), setting),
                 t("plot.rollout"), npz=lambda: {"rollout": rolled})
    with right:
        if found.sinks:
            r, c = found.sinks[0]
            where = ", ".join(f"({a}, {b})" for a, b in found.sinks)
            layers_out = found.outsized_layers(r, c)
            st.markdown(tn("attention.sink_found_" + ("one" if len(found.sinks) == 1 else "many"), len(layers_out),
                           where=where, row=r, col=c, score=f"{found.score[r, c]:.0f}", tokens=layout.num_tokens,
                           layers=", ".join(map(str, layers_out))))
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
