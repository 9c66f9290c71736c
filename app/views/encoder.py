"""Encoder: one patch followed through the paper's Eq. (1)–(4), one operation per step, with the model's numbers.

The numbers are :func:`vitviz.run.trace.trace_patch`'s (forward hooks on timm's own modules); the page picks
the patch, layer and head, and shows for each step the few values that matter. The whole trace downloads
as the NPZ that ``python -m vitviz trace`` writes.
"""
import numpy as np
import pandas as pd
import streamlit as st

from vitviz.figures import paper, plots, trace_figures
from vitviz.analysis import class_names
from vitviz.analysis.trace_steps import (attention_over_patches, depth_profile, firing_units, layer_norm_parts,
                                         projection_terms, top_entries)
from vitviz.text.i18n import t, tn
from vitviz.figures.map_pictures import map_picture
from vitviz_dashboard import compute, params, widgets
from vitviz_dashboard.controls import controls
from vitviz_dashboard.frame import current, fit, fragment, header, title
from vitviz_dashboard.widgets import data_row, figure_stem

STEPS = ["patch", "projection", "position", "norm1", "scores", "softmax", "heads", "residual1", "mlp", "residual2",
         "final"]
BOXES = {"patch": ["patches"], "projection": ["projection"], "position": ["tokens"], "norm1": ["norm1"],
         "scores": ["attention"], "softmax": ["attention"], "heads": ["attention"], "residual1": ["add1"],
         "mlp": ["norm2", "mlp"], "residual2": ["add2"], "final": ["head"]}
FIRST = 6        # first dimensions shown in a table
TOP = 5          # top entries shown
NUM = "%.4f"


def _move(delta: int) -> None:
    st.session_state["vv_enc_step"] = min(max(int(st.session_state.get("vv_enc_step", 1)) + delta, 1), len(STEPS))


def _set_patch() -> None:
    st.session_state["vv_enc_patch"] = (int(st.session_state["vv_enc_row"]), int(st.session_state["vv_enc_col"]))


def table(columns: dict, index, index_name: str) -> None:
    """A small numeric table (values unrounded; shown with 4 decimals)."""
    frame = pd.DataFrame(columns, index=pd.Index(index, name=index_name))
    st.dataframe(frame, column_config={c: st.column_config.NumberColumn(format=NUM) for c in columns},
                 width="content")


def first_dims(columns: dict) -> None:
    table({name: np.asarray(v)[:FIRST] for name, v in columns.items()}, list(range(FIRST)), t("encoder.dim"))


def norms_line(**vectors) -> str:
    return " · ".join(f"‖{name}‖ = {np.linalg.norm(np.asarray(v, np.float64)):.3f}" for name, v in vectors.items())


