"""Class-specific and label-free explanations, and how faithful each map is.

ViT: plain attention rollout, gradient-weighted rollout (Chefer et al. 2021) for the chosen class —
or, for a model without a head (DINO, DINOv2), for the label-free target — and the class token's
last-layer attention. CNN (the one chosen on the CNN page): Grad-CAM of the same class on a stage.
Faithfulness: deletion and insertion curves of each map against random orders, on request.
"""
import numpy as np
import streamlit as st

from vitviz_dashboard import compute, params
from vitviz_dashboard.sidebar import catalogue, default_choice
from vitviz.figures import plots
from vitviz.analysis import attention_map, default_query
from vitviz.analysis.predictions import class_names
from vitviz.export import FAITHFULNESS_HEADER, faithfulness_rows, table_csv
from vitviz.text.i18n import t
from vitviz.figures.map_pictures import map_picture
from vitviz.loading.catalog import short_label
from vitviz.text.names import class_names_shown, model_label
from vitviz.loading.registry import CNN
from vitviz_dashboard.controls import controls
from vitviz_dashboard.frame import current, fragment, header, sinks_caption, sinks_note, title
from vitviz_dashboard.widgets import show_figure, show_grad_cam, show_map

MAP_HEIGHT = 380  # px: the maps' pictures at most, three side by side
CAM_HEIGHT = 440  # px: the Grad-CAM picture at most, beside its caption


def class_picker(names, top, param: str, label: str) -> int:
    """The class to explain, in the URL as ``param``: the model's top-5 first, then every class by name."""
    order = list(dict.fromkeys([p.index for p in top] + list(range(len(names)))))
    params.prepare(param, order[0], lambda v: 0 <= v < len(names))
    index = st.selectbox(label, order, key=params.PARAMS[param].key, persist_state="session",
                         format_func=lambda i: f"{names[i]} ({i})" + (" ★" if i in {p.index for p in top} else ""),
                         help=t("explain.class_help"))
    params.publish(param, index, order[0])
    return index


@fragment
def vit_view(sel) -> None:
    result = compute.analysis(sel)
    loaded = compute.model_for(sel)
    layout, display = result.layout, result.prepared.display
    names = class_names_shown(class_names(loaded.model)) if loaded.num_classes else None
    st.subheader(t("explain.vit"))
    if names:
        index = class_picker(names, result.predictions, "cls", t("explain.class"))
        target = t("explain.target_class", name=names[index], index=index)
    else:
        index = None
        target = t("explain.target_label_free", target=t("explain.label_free_target"))  # LABEL_FREE_TARGET
        st.caption(t("explain.label_free_note"))
    relevance = compute.relevance(sel, index)
    query = default_query(layout)
    last = result.attention.shape[0] - 1
    maps = [(t("explain.rollout") + sinks_note(result, lead=" · "), np.asarray(result.figure_rollout),
             "explain-rollout"),
            (t("explain.gradient_rollout"), relevance, "explain-gradient-rollout"),
            (t("explain.cls_attention", layer=last), attention_map(result.attention, layout, last, None, query),
             "explain-cls-attention")]
    # Pictures, not plotly heatmaps: the picture is the point, and plotly overlays cost the server far more
    # on every visit (bench/RESULTS.md).
    for col, (name, grid_map, key) in zip(st.columns(3), maps):
        with col:
            picture, top = map_picture(grid_map, display, layout.patch_size)
            show_map(key, sel, display.shape, picture, top, grid_map, title(sel, name, two_lines=True),
                     t("explain.relevance"), npz=lambda m=grid_map: {"map": m}, max_height=MAP_HEIGHT)
    st.caption(t("explain.vit_caption", target=target) + (" " + sinks_caption(result) if result.sink_tokens else ""))
    faithfulness_view(sel, index, cnn=False)


@fragment
def cnn_view(sel) -> None:
    everything, reasons = catalogue(sel.weights_dir)
    specs = {s.name: s for s in everything if s.kind == CNN and reasons[s.name] is None}
    st.subheader(t("explain.cnn"))
    if not specs:
        st.caption(t("explain.no_cnn"))
        return
    default = default_choice(list(specs), reasons, sel.weights_dir)
    name = st.session_state.get("vv_cnn") if st.session_state.get("vv_cnn") in specs else default
    cnn_sel = sel.with_model(name)
    loaded = compute.model_for(cnn_sel)
    result = compute.cnn_analysis(cnn_sel)
    names = class_names_shown(class_names(loaded.model))
    stage_names = [f.name for f in result.features]
    a, b = controls("gradcam", [3, 2])
    with a:
        index = class_picker(names, result.predictions, "cnncls", t("explain.cnn_class"))
    params.prepare("camstage", stage_names[-1], lambda v: v in stage_names)
    stage = b.select_slider(t("cnn.stage"), stage_names, key="vv_cam_stage")
    params.publish("camstage", stage, stage_names[-1])
    cam = compute.grad_cam(cnn_sel, int(index), stage)
    short = short_label(model_label(loaded.spec.label))
    left, right = st.columns([3, 2])
    with left:
        show_grad_cam("explain-gradcam", sel, result.prepared.display, cam,
                      plots.figure_title("Grad-CAM", short, extra=f"{names[index]} · {stage}"),
                      alt=t("explain.cam_alt", name=names[index], stage=stage, mean=f"{float(cam.map.mean()):.2f}"),
                      max_height=CAM_HEIGHT)
    with right:
        st.caption(t("explain.cam_caption", grid=f"{cam.coarse.shape[0]}×{cam.coarse.shape[1]}", stage=stage))
    faithfulness_view(cnn_sel, int(index), cnn=True)


def faithfulness_view(sel, index, *, cnn: bool) -> None:
    """Deletion and insertion curves, computed on request (hundreds of forwards); ``sel`` names the model."""
    state = f"_vv_faith_{'cnn' if cnn else 'vit'}"
    wanted = (sel.key, index)
    if st.button(t("explain.measure"), key=f"vv_faith_{'cnn' if cnn else 'vit'}", help=t("explain.measure_help"),
                 icon=":material/query_stats:"):
        st.session_state[state] = wanted
    if st.session_state.get(state) != wanted:
        return
    with st.spinner(t("explain.measuring")):
        found = compute.faithfulness(sel, index, cnn)
    label = short_label(model_label(compute.model_for(sel).spec.label)) if cnn else sel.short_label
    fig = plots.faithfulness_figure(found, plots.figure_title(t("explain.faith_title"), label))
    best = min((m for m in found.maps if m.name != "random"), key=lambda m: m.deletion_auc)
    show_figure(fig, f"explain-faith-{'cnn' if cnn else 'vit'}", sel,
                csv=lambda: table_csv(FAITHFULNESS_HEADER, faithfulness_rows(found)),
                alt=t("explain.faith_alt", best=best.name, auc=f"{best.deletion_auc:.3f}",
                      random=f"{found.maps[-1].deletion_auc:.3f}"))


sel = current()
header(t("explain.page"), t("explain.explanation"), sel)
if sel is not None:
    vit_view(sel)
    cnn_view(sel)
