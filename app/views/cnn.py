"""CNN versus ViT: stage feature maps, and receptive-field growth next to attention distance."""
import numpy as np
import streamlit as st

from appstate import (analysis, availability, cached_cnn_analysis, cached_model, cnn_specs, csv_bytes, guarded,
                      header, model, selection, show_figure)
from vitviz import plots
from vitviz.analysis import depth_comparison

header("CNN vs ViT",
       "A CNN sees through a window that widens layer by layer (its receptive field); a ViT can attend across the "
       "whole image from the first block. Below: a CNN's feature maps per stage, then one plot with the ViT's mean "
       "attention distance per head and the CNN's theoretical and effective receptive-field radius, on relative depth, "
       "all in pixels of each network's input.")


def render(sel) -> None:
    specs = {s.name: s for s in cnn_specs(sel.weights_dir)}
    if not specs:
        st.warning("No CNN is registered.")
        return
    name = st.selectbox("CNN", list(specs), key="vv_cnn", format_func=lambda n: specs[n].label)
    reason = availability(specs[name], sel.weights_dir)
    pretrained = True
    if reason:
        st.warning(f"Pretrained weights for this CNN are unavailable: {reason}.")
        if not st.checkbox("Use untrained (random) CNN weights", key="vv_cnn_untrained"):
            return
        pretrained = False
    cnn = cached_model(name, sel.weights_dir, sel.device, pretrained)
    result = cached_cnn_analysis(name, sel.weights_dir, sel.device, pretrained, sel.image_key, sel.image_bytes)

    st.subheader(f"Feature maps of {cnn.label}")
    stage_names = [f.name for f in result.features]
    stage = st.select_slider("Stage", stage_names, key="vv_cnn_stage")
    i = stage_names.index(stage)
    feat, rf, erf = result.features[i], result.stages[i], result.effective[i]
    st.caption(f"{feat.channels} channels on a {feat.top_maps.shape[1]}×{feat.top_maps.shape[2]} grid "
               f"(one unit per {feat.reduction} px); theoretical receptive field {rf.size} px, effective radius "
               f"{erf.radius:.1f} px.")
    left, right = st.columns([2, 1])
    with left:
        show_figure(plots.heads_grid(feat.top_maps, columns=8, subtitle="ch", labels=feat.top_channels,
                                     title=f"{len(feat.top_channels)} most active channels"), "cnn-channels",
                    npz=lambda: {"channels": feat.top_channels, "maps": feat.top_maps})
    with right:
        show_figure(plots.rgb_figure(feat.pca_rgb, "first 3 principal components as RGB"), "cnn-pca",
                    npz=lambda: {"pca_rgb": feat.pca_rgb, "explained": feat.pca_explained})
        show_figure(plots.attention_overlay(result.prepared.display, erf.pooled(8), (8, 8),
                                            value_name="|gradient|", title="effective receptive field (centre unit)"),
                    "cnn-erf", npz=lambda: {"gradient": erf.gradient})

    st.subheader("Receptive field vs attention distance")
    vit = model(sel)
    comp = depth_comparison(analysis(sel).mean_distance, result.layers, result.stages, result.effective)
    show_figure(plots.depth_comparison_figure(comp, vit.label, cnn.label), "cnn-vs-vit",
                npz=lambda: {"vit_depth": comp.vit_depth, "vit_heads": comp.vit_heads,
                             "cnn_layer_depth": comp.cnn_layer_depth, "cnn_layer_radius": comp.cnn_layer_radius,
                             "cnn_stage_depth": comp.cnn_stage_depth,
                             "cnn_effective_radius": comp.cnn_effective_radius},
                csv=lambda: csv_bytes(np.stack([comp.cnn_layer_depth, comp.cnn_layer_radius], 1),
                                      ["relative_depth", "theoretical_rf_radius_px"], "layer"))
    first = comp.vit_heads[0]
    st.caption(f"ViT first block: heads attend {first.min():.0f}–{first.max():.0f} px away on average; the CNN's first "
               f"stage sees {comp.cnn_theoretical_radius[0]:.0f} px around a unit (theoretical radius).")



sel = selection("cnn")
if sel is not None:
    with guarded():
        render(sel)
