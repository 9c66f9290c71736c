"""Walk-through: the paper's step-by-step path from an image to a prediction."""
import numpy as np
import streamlit as st

from appstate import (analysis, csv_bytes, embedding, guarded, header, int_input, model, selection, show_figure,
                      table_csv)
from vitviz import plots
from vitviz.analysis import patchify

STEPS = ["Image", "Patch grid", "Flattened patches", "Linear projection", "Prefix tokens",
         "Position embeddings", "Transformer encoder", "Prediction"]

header("Walk-through: from pixels to a prediction",
       "The paper's Fig. 1, one step at a time: the image is cut into P×P patches, each flattened and projected to D "
       "dimensions, a class token is prepended, position embeddings are added, and the encoder's class-token output "
       "feeds the head. Use Back / Next to step through.")


def _move(delta: int) -> None:
    index = STEPS.index(st.session_state.get("vv_step", STEPS[0]))
    st.session_state["vv_step"] = STEPS[min(max(index + delta, 0), len(STEPS) - 1)]


def render(sel) -> None:
    result = analysis(sel)
    loaded = model(sel)
    layout, display = result.layout, result.prepared.display
    ph, pw = layout.patch_size
    gh, gw = layout.grid
    left, mid, right = st.columns([1, 6, 1])
    left.button("◀ Back", on_click=_move, args=(-1,), key="vv_back", width="stretch")
    right.button("Next ▶", on_click=_move, args=(1,), key="vv_next", width="stretch")
    step = mid.select_slider("Step", STEPS, key="vv_step", label_visibility="collapsed")
    n = STEPS.index(step) + 1
    st.subheader(f"{n} / {len(STEPS)} · {step}")

    if step == "Image":
        st.write(f"The network sees the image resized and centre-cropped to **{display.shape[0]}×{display.shape[1]} px** "
                 f"({sel.image_label}), normalised with the model's mean and std.")
        show_figure(plots.image_figure(display), "walk-image", npz=lambda: {"image": display})
    elif step == "Patch grid":
        sizes = [p for p in (ph, 2 * ph, 4 * ph, 8 * ph) if p <= min(display.shape[:2])]
        shown = st.select_slider("Patch size for illustration (px)", sizes, value=ph, key="vv_illus",
                                 help="The model always uses its own patch size; larger patches are easier to see.")
        rows, cols = display.shape[0] // shown, display.shape[1] // shown
        st.write(f"Cut into **{rows}×{cols} = {rows * cols} patches** of {shown}×{shown} px "
                 f"(the model: {gh}×{gw} = {layout.num_patches} patches of {ph}×{pw} px).")
        show_figure(plots.image_figure(display, patch_size=(shown, shown)), "walk-grid",
                    npz=lambda: {"image": display, "patch_size": np.array(shown)})
    elif step == "Flattened patches":
        patches = patchify(display, (ph, pw))
        index = int_input(st, "Patch (row-major index)", 0, layout.num_patches - 1, 0, "vv_patch")
        r, c = divmod(index, gw)
        st.write(f"The patches, read row by row, form a sequence of {layout.num_patches}. Patch {index} "
                 f"(row {r}, column {c}) flattens to **{ph}·{pw}·3 = {ph * pw * 3} numbers**.")
        show_figure(plots.patch_strip(patches.patches, min(16, layout.num_patches), "first 16 patches in sequence order"),
                    "walk-strip", npz=lambda: {"patches": patches.patches})
        a, b = st.columns(2)
        with a:
            show_figure(plots.image_figure(display, patch_size=(ph, pw), highlight=(r, c)), "walk-where",
                        npz=lambda: {"patch": patches.patches[index]})
        with b:
            vec = patches.sequence[int(index)].astype(np.float32)
            show_figure(plots.vector_figure(vec, f"patch {index} flattened (pixel values 0–255)", "value index"),
                        "walk-vector", csv=lambda: csv_bytes(vec[:, None], ["value"], "index"))
    else:
        stages = embedding(sel, result)
        d = stages.patch_tokens.shape[1]
        if step == "Linear projection":
            index = int_input(st, "Patch (row-major index)", 0, layout.num_patches - 1, 0, "vv_patch")
            st.write(f"A learned matrix E ({ph * pw * 3}×{d}) maps every flattened patch to a **D = {d}** vector "
                     f"(a convolution with kernel = stride = {ph}). Rows: patches; columns: dimensions.")
            show_figure(plots.token_matrix_figure(stages.patch_tokens, 0, "patch embeddings x_p·E"), "walk-proj",
                        npz=lambda: {"patch_tokens": stages.patch_tokens})
            show_figure(plots.vector_figure(stages.patch_tokens[int(index)], f"patch {index} embedded", "dimension"),
                        "walk-proj-vec", npz=lambda: {"embedding": stages.patch_tokens[int(index)]})
        elif step == "Prefix tokens":
            names = ", ".join(layout.prefix_names) or "none"
            st.write(f"Learned tokens are put in front of the patches: **{names}** "
                     f"({layout.num_prefix_tokens} prefix token(s); sequence length {layout.num_tokens}). "
                     + ("The class token's final state is what the head classifies." if layout.has_class_token
                        else "This model has no class token: its head averages the patch tokens."))
            seq = np.concatenate([stages.prefix_tokens, stages.patch_tokens])
            show_figure(plots.token_matrix_figure(seq, layout.num_prefix_tokens, "prefix tokens (above the line) + patches"),
                        "walk-prefix", npz=lambda: {"tokens": seq})
        elif step == "Position embeddings":
            st.write("A learned position embedding is added to every token, so the order of patches is known. "
                     "This is z₀, the encoder's input. The *Position embeddings* page shows their similarity structure.")
            show_figure(plots.token_matrix_figure(stages.sequence, layout.num_prefix_tokens, "z₀ = tokens + E_pos"),
                        "walk-z0", npz=lambda: {"z0": stages.sequence})
        elif step == "Transformer encoder":
            f = result.facts
            st.write(f"**{f.layers} blocks**, each: LayerNorm → multi-head self-attention ({f.heads} heads) → residual, "
                     f"LayerNorm → MLP ({f.hidden_size}→{f.mlp_size}→{f.hidden_size}) → residual. Every token can attend to "
                     "every other token from the first layer on. Below: attention rolled out through all layers.")
            show_figure(plots.attention_overlay(display, result.rollout, layout.patch_size, value_name="rollout"),
                        "walk-rollout", npz=lambda: {"rollout": result.rollout})
        elif step == "Prediction":
            if result.predictions:
                st.write("The head (a linear layer) turns the class token's final state into class scores; softmax gives "
                         "probabilities." + ("" if loaded.pretrained else " **Untrained weights: the labels are random.**"))
                show_figure(plots.predictions_figure([p.label for p in result.predictions],
                                                     [p.probability for p in result.predictions], "top-5 predictions"),
                            "walk-pred", csv=lambda: table_csv(["label", "probability"], (
                                (p.label, f"{p.probability:.6f}") for p in result.predictions)))
            else:
                st.write(f"This model has **no classifier head** (a self-supervised or pre-training backbone): its output "
                         f"is a {result.output.shape[0]}-dimensional feature, used for retrieval, clustering or new heads.")
                show_figure(plots.vector_figure(result.output, "output feature", "dimension"), "walk-feature",
                            npz=lambda: {"feature": result.output})


sel = selection("walkthrough")
if sel is not None:
    with guarded():
        render(sel)
