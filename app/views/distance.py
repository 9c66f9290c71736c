"""Mean attention distance per head vs depth (paper Fig. 7 right)."""
import streamlit as st

from appstate import (analysis, availability, cached_dataset_distance, csv_bytes, guarded, header, images_key,
                      model, sample_bytes, sample_names, selection, show_figure)
from vitviz import plots
from vitviz.analysis import reference_distances
from vitviz.catalog import list_models
from vitviz.registry import VIT

header("Attention distance",
       "For each head: the average pixel distance between a patch and the patches it attends to, weighted by attention "
       "(prefix tokens dropped, rows not renormalised, pixels of the network input) — the ViT analogue of a CNN's "
       "receptive field. Some heads look far already in the first layers; others stay local. Lines: uniform attention "
       "over the whole image, and a 3×3 patch window.")


def render(sel) -> None:
    result = analysis(sel)
    layout = result.layout
    mode = st.radio("Images", ["This image", "All bundled samples", "A set of uploads"], horizontal=True,
                    key="vv_dist_mode")
    if mode == "This image":
        images = (sel.image_bytes,)
    elif mode == "All bundled samples":
        images = tuple(sample_bytes(n) for n in sample_names())
    else:
        files = st.file_uploader("Images", type=["jpg", "jpeg", "png", "webp", "bmp", "tif", "tiff", "gif"],
                                 accept_multiple_files=True, key="vv_dist_files")
        images = tuple(f.getvalue() for f in files or [])
        if not images:
            st.info("Upload a few images to average over.")
            return
    others = {s.name: s.label for s in list_models(sel.weights_dir) if s.kind == VIT and s.name != sel.model
              and availability(s, sel.weights_dir) is None}
    compare = st.multiselect("Compare with (e.g. supervised vs DINO)", list(others), max_selections=2,
                             key="vv_compare", format_func=others.get)
    key = images_key(images)
    series = {}
    labels = {**others, sel.model: model(sel).label}
    for name, pretrained in [(sel.model, sel.pretrained)] + [(n, True) for n in compare]:
        label = labels[name]
        if len(images) == 1 and name == sel.model:
            series[label] = result.mean_distance
            continue
        bar = st.progress(0.0, text=f"{label}: 0 / {len(images)} images")
        done = cached_dataset_distance(
            name, sel.weights_dir, sel.device, pretrained, sel.size, key, images,
            _progress=lambda n, bar=bar, label=label: bar.progress(n / len(images), text=f"{label}: {n} / {len(images)} images"))
        bar.empty()
        series[label] = done.mean
    refs = reference_distances(layout)
    title = f"{len(images)} image(s), input {layout.input_hw[0]}×{layout.input_hw[1]} px"
    main = next(iter(series.values()))
    show_figure(plots.distance_figure(series, refs, title=title), "distance",
                npz=lambda: {k: v for k, v in series.items()},
                csv=lambda: csv_bytes(main, [f"head_{h}" for h in range(main.shape[1])], "layer"))
    first, last = main[0], main[-1]
    st.caption(f"First layer: heads span {first.min():.0f}–{first.max():.0f} px; last layer: "
               f"{last.min():.0f}–{last.max():.0f} px. Uniform attention: {refs['uniform']:.1f} px.")


sel = selection("distance")
if sel is not None:
    with guarded():
        render(sel)
