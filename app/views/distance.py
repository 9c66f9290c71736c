"""Mean attention distance per head vs depth (paper Fig. 7 right)."""
import streamlit as st

from vitviz_dashboard import compute, params, selection
from vitviz_dashboard.sidebar import UPLOAD_TYPES, catalogue
from vitviz.figures import plots
from vitviz.analysis import reference_distances
from vitviz.export import DISTANCE_HEADER, distance_rows, table_csv
from vitviz.loading.registry import VIT
from vitviz.loading.catalog import distinct_labels
from vitviz.text.i18n import t
from vitviz.text.names import model_label
from vitviz_dashboard.frame import current, fit, fragment, header
from vitviz_dashboard.widgets import show_figure

MAX_UPLOADS = 64  # a session's set of uploads: at most 64 images of at most server.maxUploadSize each
MODES = ["this", "samples", "uploads"]  # the URL's images=
MODE_KEYS = dict(zip(MODES, ["distance.mode_this", "distance.mode_samples", "distance.mode_uploads"]))


def size_for(name: str, sel) -> "tuple[int, int] | None":
    """A compared model's input: the main model's size where that is a whole number of its patches (the
    distances are then in pixels of the same input), else its own native size (a /16 model at a /14
    model's 252 px would not run)."""
    from vitviz.inputs.preprocess import patch_size_of

    if sel.size is None:
        return None
    p = patch_size_of(compute.model(name, sel.weights_dir, sel.device, True).model)
    return sel.size if sel.size[0] % p[0] == 0 and sel.size[1] % p[1] == 0 else None


@fragment
def distances(sel) -> None:
    result = compute.analysis(sel)
    choose, versus = st.columns([1, 1], vertical_alignment="bottom")
    params.prepare("images", "this", lambda v: v in MODES)
    mode = choose.radio(t("distance.images"), MODES, horizontal=True, key="vv_dist_mode", persist_state="session",
                        format_func=lambda m: t(MODE_KEYS[m]))
    params.publish("images", mode, "this")
    if mode == "this":
        images, single = (sel.image_bytes,), True
    elif mode == "samples":
        images, single = tuple(selection.sample_bytes(n) for n in selection.sample_names()), False
    else:
        files = st.file_uploader(t("distance.images"), type=UPLOAD_TYPES, accept_multiple_files=True, key="vv_dist_files")
        files = files or []
        if len(files) > MAX_UPLOADS:
            st.warning(t("distance.too_many", n=len(files), max=MAX_UPLOADS), icon=":material/filter_list:")
        images, single = tuple(f.getvalue() for f in files[:MAX_UPLOADS]), False  # even one upload is the upload's
        if not images:
            st.info(t("distance.upload_hint"))
            return
    everything, reasons = catalogue(sel.weights_dir)
    vits = [s for s in everything if s.kind == VIT]
    labels = {name: model_label(label) for name, label in distinct_labels(vits).items()}  # series are keyed
    # by label: two ViT-B/16s must not overwrite each other
    own = labels.get(sel.model, sel.short_label)
    others = {s.name: labels[s.name] for s in vits if s.name != sel.model and reasons[s.name] is None}
    if others:
        params.prepare("vs", [], lambda v: len(v) <= 2 and all(n in others for n in v))
        compare = versus.multiselect(t("distance.compare"), list(others), max_selections=2,
                                     key="vv_compare", format_func=others.get, persist_state="session")
        params.publish("vs", list(compare), [])
    else:
        compare = []
        versus.caption(t("distance.no_compare"))
    series, refs = {}, {}
    for name, pretrained in [(sel.model, sel.pretrained)] + [(n, True) for n in compare]:
        label = own if name == sel.model else others[name]
        if single and name == sel.model:
            series[label], layout = result.mean_distance, result.layout
        else:
            bar = st.progress(0.0, text=t("distance.progress", label=label, n=0, total=len(images)))
            size = sel.size if name == sel.model else size_for(name, sel)
            done = compute.dataset_distance(
                name, sel.weights_dir, sel.device, pretrained, size, images,
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
    uniform = refs[own]["uniform"]
    summary = t("distance.summary", model=own, first=f"{first.min():.0f}–{first.max():.0f}",
                last=f"{last.min():.0f}–{last.max():.0f}", uniform=f"{uniform:.1f}")
    show_figure(fit(fig, sel, 470), "distance", sel, npz=lambda: dict(series),
                csv=lambda: table_csv(DISTANCE_HEADER, distance_rows(main, len(images))), alt=summary)
    st.caption(summary)


sel = current()
header(t("distance.page"), t("distance.explanation"), sel)
if sel is not None:
    distances(sel)
