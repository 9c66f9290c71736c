"""Compare: the same image through two models — ViT vs ViT, or ViT vs CNN.

Model 1 is the sidebar's; model 2 (``model2=``, untrained only with ``untrained2=1``) is any
registered ViT or CNN, run at its own input size with its own preprocessing. Side by side: each
ViT's attention rollout or one layer's class-token attention, a CNN's Grad-CAM of its top-1 class.
Below: mean attention distance vs depth overlaid, each ViT with its own reference lines (against a
CNN: its receptive-field radius on relative depth), and the Table-1 facts side by side.
"""
import dataclasses

import numpy as np
import streamlit as st

from vitviz_dashboard import compute, params
from vitviz_dashboard.sidebar import catalogue
from vitviz.figures import plots
from vitviz.analysis import attention_map, default_query, depth_comparison, reference_distances
from vitviz.export import DISTANCE_HEADER, distance_rows, table_csv
from vitviz.loading.catalog import distinct_labels
from vitviz.text.i18n import t
from vitviz.figures.map_pictures import map_picture
from vitviz.text.names import class_name, loaded_label, model_label
from vitviz.loading.registry import CNN, VIT
from vitviz_dashboard.controls import controls
from vitviz_dashboard.frame import current, fit, fragment, header, sinks_note, title, untrained_badge
from vitviz_dashboard.widgets import depth_comparison_view, show_figure, show_grad_cam, show_map
from vitviz_dashboard.guard import guarded

MAPS = ["rollout", "layer"]
MAP_HEIGHT = 400  # px: a ViT's map picture at most, half the page wide
PRESENTER_MAP_HEIGHT = 270  # px: under the second-model and map controls, with its colour bar, within 720 px
NONE = "—"
GLYPHS = ("●", "◆", "■", "▲", "✚", "★")  # plots.MODEL_SYMBOLS as characters


def second_model(sel):
    """The second model as a Selection (its own input size) and its kind; None when it cannot run."""
    everything, reasons = catalogue(sel.weights_dir)
    specs = {s.name: s for s in everything if s.kind in (VIT, CNN)}
    available = [n for n in specs if reasons[n] is None]
    labels = distinct_labels(list(specs.values()))
    default = next((n for n in available if n != sel.model), sel.model)
    params.prepare("model2", default, lambda v: v in specs)
    params.prepare("untrained2", False, lambda v: isinstance(v, bool))
    a, b = st.columns([3, 2], vertical_alignment="bottom")  # stacked on a phone: the checkbox keeps its label
    name = a.selectbox(t("compare.model2"), list(specs), key="vv_model2", persist_state="session",
                       format_func=lambda n: model_label(labels[n])
                       + (" · CNN" if specs[n].kind == CNN else "")
                       + (t("sidebar.unavailable_suffix") if reasons[n] else ""),
                       help=t("compare.model2_help"))
    params.publish("model2", name, default)
    untrained = b.checkbox(t("compare.untrained2"), key="vv_untrained2", persist_state="session",
                           help=t("sidebar.untrained_help"))
    params.publish("untrained2", untrained, False)
    if reasons[name] and not untrained:
        st.warning(t("compare.unavailable", model=model_label(specs[name].label)))
        return None, None
    other = dataclasses.replace(sel, model=name, pretrained=not untrained, size=None, model_label="")
    loaded = compute.model_for(other)
    other = dataclasses.replace(other, model_label=loaded_label(loaded))
    if untrained:
        st.markdown(f"**{loaded_label(loaded)}** {untrained_badge()}")
    return other, specs[name].kind


def labels(sel, other) -> tuple[str, str]:
    """The two models' names for legends and table columns, "(untrained)" marked; never the same twice."""
    first = plots.figure_title("", sel.short_label, untrained=sel.untrained)
    second = plots.figure_title("", other.short_label, untrained=other.untrained)
    return first, second if second != first else f"{second} #2"


def cnn_result(other):
    return compute.cnn_analysis(other)


def layer_slider(column, name: str, key: str, layers: int, label: str) -> int:
    params.prepare(name, layers - 1, lambda v: 0 <= v < layers)
    layer = column.slider(label, 0, layers - 1, key=key, persist_state="session")
    params.publish(name, layer, layers - 1)
    return layer


