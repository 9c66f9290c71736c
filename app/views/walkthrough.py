"""Walk-through: the paper's step-by-step path from an image to a prediction (Fig. 1 in motion)."""
import numpy as np
import streamlit as st

import compute
import params
from vitviz import plots
from vitviz.analysis import patchify
from vitviz.export import matrix_csv, table_csv
from widgets import current, fit, fragment, header, show_figure, title

STEPS = ["Image", "Patch grid", "Flattened patches", "Linear projection", "Prefix tokens",
         "Position embeddings", "Transformer encoder", "Prediction"]
EXPLANATION = ("The paper's Fig. 1, one step at a time: the image is cut into P×P patches, each flattened and "
               "projected to D dimensions, learned prefix tokens (a class token) are prepended, position embeddings "
               "are added, and the encoder's output feeds the head. Back / Next (or PageUp / PageDown, as a "
               "presentation clicker sends) step through.")


def _move(delta: int) -> None:
    st.session_state["vv_step"] = min(max(int(st.session_state.get("vv_step", 1)) + delta, 1), len(STEPS))


def patch_index(layout) -> int:
    if st.session_state.get("vv_patch", 0) not in range(layout.num_patches):
        st.session_state["vv_patch"] = 0
    return int(st.number_input("Patch (row-major index)", 0, layout.num_patches - 1, key="vv_patch",
                               persist_state="session"))


