"""Walk-through: the paper's step-by-step path from an image to a prediction (Fig. 1 in motion)."""
import numpy as np
import streamlit as st

from vitviz_dashboard import compute, params
from vitviz.figures import plots
from vitviz.analysis import patchify
from vitviz.export import matrix_csv, table_csv
from vitviz.text.i18n import t, tn
from vitviz.text.names import class_name
from vitviz_dashboard.frame import current, fit, fragment, header, sinks_caption, sinks_note, title
from vitviz_dashboard.widgets import show_figure

STEPS = ["image", "grid", "flatten", "projection", "prefix", "position", "encoder", "prediction"]
STEP3_PRESENTER_HEIGHT = 230  # px: the patch's place and its values under the strip, within 720 px


def _move(delta: int) -> None:
    st.session_state["vv_step"] = min(max(int(st.session_state.get("vv_step", 1)) + delta, 1), len(STEPS))


def patch_index(layout) -> int:
    params.prepare("wpatch", 0, lambda v: 0 <= v < layout.num_patches)
    index = int(st.number_input(t("walk.patch_index"), 0, layout.num_patches - 1, key="vv_patch",
                                persist_state="session"))
    params.publish("wpatch", index, 0)
    return index


@fragment
def steps(sel) -> None:
    result = compute.analysis(sel)
    layout, display = result.layout, result.prepared.display
    ph, pw = layout.patch_size
    gh, gw = layout.grid
    params.prepare("step", 1, lambda v: 1 <= v <= len(STEPS))
    # On a phone the stepper sticks to the bottom of the screen, Back and Next side by side (thumb reach).
    left, mid, right = st.container(key="vv-stepper").columns([2, 7, 2], vertical_alignment="center")
    left.button(t("walk.back"), on_click=_move, args=(-1,), key="vv_back", width="stretch", shortcut="PageUp")
    right.button(t("walk.next"), on_click=_move, args=(1,), key="vv_next", width="stretch", shortcut="PageDown")
    n = mid.select_slider(t("walk.step"), list(range(1, len(STEPS) + 1)), key="vv_step", label_visibility="collapsed",
                          persist_state="session", format_func=lambda i: f"{i}. {t('walk.step_' + STEPS[i - 1])}")
    params.publish("step", n, 1)
    step = STEPS[n - 1]
    if not sel.presenter:  # on a projector the step slider's label says it; the figure gets the room
        st.subheader(f"{n} / {len(STEPS)} · {t('walk.step_' + step)}")

    if step == "image":
        st.write(t("walk.image_text", h=display.shape[0], w=display.shape[1], label=sel.image_label))
        show_figure(fit(plots.image_figure(display, title(sel, t("walk.network_input"))), sel, 350), "walk-image", sel,
                    npz=lambda: {"image": display}, alt=t("walk.image_alt", h=display.shape[0], w=display.shape[1]))
    elif step == "grid":
        sizes = [p for p in (ph, 2 * ph, 4 * ph, 8 * ph) if p <= min(display.shape[:2])]
        params.prepare("illus", ph, lambda v: v in sizes)
        shown = st.select_slider(t("walk.illus_size"), sizes, key="vv_illus", persist_state="session",
                                 help=t("walk.illus_help"))
        params.publish("illus", shown, ph)
        rows, cols = display.shape[0] // shown, display.shape[1] // shown
        st.write(t("walk.grid_text", rows=rows, cols=cols, n=rows * cols, p=shown, gh=gh, gw=gw,
                   model_n=layout.num_patches, ph=ph, pw=pw))
        if layout.hybrid:
            f = result.facts
            st.info(t("walk.hybrid_grid", stem=f.stem, gh=gh, gw=gw, p=ph, rf=f.stem_receptive_field or "?"))
        fig = plots.image_figure(display, title(sel, t("walk.grid_title", rows=rows, cols=cols, p=shown)),
                                 patch_size=(shown, shown))
        show_figure(fit(fig, sel, 350), "walk-grid", sel, npz=lambda: {"image": display, "patch_size": np.array(shown)},
                    alt=t("walk.grid_alt", rows=rows, cols=cols, p=shown))
    elif step == "flatten":
        patches = patchify(display, (ph, pw))
        # On a projector the patch picker and its sentence share a row, and the three figures are sized so
        # the step fits 1280×720 (they ran 300 px past it).
        pick, say = st.columns([1, 3], vertical_alignment="bottom") if sel.presenter else (st.container(),) * 2
        with pick:
            index = patch_index(layout)
        r, c = divmod(index, gw)
        if layout.hybrid:  # a cell is a feature vector of the CNN stem, not the pixels it sits over
            say.write(t("walk.hybrid_flatten", n=layout.num_patches, index=index, row=r, col=c,
                        channels=result.facts.stem_channels))
        else:
            say.write(t("walk.flatten_text", n=layout.num_patches, index=index, row=r, col=c, ph=ph, pw=pw,
                        values=ph * pw * 3))
        show_figure(fit(plots.patch_strip(patches.patches, min(16, layout.num_patches),
                                          title(sel, t("walk.strip_title"))), sel, 120),
                    "walk-strip", sel, npz=lambda: {"patches": patches.patches})
        a, b = st.columns(2)
        with a:
            show_figure(fit(plots.image_figure(display, title(sel, t("walk.patch_n", index=index)),
                                               patch_size=(ph, pw), highlight=(r, c)), sel, STEP3_PRESENTER_HEIGHT),
                        "walk-where", sel, npz=lambda: {"patch": patches.patches[index]})
        with b:
            if layout.hybrid:
                stages = compute.embedding(sel)
                vec = np.asarray(stages.stem_features[int(index)], dtype=np.float32)
                vec_title = t("walk.stem_title", index=index)
            else:
                vec = patches.sequence[int(index)].astype(np.float32)
                vec_title = t("walk.flat_title", index=index)
            show_figure(fit(plots.vector_figure(vec, vec_title, t("walk.value_index")), sel, STEP3_PRESENTER_HEIGHT),
                        "walk-vector", sel, csv=lambda: matrix_csv(vec[:, None], ["value"], "index"))
    else:
        stages = compute.embedding(sel)
        d = stages.patch_tokens.shape[1]
        if step == "projection":
            index = patch_index(layout)
            if layout.hybrid:
                k = layout.projection_kernel[0]
                st.write(t("walk.hybrid_projection", rows=result.facts.stem_channels * k * k, d=d, k=k,
                           c=result.facts.stem_channels))
            else:
                st.write(t("walk.projection_text", rows=ph * pw * 3, d=d, p=ph))
            show_figure(plots.token_matrix_figure(stages.patch_tokens, 0, title(sel, t("walk.projection_title"))),
                        "walk-proj", sel, npz=lambda: {"patch_tokens": stages.patch_tokens})
            show_figure(plots.vector_figure(stages.patch_tokens[int(index)], t("walk.embedded_title", index=index),
                                            t("walk.dimension")),
                        "walk-proj-vec", sel, npz=lambda: {"embedding": stages.patch_tokens[int(index)]})
        elif step == "prefix":
            names = ", ".join(layout.prefix_names) or t("walk.none")
            if not layout.has_class_token:
                role = t("walk.role_pooled")
            elif result.logits is not None:
                role = t("walk.role_class")
            else:
                role = t("walk.role_feature")
            st.write(tn("walk.prefix_text", layout.num_prefix_tokens, names=names, tokens=layout.num_tokens, role=role))
            seq = np.concatenate([stages.prefix_tokens, stages.patch_tokens])
            show_figure(plots.token_matrix_figure(seq, layout.num_prefix_tokens, title(sel, t("walk.prefix_title"))),
                        "walk-prefix", sel, npz=lambda: {"tokens": seq})
        elif step == "position":
            st.write(t("walk.position_text"))
            show_figure(plots.token_matrix_figure(stages.sequence, layout.num_prefix_tokens,
                                                  title(sel, t("walk.position_title"))),
                        "walk-z0", sel, npz=lambda: {"z0": stages.sequence})
        elif step == "encoder":
            f = result.facts
            st.write(t("walk.encoder_text", layers=f.layers, heads=f.heads, d=f.hidden_size, mlp=f.mlp_size))
            rolled = result.figure_rollout
            fig = plots.attention_overlay(display, rolled, layout.patch_size, value_name=t("plot.rollout"),
                                          title=title(sel, t("attention.rollout"), sinks_note(result)))
            show_figure(fit(fig, sel, 350), "walk-rollout", sel, npz=lambda: {"rollout": rolled})
            if result.sink_tokens:
                st.caption(sinks_caption(result))
        elif step == "prediction":
            if result.predictions:
                st.write(t("walk.prediction_text") + ("" if sel.pretrained else " " + t("walk.random_labels")))
                fig = plots.predictions_figure([class_name(p.index, p.label) for p in result.predictions],
                                               [p.probability for p in result.predictions],
                                               title(sel, t("walk.top5")))
                best = result.predictions[0]
                show_figure(fit(fig, sel, 350), "walk-pred", sel, csv=lambda: table_csv(
                    ["index", "label", "probability"],
                    ((p.index, p.label, f"{p.probability:.6f}") for p in result.predictions)),
                    alt=t("walk.top5_alt", label=class_name(best.index, best.label), p=f"{best.probability:.0%}"))
            else:
                st.write(t("walk.no_head_text", d=result.output.shape[0]))
                show_figure(plots.vector_figure(result.output, title(sel, t("walk.output_feature")),
                                                t("walk.dimension")),
                            "walk-feature", sel, npz=lambda: {"feature": result.output})


sel = current()
header(t("walk.page"), t("walk.explanation"), sel)
if sel is not None:
    steps(sel)