def vit_map(sel, result, mode: str, layer: int, key: str) -> None:
    layout = result.layout
    if mode == "layer":
        query = default_query(layout)
        grid_map = attention_map(result.attention, layout, layer, None, query)
        what = t("compare.cls_attention" if layout.has_class_token else "compare.patch_attention", layer=layer)
        value = t("plot.attention")
    else:
        grid_map, value = np.asarray(result.figure_rollout), t("plot.rollout")
        what = t("explain.rollout") + sinks_note(result, lead=" · ")
    h, w = layout.input_hw
    found, _ = compute.sinks(sel)  # a sink's bright cell is named, not a mystery
    picture, top = map_picture(grid_map, result.prepared.display, layout.patch_size, marked=found.sinks)
    show_map(key, sel, result.prepared.display.shape, picture, top, grid_map,
             title(sel, what, t("distance.input_px", h=h, w=w), two_lines=True), value, npz=lambda: {"map": grid_map},
             marked=found.sinks, max_height=MAP_HEIGHT, presenter_height=PRESENTER_MAP_HEIGHT)


def cnn_map(other, key: str) -> None:
    result = cnn_result(other)
    if not result.predictions:
        st.caption(t("cnn.no_head"))
        return
    top = result.predictions[0]
    cam = compute.grad_cam(other, top.index, None)
    h, w = result.prepared.tensor.shape[-2:]
    show_grad_cam(key, other, result.prepared.display, cam,
                  title(other, "Grad-CAM", t("compare.top1", name=class_name(top.index, top.label), p=f"{top.probability:.1%}"),
                        two_lines=True),
                  alt=t("compare.cam_alt", name=class_name(top.index, top.label), mean=f"{float(cam.map.mean()):.2f}", h=h, w=w),
                  max_height=MAP_HEIGHT, presenter_height=PRESENTER_MAP_HEIGHT)
    if other.untrained:
        st.caption(t("cnn.random_labels"))


@fragment
def maps(sel, other, kind) -> None:
    result = compute.analysis(sel)
    second = compute.analysis(other) if kind == VIT else None
    params.prepare("cmpmap", "rollout", lambda v: v in MAPS)
    a, b, c = controls("compare-maps", [2, 2, 2], vertical_alignment="bottom")
    mode = a.radio(t("compare.map"), MAPS, key="vv_compare_map", horizontal=True, persist_state="session",
                   format_func=lambda m: t(f"compare.map_{m}"))
    params.publish("cmpmap", mode, "rollout")
    layer = layer2 = 0
    if mode == "layer":
        layer = layer_slider(b, "layer", "vv_layer", result.attention.shape[0],
                             t("compare.layer_of", model=sel.short_label))
        if second is not None:
            layer2 = layer_slider(c, "layer2", "vv_layer2", second.attention.shape[0],
                                  t("compare.layer_of", model=other.short_label))
    left, right = st.columns(2)
    with left:
        vit_map(sel, result, mode, layer, "compare-map1")
    with right:
        if second is not None:
            vit_map(other, second, mode, layer2, "compare-map2")
        else:
            cnn_map(other, "compare-map2")
    st.caption(t("compare.maps_caption"))


@fragment
def depth(sel, other, kind) -> None:
    result = compute.analysis(sel)
    first, second = labels(sel, other)
    st.subheader(t("compare.depth"))
    if kind == CNN:
        cnn = cnn_result(other)
        comp = depth_comparison(result.mean_distance, cnn.layers, cnn.stages, cnn.effective)
        depth_comparison_view(sel, comp, first, second, "compare-depth", two_lines=True)  # two lines fit a phone
        return
    two = compute.analysis(other)
    series = {first: result.mean_distance, second: two.mean_distance}
    refs = {first: reference_distances(result.layout), second: reference_distances(two.layout)}
    (h, w), (h2, w2) = result.layout.input_hw, two.layout.input_hw
    inputs = t("distance.input_px", h=h, w=w) if (h, w) == (h2, w2) else t("compare.inputs_px", h=h, w=w, h2=h2, w2=w2)
    fig = plots.distance_figure(series, refs, num_images=1, untrained=sel.untrained, title=inputs)
    # Two models make a two-line title, centred in the top margin (plotly's default); its second line ran into
    # the model legend above the plot (two rows of it on a phone). Pinned to the top, with 36 px more margin,
    # the title leaves the legend room.
    fig.update_layout(margin=dict(t=fig.layout.margin.t + 36), height=fig.layout.height + 36,
                      title=dict(yref="container", y=1, yanchor="top", pad=dict(t=24)))
    marker_labels(fig, list(series))
    summary = " ".join(t("compare.distance_summary", model=label, first=f"{d[0].min():.0f}–{d[0].max():.0f}",
                         last=f"{d[-1].min():.0f}–{d[-1].max():.0f}", uniform=f"{refs[label]['uniform']:.1f}")
                       for label, d in series.items())
    show_figure(fit(fig, sel, 470), "compare-distance", sel, alt=summary,
                npz=lambda: {"model1": result.mean_distance, "model2": two.mean_distance},
                csv=lambda: table_csv(("model",) + DISTANCE_HEADER,
                                      [(label,) + row for label, d in series.items() for row in distance_rows(d, 1)]))
    st.caption(summary)


