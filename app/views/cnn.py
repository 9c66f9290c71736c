"""CNN versus ViT: stage feature maps and predictions, and receptive-field growth next to attention distance."""

import streamlit as st

from vitviz_dashboard import compute, params
from vitviz_dashboard.sidebar import catalogue, default_choice
from vitviz.figures import plots
from vitviz.analysis import depth_comparison
from vitviz.export import table_csv
from vitviz.loading.registry import CNN
from vitviz.text.i18n import t
from vitviz.figures.map_pictures import maps_html
from vitviz.loading.catalog import short_label
from vitviz.text.names import class_name, loaded_label, model_label
from vitviz_dashboard.controls import controls
from vitviz_dashboard.frame import current, fragment, header, untrained_badge
from vitviz_dashboard.widgets import data_row, depth_comparison_view, figure_stem, show_figure


@fragment
def cnn_view(sel) -> None:
    everything, reasons = catalogue(sel.weights_dir)
    specs = {s.name: s for s in everything if s.kind == CNN}
    if not specs:
        st.warning(t("cnn.none"))
        return
    default = default_choice(list(specs), reasons, sel.weights_dir)
    params.prepare("cnn", default, lambda v: v in specs)
    a, b = controls("cnn", [3, 2], vertical_alignment="bottom")
    name = a.selectbox("CNN", list(specs), key="vv_cnn", persist_state="session",
                       format_func=lambda n: model_label(specs[n].label) + (t("sidebar.unavailable_suffix") if reasons[n] else ""))
    params.publish("cnn", name, default)
    params.prepare("cnnuntrained", False, lambda v: isinstance(v, bool))
    untrained = b.checkbox(t("cnn.untrained"), key="vv_cnn_untrained", persist_state="session",
                           help=t("sidebar.untrained_help"))
    params.publish("cnnuntrained", untrained, False)
    if reasons[name] and not untrained:
        st.warning(t("cnn.unavailable", model=model_label(specs[name].label)))
        return
    cnn_sel = sel.with_model(name, pretrained=not untrained)
    cnn = compute.model_for(cnn_sel)
    result = compute.cnn_analysis(cnn_sel)
    cnn_short = short_label(model_label(cnn.spec.label))
    cnn_title = lambda what, extra="": plots.figure_title(what, cnn_short, untrained=untrained, extra=extra)  # noqa: E731
    if untrained:
        st.markdown(f"**{loaded_label(cnn)}** {untrained_badge()}")

    stage_names = [f.name for f in result.features]
    params.prepare("stage", stage_names[-1], lambda v: v in stage_names)
    left, right = st.columns([2, 1])
    with right:
        if result.predictions:
            fig = plots.predictions_figure([class_name(p.index, p.label) for p in result.predictions],
                                           [p.probability for p in result.predictions],
                                           cnn_title(t("walk.top5")))
            show_figure(fig, "cnn-predictions", csv=lambda: table_csv(
                ["index", "label", "probability"],
                ((p.index, p.label, f"{p.probability:.6f}") for p in result.predictions)),
                alt=t("walk.top5_alt", label=class_name(result.predictions[0].index, result.predictions[0].label),
                      p=f"{result.predictions[0].probability:.0%}"))
            if untrained:
                st.caption(t("cnn.random_labels"))
        else:
            st.caption(t("cnn.no_head"))
    with left:
        stage = st.select_slider(t("cnn.stage"), stage_names, key="vv_cnn_stage", persist_state="session")
        params.publish("stage", stage, stage_names[-1])
        i = stage_names.index(stage)
        feat, rf, erf = result.features[i], result.stages[i], result.effective[i]
        stage_text = t("cnn.stage_text", channels=feat.channels, h=feat.top_maps.shape[1], w=feat.top_maps.shape[2],
                       reduction=feat.reduction, rf=rf.size, erf=f"{erf.radius:.1f}")
        st.caption(stage_text)
        # Pictures, not plotly small multiples (far slower to build on every visit; bench/RESULTS.md).
        st.html(maps_html(feat.top_maps, labels=[t("plot.channel_n", n=int(c)) for c in feat.top_channels], max_width=820,
                          title=cnn_title(t("cnn.channels_title", n=len(feat.top_channels)), stage)))
        data_row("cnn-channels", figure_stem("cnn-channels", None),
                 npz=lambda: {"channels": feat.top_channels, "maps": feat.top_maps})
    a, b = st.columns(2)
    with a:
        show_figure(plots.rgb_figure(feat.pca_rgb, cnn_title(t("cnn.pca_title"), stage), title_width=plots.HALF_WIDTH),
                    "cnn-pca", npz=lambda: {"pca_rgb": feat.pca_rgb, "explained": feat.pca_explained})
    with b:
        show_figure(plots.attention_overlay(result.prepared.display, erf.pooled(8), (8, 8), value_name=t("plot.gradient_magnitude"),
                                            title=cnn_title(t("cnn.erf_title"), t("cnn.centre_unit", stage=stage)),
                                            title_width=plots.HALF_WIDTH),
                    "cnn-erf", npz=lambda: {"gradient": erf.gradient})

    st.subheader(t("cnn.versus"))
    vit = compute.analysis(sel)
    comp = depth_comparison(vit.mean_distance, result.layers, result.stages, result.effective)
    vit_name = plots.figure_title("", sel.short_label, untrained=sel.untrained)
    cnn_name = plots.figure_title("", cnn_short, untrained=untrained)
    depth_comparison_view(sel, comp, vit_name, cnn_name, "cnn-vs-vit")

sel = current()
header(t("cnn.page"), t("cnn.explanation"), sel)
if sel is not None:
    cnn_view(sel)
