"""Mean attention distance per head vs depth (paper Fig. 7 right)."""
import streamlit as st

from vitviz_dashboard import compute
from vitviz_dashboard.sidebar import UPLOAD_TYPES, catalogue
from vitviz import plots
from vitviz.analysis import reference_distances
from vitviz.export import DISTANCE_HEADER, distance_rows, table_csv
from vitviz.registry import VIT
from vitviz.i18n import t
from vitviz_dashboard.widgets import current, fit, fragment, header, show_figure

MODES = ["This image", "All bundled samples", "A set of uploads"]
MODE_KEYS = dict(zip(MODES, ["distance.mode_this", "distance.mode_samples", "distance.mode_uploads"]))


@fragment
def distances(sel) -> None:
    result = compute.analysis(sel)
    choose, versus = st.columns([1, 1], vertical_alignment="bottom")
    mode = choose.radio(t("distance.images"), MODES, horizontal=True, key="vv_dist_mode", persist_state="session",
                        format_func=lambda m: t(MODE_KEYS[m]))
    if mode == "This image":
        images, single = (sel.image_bytes,), True
    elif mode == "All bundled samples":
        images, single = tuple(compute.sample_bytes(n) for n in compute.sample_names()), False
    else:
        files = st.file_uploader(t("distance.images"), type=UPLOAD_TYPES, accept_multiple_files=True, key="vv_dist_files")
        images, single = tuple(f.getvalue() for f in files or []), False  # even one upload is the upload's
        if not images:
            st.info(t("distance.upload_hint"))
            return
    everything, reasons = catalogue(sel.weights_dir)
    others = {s.name: compute.short_label(s.label) for s in everything if s.kind == VIT and s.name != sel.model
              and reasons[s.name] is None}
    if others:
        compare = versus.multiselect(t("distance.compare"), list(others), max_selections=2,
                                     key="vv_compare", format_func=others.get, persist_state="session")
    else:
        compare = []
        versus.caption(t("distance.no_compare"))
    series, refs = {}, {}
    for name, pretrained in [(sel.model, sel.pretrained)] + [(n, True) for n in compare]:
        label = sel.short_label if name == sel.model else others[name]
        if single and name == sel.model:
            series[label], layout = result.mean_distance, result.layout
        else:
            bar = st.progress(0.0, text=t("distance.progress", label=label, n=0, total=len(images)))
            done = compute.dataset_distance(
                name, sel.weights_dir, sel.device, pretrained, sel.size, images,
                progress=lambda n, bar=bar, label=label: bar.progress(
                    n / len(images), text=t("distance.progress", label=label, n=n, total=len(images))))
            bar.empty()
            series[label], layout = done.mean, done.layout
        refs[label] = reference_distances(layout)
    h, w = result.layout.input_hw
    fig = plots.distance_figure(series, refs, num_images=len(images), untrained=sel.untrained,
                                title=t("distance.input_px", h=h, w=w))
    main = next(iter(series.values()))
    first, last = main[0], main[-1]
    uniform = refs[sel.short_label]["uniform"]
    summary = t("distance.summary", model=sel.short_label, first=f"{first.min():.0f}–{first.max():.0f}",
                last=f"{last.min():.0f}–{last.max():.0f}", uniform=f"{uniform:.1f}")
    show_figure(fit(fig, sel, 470), "distance", sel, npz=lambda: dict(series),
                csv=lambda: table_csv(DISTANCE_HEADER, distance_rows(main, len(images))), alt=summary)
    st.caption(summary)


sel = current()
header(t("distance.page"), t("distance.explanation"), sel)
if sel is not None:
    distances(sel)
