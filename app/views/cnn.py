"""CNN versus ViT: stage feature maps and predictions, and receptive-field growth next to attention distance."""

import numpy as np
import streamlit as st

import compute
import params
from sidebar import catalogue, default_choice
from vitviz import plots
from vitviz.analysis import depth_comparison
from vitviz.export import matrix_csv, table_csv
from vitviz.registry import CNN
from widgets import UNTRAINED_BADGE, current, fit, fragment, header, show_figure

EXPLANATION = ("A CNN sees through a window that widens layer by layer (its receptive field); a ViT can attend "
               "across the whole image from the first block. Below: a CNN's predictions and feature maps per stage, "
               "then one plot with the ViT's mean attention distance per head and the CNN's theoretical and "
               "effective receptive-field radius, on relative depth, all in pixels of each network's input.")


@fragment
def cnn_view(sel) -> None:
    everything, reasons = catalogue(sel.weights_dir)
    specs = {s.name: s for s in everything if s.kind == CNN}
    if not specs:
        st.warning("No CNN is registered.")
        return
    default = default_choice(list(specs), reasons, sel.weights_dir)
    params.prepare("cnn", default, lambda v: v in specs)
    a, b = st.columns([3, 2], vertical_alignment="bottom")
    name = a.selectbox("CNN", list(specs), key="vv_cnn", persist_state="session",
                       format_func=lambda n: specs[n].label + (" — unavailable offline" if reasons[n] else ""))
    params.publish("cnn", name, default)
    untrained = b.checkbox("Use untrained (random) CNN weights", key="vv_cnn_untrained", persist_state="session",
                           help="The same architecture with random weights, as a contrast.")
    if reasons[name] and not untrained:
        st.warning(f"Pretrained weights for {specs[name].label} are unavailable: {reasons[name]}. Pick another CNN "
                   "or tick *Use untrained (random) CNN weights*.")
        return
    cnn = compute.model(name, sel.weights_dir, sel.device, not untrained)
    result = compute.cnn_analysis(name, sel.weights_dir, sel.device, not untrained, sel.image_key, sel.image_bytes)
    cnn_short = compute.short_label(cnn.spec.label)
    cnn_title = lambda what, extra="": plots.figure_title(what, cnn_short, untrained=untrained, extra=extra)  # noqa: E731
    if untrained:
        st.markdown(f"**{cnn.label}** {UNTRAINED_BADGE}")

    stage_names = [f.name for f in result.features]
    params.prepare("stage", stage_names[-1], lambda v: v in stage_names)
    left, right = st.columns([2, 1])
    with right:
        if result.predictions:
            fig = plots.predictions_figure([p.label for p in result.predictions],
                                           [p.probability for p in result.predictions],
                                           cnn_title("Top-5 predictions"))
            show_figure(fig, "cnn-predictions", csv=lambda: table_csv(
                ["index", "label", "probability"],
                ((p.index, p.label, f"{p.probability:.6f}") for p in result.predictions)))
            if untrained:
                st.caption("Untrained weights: these labels are random.")
        else:
            st.caption("This CNN has no classifier head: no predictions.")
    with left:
        stage = st.select_slider("Stage", stage_names, key="vv_cnn_stage", persist_state="session")
        params.publish("stage", stage, stage_names[-1])
        i = stage_names.index(stage)
        feat, rf, erf = result.features[i], result.stages[i], result.effective[i]
        st.caption(f"{feat.channels} channels on a {feat.top_maps.shape[1]}×{feat.top_maps.shape[2]} grid "
                   f"(one unit per {feat.reduction} px); theoretical receptive field {rf.size} px, effective "
                   f"radius {erf.radius:.1f} px.")
        show_figure(fit(plots.heads_grid(feat.top_maps, columns=8, subtitle="ch", labels=feat.top_channels, width=820,
                                         title=cnn_title(f"{len(feat.top_channels)} most active channels", stage)),
                        sel), "cnn-channels", npz=lambda: {"channels": feat.top_channels, "maps": feat.top_maps})
    a, b = st.columns(2)
    with a:
        show_figure(plots.rgb_figure(feat.pca_rgb, cnn_title("Channel PCA as RGB", stage)),
                    "cnn-pca", npz=lambda: {"pca_rgb": feat.pca_rgb, "explained": feat.pca_explained})
    with b:
        show_figure(plots.attention_overlay(result.prepared.display, erf.pooled(8), (8, 8), value_name="|gradient|",
                                            title=cnn_title("Effective RF", f"{stage} centre unit")),
                    "cnn-erf", npz=lambda: {"gradient": erf.gradient})

    st.subheader("Receptive field vs attention distance")
    vit = compute.analysis(sel)
    comp = depth_comparison(vit.mean_distance, result.layers, result.stages, result.effective)
    vit_name = sel.short_label + (" (untrained)" if sel.untrained else "")
    cnn_name = cnn_short + (" (untrained)" if untrained else "")
    fig = plots.depth_comparison_figure(comp, vit_name, cnn_name,
                                        title=f"Receptive field vs attention distance · {vit_name} vs {cnn_name}")
    show_figure(fig, "cnn-vs-vit", sel,
                npz=lambda: {"vit_depth": comp.vit_depth, "vit_heads": comp.vit_heads,
                             "cnn_layer_depth": comp.cnn_layer_depth, "cnn_layer_radius": comp.cnn_layer_radius,
                             "cnn_stage_depth": comp.cnn_stage_depth,
                             "cnn_effective_radius": comp.cnn_effective_radius},
                csv=lambda: matrix_csv(np.stack([comp.cnn_layer_depth, comp.cnn_layer_radius], 1),
                                       ["relative_depth", "theoretical_rf_radius_px"], "layer"))
    first = comp.vit_heads[0]
    st.caption(f"ViT first block: heads attend {first.min():.0f}–{first.max():.0f} px away on average; the CNN's "
               f"first stage sees {comp.cnn_theoretical_radius[0]:.0f} px around a unit (theoretical radius).")


sel = current()
header("CNN vs ViT", EXPLANATION, sel)
if sel is not None:
    cnn_view(sel)
