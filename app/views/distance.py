"""Mean attention distance per head vs depth (paper Fig. 7 right)."""
import streamlit as st

import compute
from sidebar import UPLOAD_TYPES, catalogue
from vitviz import plots
from vitviz.analysis import reference_distances
from vitviz.export import DISTANCE_HEADER, distance_rows, table_csv
from vitviz.registry import VIT
from widgets import current, fit, fragment, header, show_figure

EXPLANATION = ("For each head: the average pixel distance between a patch and the patches it attends to, weighted "
               "by attention (prefix tokens dropped, rows not renormalised, pixels of the network input) — the ViT "
               "analogue of a CNN's receptive field. In the paper's Fig. 7 (right, ViT-L/16 over 128 images) some "
               "heads attend far already in the lowest layers while others stay local, and all grow with depth. "
               "Lines: uniform attention over the whole image and a 3×3 patch window, for each model's own grid.")
MODES = ["This image", "All bundled samples", "A set of uploads"]


@fragment
def distances(sel) -> None:
    result = compute.analysis(sel)
    choose, versus = st.columns([1, 1], vertical_alignment="bottom")
    mode = choose.radio("Images", MODES, horizontal=True, key="vv_dist_mode", persist_state="session")
    if mode == "This image":
        images, single = (sel.image_bytes,), True
    elif mode == "All bundled samples":
        images, single = tuple(compute.sample_bytes(n) for n in compute.sample_names()), False
    else:
        files = st.file_uploader("Images", type=UPLOAD_TYPES, accept_multiple_files=True, key="vv_dist_files")
        images, single = tuple(f.getvalue() for f in files or []), False  # even one upload is the upload's
        if not images:
            st.info("Upload a few images to average over.")
            return
    everything, reasons = catalogue(sel.weights_dir)
    others = {s.name: compute.short_label(s.label) for s in everything if s.kind == VIT and s.name != sel.model
              and reasons[s.name] is None}
    if others:
        compare = versus.multiselect("Compare with (e.g. supervised vs DINO)", list(others), max_selections=2,
                                     key="vv_compare", format_func=others.get, persist_state="session")
    else:
        compare = []
        versus.caption("No other model with weights here to compare with.")
    key = compute.images_key(images)
    series, refs = {}, {}
    for name, pretrained in [(sel.model, sel.pretrained)] + [(n, True) for n in compare]:
        label = sel.short_label if name == sel.model else others[name]
        if single and name == sel.model:
            series[label], layout = result.mean_distance, result.layout
        else:
            bar = st.progress(0.0, text=f"{label}: 0 / {len(images)} images")
            done = compute.dataset_distance(
                name, sel.weights_dir, sel.device, pretrained, sel.size, key, images,
                _progress=lambda n, bar=bar, label=label: bar.progress(n / len(images),
                                                                         text=f"{label}: {n} / {len(images)} images"))
            bar.empty()
            series[label], layout = done.mean, done.layout
        refs[label] = reference_distances(layout)
    h, w = result.layout.input_hw
    fig = plots.distance_figure(series, refs, num_images=len(images), untrained=sel.untrained,
                                title=f"input {h}×{w} px")
    main = next(iter(series.values()))
    show_figure(fit(fig, sel, 470), "distance", sel, npz=lambda: dict(series),
                csv=lambda: table_csv(DISTANCE_HEADER, distance_rows(main, len(images))))
    first, last = main[0], main[-1]
    uniform = refs[sel.short_label]["uniform"]
    st.caption(f"{sel.short_label}: first layer heads span {first.min():.0f}–{first.max():.0f} px; last layer "
               f"{last.min():.0f}–{last.max():.0f} px. Uniform attention on this grid: {uniform:.1f} px.")


sel = current()
header("Attention distance", EXPLANATION, sel)
if sel is not None:
    distances(sel)