def marker_labels(fig, labels: list[str]) -> None:
    """Reference lines name their model by its marker, as the legend above the plot keys it ("uniform ◆: 116.5 px").

    With both models' names ("uniform (ViT-Ti/16 (untrained)): 116.5 px") the labels took a 320 px right
    margin, which left a phone about no plot at all.
    """
    longest = 0
    for note in fig.layout.annotations:
        for n, label in enumerate(labels):
            note.text = note.text.replace(f" ({label}):", f" {GLYPHS[n % len(GLYPHS)]}:")
        longest = max(longest, len(note.text))
    fig.update_layout(margin=dict(r=20 + 7 * longest))


def vit_facts(result, loaded) -> dict[str, str]:
    f = result.facts
    top = result.predictions[0] if result.predictions else None
    return {
        "compare.fact_kind": t("compare.kind_hybrid") if f.stem else "ViT",
        "facts.col_layers": str(f.layers), "facts.col_hidden": str(f.hidden_size), "facts.col_mlp": str(f.mlp_size),
        "facts.col_heads": str(f.heads), "facts.col_params": f"{f.params / 1e6:.1f}M",
        "compare.fact_patch": f"{f.patch_size[0]}×{f.patch_size[1]} px",
        "compare.fact_input": f"{result.layout.input_hw[0]}×{result.layout.input_hw[1]} px",
        "compare.fact_tokens": t("compare.tokens", tokens=f.tokens, n=f.num_patches, prefix=f.num_prefix_tokens),
        "compare.fact_stages": NONE,
        "compare.fact_rf": t("compare.rf_global"),
        "compare.fact_top1": f"{class_name(top.index, top.label)} ({top.probability:.1%})" if top else t("facts.no_head"),
    }


def cnn_facts(result, loaded) -> dict[str, str]:
    h, w = result.prepared.tensor.shape[-2:]
    top = result.predictions[0] if result.predictions else None
    return {
        "compare.fact_kind": "CNN",
        "facts.col_layers": t("compare.conv_layers", n=len(result.layers)),
        "facts.col_hidden": NONE, "facts.col_mlp": NONE, "facts.col_heads": NONE,
        "facts.col_params": f"{sum(p.numel() for p in loaded.model.parameters()) / 1e6:.1f}M",
        "compare.fact_patch": NONE,
        "compare.fact_input": f"{h}×{w} px",
        "compare.fact_tokens": NONE,
        "compare.fact_stages": str(len(result.stages)),
        "compare.fact_rf": t("compare.rf_px", px=result.stages[-1].size),
        "compare.fact_top1": f"{class_name(top.index, top.label)} ({top.probability:.1%})" if top else t("facts.no_head"),
    }


@fragment
def facts(sel, other, kind) -> None:
    first, second = labels(sel, other)
    one = vit_facts(compute.analysis(sel), compute.model_for(sel))
    if kind == VIT:
        two = vit_facts(compute.analysis(other), compute.model_for(other))
    else:
        two = cnn_facts(cnn_result(other), compute.model_for(other))
    st.subheader(t("compare.facts"))
    weights = {True: t("compare.weights_trained"), False: t("compare.weights_untrained")}
    rows = [{t("compare.col_fact"): t("compare.fact_weights"), first: weights[sel.pretrained],
             second: weights[other.pretrained]}]
    rows += [{t("compare.col_fact"): t(key), first: one[key], second: two[key]} for key in one
             if (one[key], two[key]) != (NONE, NONE)]  # a row neither model has (stages of two ViTs) says nothing
    st.dataframe(rows, hide_index=True, width="stretch", height=35 * (len(rows) + 1) + 3, key="vv_compare_facts")


sel = current()
header(t("compare.page"), t("compare.explanation"), sel)
if sel is not None:
    other = kind = None
    with guarded():
        other, kind = second_model(sel)
    if other is not None:
        maps(sel, other, kind)
        depth(sel, other, kind)
        facts(sel, other, kind)