@fragment
def steps(sel) -> None:
    result = compute.analysis(sel)
    layout, display = result.layout, result.prepared.display
    ph, pw = layout.patch_size
    gh, gw = layout.grid
    params.prepare("step", 1, lambda v: 1 <= v <= len(STEPS))
    left, mid, right = st.columns([2, 7, 2], vertical_alignment="center")
    left.button("◀ Back", on_click=_move, args=(-1,), key="vv_back", width="stretch", shortcut="PageUp")
    right.button("Next ▶", on_click=_move, args=(1,), key="vv_next", width="stretch", shortcut="PageDown")
    n = mid.select_slider("Step", list(range(1, len(STEPS) + 1)), key="vv_step", label_visibility="collapsed", persist_state="session",
                          format_func=lambda i: f"{i}. {STEPS[i - 1]}")
    params.publish("step", n, 1)
    step = STEPS[n - 1]
    if not sel.presenter:  # on a projector the step slider's label says it; the figure gets the room
        st.subheader(f"{n} / {len(STEPS)} · {step}")

    if step == "Image":
        st.write(f"The network sees the image resized and centre-cropped to **{display.shape[0]}×{display.shape[1]} "
                 f"px** ({sel.image_label}), normalised with the model's mean and std.")
        show_figure(fit(plots.image_figure(display, title(sel, "Network input")), sel, 350), "walk-image", sel,
                    npz=lambda: {"image": display})
    elif step == "Patch grid":
        sizes = [p for p in (ph, 2 * ph, 4 * ph, 8 * ph) if p <= min(display.shape[:2])]
        if st.session_state.get("vv_illus") not in sizes:
            st.session_state["vv_illus"] = ph
        shown = st.select_slider("Patch size for illustration (px)", sizes, key="vv_illus", persist_state="session",
                                 help="The model always uses its own patch size; larger patches are easier to see.")
        rows, cols = display.shape[0] // shown, display.shape[1] // shown
        st.write(f"Cut into **{rows}×{cols} = {rows * cols} patches** of {shown}×{shown} px "
                 f"(the model: {gh}×{gw} = {layout.num_patches} patches of {ph}×{pw} px).")
        fig = plots.image_figure(display, title(sel, f"{rows}×{cols} patches of {shown} px"), patch_size=(shown, shown))
        show_figure(fit(fig, sel, 350), "walk-grid", sel, npz=lambda: {"image": display, "patch_size": np.array(shown)})
    elif step == "Flattened patches":
        patches = patchify(display, (ph, pw))
        index = patch_index(layout)
        r, c = divmod(index, gw)
        st.write(f"The patches, read row by row, form a sequence of {layout.num_patches}. Patch {index} "
                 f"(row {r}, column {c}) flattens to **{ph}·{pw}·3 = {ph * pw * 3} numbers**.")
        show_figure(plots.patch_strip(patches.patches, min(16, layout.num_patches),
                                      title(sel, "First 16 patches in sequence order")),
                    "walk-strip", sel, npz=lambda: {"patches": patches.patches})
        a, b = st.columns(2)
        with a:
            show_figure(plots.image_figure(display, title(sel, f"Patch {index}"), patch_size=(ph, pw),
                                           highlight=(r, c)), "walk-where", sel,
                        npz=lambda: {"patch": patches.patches[index]})
        with b:
            vec = patches.sequence[int(index)].astype(np.float32)
            show_figure(plots.vector_figure(vec, f"patch {index} flattened (pixel values 0–255)", "value index"),
                        "walk-vector", sel, csv=lambda: matrix_csv(vec[:, None], ["value"], "index"))
    else:
        stages = compute.embedding(compute.analysis_id(sel), sel.model, sel.weights_dir, sel.device, sel.pretrained,
                                   result.prepared.tensor)
        d = stages.patch_tokens.shape[1]
        if step == "Linear projection":
            index = patch_index(layout)
            st.write(f"A learned matrix E ({ph * pw * 3}×{d}) maps every flattened patch to a **D = {d}** vector "
                     f"(a convolution with kernel = stride = {ph}). Rows: patches; columns: dimensions.")
            show_figure(plots.token_matrix_figure(stages.patch_tokens, 0, title(sel, "Patch embeddings x_p·E")),
                        "walk-proj", sel, npz=lambda: {"patch_tokens": stages.patch_tokens})
            show_figure(plots.vector_figure(stages.patch_tokens[int(index)], f"patch {index} embedded", "dimension"),
                        "walk-proj-vec", sel, npz=lambda: {"embedding": stages.patch_tokens[int(index)]})
        elif step == "Prefix tokens":
            names = ", ".join(layout.prefix_names) or "none"
            if not layout.has_class_token:
                role = "This model has no class token: its output pools the patch tokens."
            elif result.logits is not None:
                role = "In the paper, the class token's final state is what the head classifies; so it is here."
            else:
                role = ("In the paper, the class token's final state is what the head classifies; this model has no "
                        "head, so the class token's final state is its output feature.")
            st.write(f"Learned tokens are put in front of the patches: **{names}** ({layout.num_prefix_tokens} prefix "
                     f"token(s); sequence length {layout.num_tokens}). {role}")
            seq = np.concatenate([stages.prefix_tokens, stages.patch_tokens])
            show_figure(plots.token_matrix_figure(seq, layout.num_prefix_tokens,
                                                  title(sel, "Prefix tokens (above the line) + patches")),
                        "walk-prefix", sel, npz=lambda: {"tokens": seq})
        elif step == "Position embeddings":
            st.write("A learned position embedding is added to every token, so the order of patches is known. "
                     "This is z₀, the encoder's input. The *Position embeddings* page shows their similarity.")
            show_figure(plots.token_matrix_figure(stages.sequence, layout.num_prefix_tokens,
                                                  title(sel, "z₀ = tokens + E_pos")),
                        "walk-z0", sel, npz=lambda: {"z0": stages.sequence})
        elif step == "Transformer encoder":
            f = result.facts
            st.write(f"**{f.layers} blocks**, each: LayerNorm → multi-head self-attention ({f.heads} heads) → "
                     f"residual, LayerNorm → MLP ({f.hidden_size}→{f.mlp_size}→{f.hidden_size}) → residual. Every "
                     "token can attend to every other token from the first layer on. Below: attention rolled out "
                     "through all layers (the *Attention* page has its settings).")
            fig = plots.attention_overlay(display, result.rollout, layout.patch_size, value_name="rollout",
                                          title=title(sel, "Attention rollout"))
            show_figure(fit(fig, sel, 350), "walk-rollout", sel, npz=lambda: {"rollout": result.rollout})
        elif step == "Prediction":
            if result.predictions:
                st.write("The head (a linear layer) turns the class token's final state into class scores; softmax "
                         "gives probabilities." + ("" if sel.pretrained else
                                                   " **Untrained weights: the labels are random.**"))
                fig = plots.predictions_figure([p.label for p in result.predictions],
                                               [p.probability for p in result.predictions],
                                               title(sel, "Top-5 predictions"))
                show_figure(fit(fig, sel, 350), "walk-pred", sel, csv=lambda: table_csv(
                    ["index", "label", "probability"],
                    ((p.index, p.label, f"{p.probability:.6f}") for p in result.predictions)))
            else:
                st.write(f"This model has **no classifier head** (a self-supervised or pre-training backbone): its "
                         f"output is a {result.output.shape[0]}-dimensional feature, used for retrieval, clustering "
                         "or new heads.")
                show_figure(plots.vector_figure(result.output, title(sel, "Output feature"), "dimension"),
                            "walk-feature", sel, npz=lambda: {"feature": result.output})


sel = current()
header("Walk-through: from pixels to a prediction", EXPLANATION, sel)
if sel is not None:
    steps(sel)