def setting(sel, layout, depth: int, heads: int):
    """The patch, layer and head the page shows (link or session values, made valid), and their widgets."""
    gh, gw = layout.grid
    patch = params.prepare("patch", (gh // 2, gw // 2), lambda v: 0 <= v[0] < gh and 0 <= v[1] < gw)
    layer = params.prepare("elayer", 0, lambda v: 0 <= v < depth)
    head = params.prepare("ehead", 0, lambda v: 0 <= v < heads)
    st.session_state["vv_enc_row"], st.session_state["vv_enc_col"] = patch
    c1, c2, c3, c4 = controls("encoder", [2, 2, 3, 2])
    c1.number_input(t("encoder.row"), 0, gh - 1, key="vv_enc_row", on_change=_set_patch)
    c2.number_input(t("encoder.col"), 0, gw - 1, key="vv_enc_col", on_change=_set_patch)
    layer = c3.slider(t("encoder.layer"), 0, depth - 1, key="vv_enc_layer", persist_state="session")
    head = c4.selectbox(t("encoder.head"), list(range(heads)), key="vv_enc_head", persist_state="session",
                        format_func=lambda h: t("attention.head_n", n=h))
    params.publish("patch", patch, (gh // 2, gw // 2))
    params.publish("elayer", layer, 0)
    params.publish("ehead", head, 0)
    return patch, layer, head


def stepper() -> str:
    params.prepare("estep", 1, lambda v: 1 <= v <= len(STEPS))
    left, mid, right = st.container(key="vv-stepper").columns([2, 7, 2], vertical_alignment="center")
    left.button(t("walk.back"), on_click=_move, args=(-1,), key="vv_enc_back", width="stretch", shortcut="PageUp")
    right.button(t("walk.next"), on_click=_move, args=(1,), key="vv_enc_next", width="stretch", shortcut="PageDown")
    n = mid.select_slider(t("walk.step"), list(range(1, len(STEPS) + 1)), key="vv_enc_step",
                          label_visibility="collapsed", persist_state="session",
                          format_func=lambda i: f"{i}. {t('encoder.step_' + STEPS[i - 1])}")
    params.publish("estep", n, 1)
    return STEPS[n - 1]


@fragment
def encoder_view(sel) -> None:
    result = compute.analysis(sel)
    layout = result.layout
    loaded = compute.model_for(sel)
    depth, heads = len(loaded.model.blocks), int(loaded.model.blocks[0].attn.num_heads)
    picked = st.session_state.pop("_vv_enc_pick", None)
    if picked is not None:
        st.session_state["vv_enc_patch"] = picked
    patch, layer, head = setting(sel, layout, depth, heads)
    step = stepper()
    tr = compute.trace(sel, patch)
    n = STEPS.index(step) + 1
    if not sel.presenter:  # on a projector the controls and the step slider say it; the figure gets the room
        where = t("encoder.where", row=patch[0], col=patch[1], token=tr.token_index, layer=layer, head=head)
        st.markdown(f"**{n} / {len(STEPS)} · {t('encoder.step_' + step)}** — {where}")
    main, side = st.columns([7, 2], gap="medium")
    if sel.presenter:  # eleven boxes under the controls within 720 px: compact buttons, the block's caption kept
        st.html(FLOW_PRESENTER_CSS)
    with side:
        flow(step, result.facts, tr, layer, depth, loaded.num_classes)
    with main:
        STEP_VIEWS[step](sel, result, loaded, tr, layer, head)
    data_row("encoder-trace", figure_stem("encoder-trace", sel), alt=t("encoder.npz_alt"), npz=tr.arrays)
    with st.expander(t("encoder.fig1_expander")):
        fig = paper.fig1_architecture(result.facts, layout, model_label=sel.short_label,
                                      num_classes=loaded.num_classes, highlight=BOXES[step])
        st.plotly_chart(fit(fig, sel), key="encoder-fig1", config=widgets.PLOT_CONFIG,
                        alt=t("encoder.fig1_alt", step=t("encoder.step_" + step)))


FLOW_PRESENTER_CSS = """<style>
  .st-key-vv-enc-flow button { min-height: 0; padding: 0.05rem 0.5rem; line-height: 1.15; }
  .st-key-vv-enc-flow button p { font-size: 14px; }
  .st-key-vv-enc-flow, .st-key-vv-enc-flow [data-testid="stVerticalBlock"] { gap: 0.1rem; }
  .st-key-vv-enc-flow [data-testid="stVerticalBlockBorderWrapper"] { padding: 0.3rem 0.5rem; }
</style>"""


def _go(n: int) -> None:
    st.session_state["vv_enc_step"] = n


def flow(step: str, facts, tr, layer: int, depth: int, num_classes: int) -> None:
    """The steps as the encoder's boxes, bottom-up as in Fig. 1 read top-down: a button per step (the current
    one highlighted) that goes there; the block's steps framed, with the block's numbers."""
    d, dh = facts.hidden_size, tr.head_dim
    labels = {"patch": t("encoder.box_patch", values=tr.patch_values.size),
              "projection": f"x_p E + b ({tr.patch_values.size} → {d})", "position": "+ E_pos → z₀",
              "norm1": t("encoder.box_norm"), "scores": f"q·k / √{dh}", "softmax": t("encoder.box_softmax"),
              "heads": t("encoder.box_heads", heads=tr.num_heads), "residual1": "⊕ z + MSA",
              "mlp": f"LN → MLP {d}→{facts.mlp_size}→{d}", "residual2": "⊕ z′ + MLP",
              "final": t("encoder.box_final" if num_classes else "encoder.box_final_features")}

    def button(name: str) -> None:
        n = STEPS.index(name) + 1
        st.button(f"{n}. {labels[name]}", key=f"vv_enc_box_{name}", on_click=_go, args=(n,), width="stretch",
                  type="primary" if name == step else "secondary")

    with st.container(key="vv-enc-flow", gap="small"):
        for name in STEPS[:3]:
            button(name)
        with st.container(border=True, gap="small"):
            st.caption(t("encoder.box_block", layer=layer, layers=depth, heads=tr.num_heads, dh=dh))
            for name in STEPS[3:-1]:
                button(name)
        button(STEPS[-1])


def step_patch(sel, result, loaded, tr, layer, head) -> None:
    layout, display = result.layout, result.prepared.display
    (ph, pw), (r, c) = layout.patch_size, tr.patch
    st.write(t("encoder.patch_text", row=r, col=c, token=tr.token_index, tokens=layout.num_tokens, ph=ph, pw=pw,
               values=tr.patch_values.size))
    left, right = st.columns([3, 2])
    with left:
        gh, gw = layout.grid
        tokens = layout.num_prefix_tokens + np.arange(gh * gw).reshape(gh, gw)
        picture, top = map_picture(tokens.astype(np.float32), display, layout.patch_size, opacity=0.0,
                                   query_patch=(r, c))
        point = widgets.show_map("encoder-patch", sel, display.shape, picture, top, tokens.astype(np.float32),
                                 title(sel, t("encoder.patch_title"), f"({r}, {c})"), t("encoder.token_index"),
                                 npz=lambda: {"patch_values": tr.patch_values}, pickable=True,
                                 max_height=380, presenter_height=250)
        if point is not None and divmod(int(point), gw) != tuple(tr.patch):
            st.session_state["_vv_enc_pick"] = divmod(int(point), gw)
            st.rerun(scope="fragment")
    with right:
        st.image(np.kron(display[r * ph:(r + 1) * ph, c * pw:(c + 1) * pw], np.ones((8, 8, 1), np.uint8)),
                 caption=t("encoder.patch_zoom", ph=ph, pw=pw), width=min(8 * pw, 160))
        names = [f"{'RGB'[i // (ph * pw)]} ({i % (ph * pw) // pw}, {i % pw})" for i in range(FIRST)]
        table({"x_p": tr.patch_values[:FIRST]}, names, t("encoder.pixel"))
        st.caption(t("encoder.patch_range", lo=f"{tr.patch_values.min():.3f}", hi=f"{tr.patch_values.max():.3f}",
                     norm=f"{np.linalg.norm(tr.patch_values):.3f}"))


def step_projection(sel, result, loaded, tr, layer, head) -> None:
    e, b = compute.projection(sel)
    d = int(top_entries(tr.embedding, 1)[0][0])
    terms = projection_terms(tr.patch_values, e, b, d, TOP)
    ph, pw = result.layout.patch_size
    st.write(t("encoder.projection_text", rows=e.shape[0], d=e.shape[1], dim=d, total=f"{terms.total:.4f}"))
    left, right = st.columns(2)
    with left:
        names = [f"{'RGB'[i // (ph * pw)]} ({i % (ph * pw) // pw}, {i % pw})" for i in terms.indices]
        table({"x_i": terms.inputs, f"E[i, {d}]": terms.weights, "x_i·E": terms.products}, names, "i")
        st.caption(t("encoder.projection_sum", rest=f"{terms.rest:.4f}", bias=f"{terms.bias:.4f}",
                     total=f"{terms.total:.4f}", n=e.shape[0] - TOP))
    with right:
        first_dims({"x_p E + b": tr.embedding})
        st.caption(norms_line(**{"x_p E + b": tr.embedding}))


def step_position(sel, result, loaded, tr, layer, head) -> None:
    r, c = tr.patch
    st.write(tn("encoder.position_text", len(result.layout.prefix_names), row=r, col=c,
                prefix=", ".join(result.layout.prefix_names) or "—"))
    left, right = st.columns([3, 2])
    with left:
        cols = {"x_p E + b": tr.embedding, "E_pos": tr.position, "z₀": tr.z0}
        if len(tr.prefix_z0):
            cols[f"z₀[{result.layout.prefix_names[0]}]"] = tr.prefix_z0[0]
        first_dims(cols)
        st.caption(norms_line(**{"x_p E": tr.embedding, "E_pos": tr.position, "z₀": tr.z0}))
    with right:
        sim = result.static.pos_similarity
        if sim is not None:
            fig = plots.similarity_tile(sim, r, c, title(sel, t("encoder.pos_tile_title", row=r, col=c), two_lines=True),
                                        height=300)
            widgets.show_figure(fig, "encoder-pos-tile", sel, npz=lambda: {"similarity": sim[r, c]})


def step_norm1(sel, result, loaded, tr, layer, head) -> None:
    w = compute.block(sel, layer)
    i = list(tr.layers).index(layer)
    parts = layer_norm_parts(tr.z_in[i], w.norm1_weight, w.norm1_bias, w.norm1_eps)
    st.write(t("encoder.norm1_text", layer=layer, mean=f"{parts.mean:.4f}", std=f"{parts.std:.4f}",
               eps=f"{w.norm1_eps:g}"))
    first_dims({"z": tr.z_in[i], "(z − μ)/σ": parts.standardised, "γ": w.norm1_weight, "β": w.norm1_bias,
                "LN(z)": tr.ln1[i]})
    st.caption(norms_line(z=tr.z_in[i], **{"LN(z)": tr.ln1[i]}))


def step_scores(sel, result, loaded, tr, layer, head) -> None:
    layout, i = result.layout, list(tr.layers).index(layer)
    prefix, grid = attention_over_patches(tr.scores[i, head], layout.num_prefix_tokens, layout.grid)
    st.write(t("encoder.scores_text", head=head, dh=tr.head_dim, sqrt=f"{tr.head_dim ** 0.5:g}",
               tokens=layout.num_tokens))
    left, right = st.columns([3, 2])
    with left:
        fig = plots.attention_overlay(result.prepared.display, grid, layout.patch_size, value_name=t("encoder.score"),
                                      query_patch=tr.patch, opacity=0.7, height=None,
                                      title=title(sel, t("encoder.scores_title"),
                                                  t("encoder.layer_head", layer=layer, head=head)))
        widgets.show_figure(fit(fig, sel, 270), "encoder-scores", sel, npz=lambda: {"scores": tr.scores[i, head]},
                            height=None if sel.presenter else 380)
    with right:
        first_dims({f"q (h{head})": tr.q[i, head]})
        idx, _ = top_entries(tr.scores[i, head] - tr.scores[i, head].min(), TOP)  # the highest scores
        table({t("encoder.score"): tr.scores[i, head][idx]}, [layout.token_name(int(j)) for j in idx],
              t("encoder.key_token"))
        if len(prefix):
            st.caption(t("encoder.prefix_scores", values=", ".join(
                f"{n} {v:.3f}" for n, v in zip(layout.prefix_names, prefix))))


def step_softmax(sel, result, loaded, tr, layer, head) -> None:
    layout, i = result.layout, list(tr.layers).index(layer)
    row = tr.attn[i, head]
    prefix, grid = attention_over_patches(row, layout.num_prefix_tokens, layout.grid)
    st.write(t("encoder.softmax_text", head=head, layer=layer, token=tr.token_index, total=f"{row.sum():.4f}",
               prefix=f"{prefix.sum():.1%}"))
    left, right = st.columns([3, 2])
    with left:
        picture, top = map_picture(grid, result.prepared.display, layout.patch_size, query_patch=tr.patch)
        widgets.show_map("encoder-attn", sel, result.prepared.display.shape, picture, top, grid,
                         title(sel, t("encoder.softmax_title"), t("encoder.layer_head", layer=layer, head=head)),
                         t("plot.attention"), npz=lambda: {"attn": row}, max_height=380, presenter_height=250)
    with right:
        idx, val = top_entries(row, TOP)
        table({"softmax": val, t("encoder.score"): tr.scores[i, head][idx]},
              [layout.token_name(int(j)) for j in idx], t("encoder.key_token"))


def step_heads(sel, result, loaded, tr, layer, head) -> None:
    i, dh = list(tr.layers).index(layer), tr.head_dim
    per_head = tr.head_context[i].reshape(tr.num_heads, dh)
    st.write(t("encoder.heads_text", head=head, dh=dh, heads=tr.num_heads, d=tr.head_context.shape[1]))
    left, right = st.columns(2)
    with left:
        first_dims({f"Σ a v (h{head})": per_head[head]})
        table({"‖Σ a v‖": np.linalg.norm(per_head, axis=1)}, [f"h{h}" for h in range(tr.num_heads)],
              t("encoder.head"))
    with right:
        first_dims({"MSA(LN(z))": tr.attn_out[i]})
        st.caption(norms_line(**{"concat": tr.head_context[i], "MSA": tr.attn_out[i]}))


def step_residual1(sel, result, loaded, tr, layer, head) -> None:
    w = compute.block(sel, layer)
    i = list(tr.layers).index(layer)
    scale = w.ls1 if w.ls1 is not None else np.ones_like(tr.attn_out[i])
    st.write(t("encoder.residual1_text") + " " + (t("encoder.layerscale", lo=f"{np.abs(w.ls1).min():.3g}",
                                                     hi=f"{np.abs(w.ls1).max():.3g}")
                                                   if w.ls1 is not None else t("encoder.no_layerscale")))
    first_dims({"z": tr.z_in[i], "MSA": tr.attn_out[i], "λ₁": scale, "z′ = z + λ₁·MSA": tr.z_mid[i]})
    st.caption(norms_line(z=tr.z_in[i], **{"λ₁·MSA": scale * tr.attn_out[i], "z′": tr.z_mid[i]}))


def step_mlp(sel, result, loaded, tr, layer, head) -> None:
    i = list(tr.layers).index(layer)
    counts, units = firing_units(tr.mlp_hidden), tr.mlp_hidden.shape[1]
    st.write(t("encoder.mlp_text", d=tr.ln2.shape[1], units=units, firing=int(counts[i]),
               share=f"{counts[i] / units:.0%}"))
    left, right = st.columns([2, 3])
    with left:
        idx, val = top_entries(tr.mlp_hidden[i], TOP)
        table({"GELU": val}, [int(j) for j in idx], t("encoder.unit"))
        first_dims({"LN₂(z′)": tr.ln2[i]})
    with right:
        fig = trace_figures.firing_figure(counts, units, tr.layers, layer=layer,
                                          title=title(sel, t("encoder.firing_title"), two_lines=True))
        widgets.show_figure(fit(fig, sel, 250), "encoder-firing", sel, npz=lambda: {"firing_units": counts})


def step_residual2(sel, result, loaded, tr, layer, head) -> None:
    w = compute.block(sel, layer)
    i = list(tr.layers).index(layer)
    scale = w.ls2 if w.ls2 is not None else np.ones_like(tr.z_mid[i])
    mlp = (tr.z_out[i] - tr.z_mid[i]) / scale
    profile = depth_profile(tr.z_in, tr.z_out)
    st.write(t("encoder.residual2_text", cos=f"{profile.cosine[i]:.3f}"))
    left, right = st.columns([2, 3])
    with left:
        first_dims({"z′": tr.z_mid[i], "MLP": mlp, "z_l": tr.z_out[i]})
        st.caption(norms_line(**{"z′": tr.z_mid[i], "z_l": tr.z_out[i]}))
    with right:
        fig = trace_figures.depth_figure(profile, tr.layers, layer=layer, title=title(sel, t("encoder.depth_title"), two_lines=True))
        widgets.show_figure(fit(fig, sel, 260), "encoder-depth", sel,
                            npz=lambda: {"norm_in": profile.norm_in, "norm_out": profile.norm_out,
                                         "cosine": profile.cosine})


def step_final(sel, result, loaded, tr, layer, head) -> None:
    if tr.has_head:
        names = class_names(loaded.model)
        label = (lambda k: names[k]) if names is not None else (lambda k: f"class {k}")
        st.write(t("encoder.lens_text") + ("" if sel.pretrained else " " + t("walk.random_labels")))
        table({t("encoder.top1"): [label(int(k)) for k in tr.logit_lens_classes[:, 0]],
               "p": tr.logit_lens_probs[:, 0],
               t("encoder.top2_5"): [", ".join(f"{label(int(k))} {p:.0%}" for k, p in zip(ks[1:], ps[1:]))
                                     for ks, ps in zip(tr.logit_lens_classes, tr.logit_lens_probs)]},
              tr.layers.tolist(), t("encoder.layer_axis"))
    else:
        st.write(t("encoder.cosine_text"))
        fig = trace_figures.cosine_to_last_figure(tr.cls_cosine_to_last, tr.layers, layer=layer,
                                                  title=title(sel, t("encoder.cosine_title")))
        widgets.show_figure(fit(fig, sel, 250), "encoder-cosine", sel,
                            npz=lambda: {"cls_cosine_to_last": tr.cls_cosine_to_last})
    first_dims({"final": tr.final})


STEP_VIEWS = {"patch": step_patch, "projection": step_projection, "position": step_position, "norm1": step_norm1,
              "scores": step_scores, "softmax": step_softmax, "heads": step_heads, "residual1": step_residual1,
              "mlp": step_mlp, "residual2": step_residual2, "final": step_final}


sel = current()
header(t("encoder.page"), t("encoder.explanation"), sel)
if sel is not None:
    encoder_view(sel)
