"""The ViT paper's figures and tables for the loaded model (Dosovitskiy et al. 2021, arXiv:2010.11929v2).

Builders (arrays/dataclasses in, plotly figure or :class:`~vitviz.figures.report.Table` out, no model):

* :func:`fig1_architecture` — the paper's overview diagram (Fig. 1) drawn with this model's numbers
  (also in ``fig.layout.meta``);
* :func:`fig6_rollout_figure` — class-token attention rollout per image, image and map side by side (Fig. 6);
* :func:`table2_figure` / :func:`fig5_compute_figure` — the paper's Table 2 and Table 6 (its Fig. 5) numbers;
* :func:`table1` / :func:`table2` / :func:`table6` — Table 1 with the loaded model's row, and the paper's tables.

The page (what the app's "Paper figures" page and the CLI show):

* :func:`analyze_samples` — :func:`vitviz.run.pipeline.analyze_image` for every bundled sample (or given paths);
* :func:`paper_sections` / :func:`paper_figures` — every figure and table above plus Fig. 7 (via
  :mod:`vitviz.figures.plots`) from a list of :class:`~vitviz.run.pipeline.ImageAnalysis`, with captions that
  state the paper's finding for the paper's model and how the loaded model differs
  (:func:`model_differences`: size, hybrid stem, no head, self-supervised, untrained);
* :func:`paper_report` / :func:`write_paper_report` — the standalone HTML of :mod:`vitviz.figures.report`.

Language: every title, caption, table head and figure label comes from the :mod:`vitviz.text.i18n`
catalogues (keys ``paper.*``) in the current language; English unless :func:`vitviz.text.i18n.use`
says otherwise (the CLI stays English). The paper's captions are quoted in English
(:mod:`vitviz.figures.paper_results`) and rendered in Korean, marked as the paper's caption.

Conventions: the rollout is vitviz's default (mean head fusion, no discard, ``(A + I)`` renormalised,
row of the class token over the patch columns; the mean over patch queries without a class token),
as in ``python -m vitviz analyze``. In the "mask" style the map is drawn as the paper does: the
image multiplied by the map scaled to its maximum, each patch one constant block (no smoothing).
"""
from __future__ import annotations

import html
import math
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Optional, Sequence, Union

import numpy as np
import plotly.graph_objects as go
from PIL import Image
from plotly.subplots import make_subplots

from vitviz.figures import paper_results as pr
from vitviz.analysis.facts import PAPER_TABLE1, ModelFacts
from vitviz.text.i18n import t, tn
from vitviz.inputs.images import sample_paths
from vitviz.inputs.preprocess import SizeArg, TokenLayout
from vitviz.figures.plots import HEAD_COLOURS, png_uri
from vitviz.figures.titles import title_layout, title_top, wrap_title
from vitviz.figures.report import Section, Table

if TYPE_CHECKING:  # pragma: no cover
    from vitviz.loading.models import LoadedModel
    from vitviz.run.pipeline import ImageAnalysis
    from vitviz.figures.report import ReportFiles


# Diagram colours, after the paper's Fig. 1 (light fills, dark text, readable in either theme).
_INK = "#1f2937"
_COLOURS = {"norm": "#fde68a", "attn": "#bbf7d0", "mlp": "#bfdbfe", "proj": "#fbcfe8", "enc": "#e5e7eb",
            "head": "#fed7aa", "emb": "#ddd6fe", "pos": "#f9a8d4", "prefix": "#fcd34d", "block": "#f3f4f6"}


def _text(value: object) -> str:
    """Plotly renders a subset of HTML in text; escape labels so they show literally."""
    return html.escape(str(value), quote=False)


def _fmt_params(params: int) -> str:
    return f"{params / 1e6:.1f}M" if params < 1e9 else f"{params / 1e9:.2f}B"


def _pair_text(pair: Sequence[int], sep: str = " × ") -> str:
    return f"{pair[0]}{sep}{pair[1]}"


# ------------------------------------------------------------------------------------- Fig. 1
def _box(fig: go.Figure, x0: float, y0: float, x1: float, y1: float, fill: str, text: str = "", *,
         size: int = 13, dash: Optional[str] = None, radius: bool = False) -> None:
    line = dict(color=_INK, width=1.2, dash=dash) if dash else dict(color=_INK, width=1.2)
    if radius:
        r = min(1.5, (x1 - x0) / 4, (y1 - y0) / 4)
        path = (f"M {x0 + r},{y0} L {x1 - r},{y0} Q {x1},{y0} {x1},{y0 + r} L {x1},{y1 - r} Q {x1},{y1} {x1 - r},{y1} "
                f"L {x0 + r},{y1} Q {x0},{y1} {x0},{y1 - r} L {x0},{y0 + r} Q {x0},{y0} {x0 + r},{y0} Z")
        fig.add_shape(type="path", path=path, fillcolor=fill, line=line, layer="below")
    else:
        fig.add_shape(type="rect", x0=x0, y0=y0, x1=x1, y1=y1, fillcolor=fill, line=line, layer="below")
    if text:
        fig.add_annotation(x=(x0 + x1) / 2, y=(y0 + y1) / 2, text=text, showarrow=False,
                           font=dict(size=size, color=_INK))


def _arrow(fig: go.Figure, x0: float, y0: float, x1: float, y1: float, colour: str = "#6b7280") -> None:
    fig.add_annotation(x=x1, y=y1, ax=x0, ay=y0, xref="x", yref="y", axref="x", ayref="y", text="",
                       showarrow=True, arrowhead=2, arrowsize=1.1, arrowwidth=1.4, arrowcolor=colour)


def _label(fig: go.Figure, x: float, y: float, text: str, *, size: int = 12, anchor: str = "center",
           colour: Optional[str] = None) -> None:
    font = dict(size=size, color=colour) if colour else dict(size=size)
    fig.add_annotation(x=x, y=y, text=text, showarrow=False, xanchor=anchor, font=font)


def _patch_pixels(display: np.ndarray, layout: TokenLayout, index: int) -> np.ndarray:
    ph, pw = layout.patch_size
    row, col = divmod(index, layout.grid[1])
    return display[row * ph:(row + 1) * ph, col * pw:(col + 1) * pw]


FIG1_TITLE_SIZE = 15
# Boxes of Fig. 1 that :func:`fig1_architecture` can highlight, in the figure's coordinates (x0, y0, x1, y1):
# the left panel (image patches → projection → tokens → encoder → head) and one block on the right.
FIG1_BOXES = {
    "patches": (27.0, 1.0, 95.0, 21.0), "projection": (19.5, 27.5, 95.5, 34.0), "tokens": (2.5, 35.8, 96.0, 44.2),
    "encoder": (1.5, 47.5, 95.5, 62.5), "head": (1.5, 66.5, 34.5, 74.0),
    "norm1": (119.0, 15.0, 153.0, 21.0), "attention": (119.0, 23.0, 153.0, 34.0), "add1": (132.5, 34.5, 139.5, 41.5),
    "norm2": (119.0, 42.0, 153.0, 48.0), "mlp": (119.0, 50.0, 153.0, 61.0), "add2": (132.5, 61.5, 139.5, 68.5),
}
HIGHLIGHT = "#ea580c"


def fig1_architecture(facts: ModelFacts, layout: TokenLayout, *, display: Optional[np.ndarray] = None,
                      model_label: str = "", num_classes: int = 0, channels: int = 3,
                      highlight: Sequence[str] = ()) -> go.Figure:
    """The paper's Fig. 1 (model overview) drawn for this model, with its own numbers.

    Left: image → N patches of P×P px → linear projection of flattened patches (P²·C → D) →
    prefix tokens ([class], and [dist] / registers when the model has them) and patch tokens with
    position embeddings → Transformer encoder (L layers) → MLP head → classes, or "no head:
    features" for a backbone. Right: one encoder block as in the paper (Norm, Multi-Head Attention,
    +, Norm, MLP, +; L ×). Annotations carry the numbers as ``"L = 12"``, ``"D = 768"``,
    ``"14 × 14 = 196"``, … so a ViT-B/16 at 224 px reads like the paper's ViT-B.

    Args:
        facts: Table-1 facts of the model for the current input.
        layout: the token layout of that input (grid, patch size, prefix tokens).
        display: optional ``(H, W, 3)`` uint8 network input, drawn with its patch grid, and its
            first patches (in sequence order) shown as thumbnails.
        model_label: the model's name for the title (include "(untrained)" when so).
        num_classes: classifier size; 0 for a backbone without a head.
        channels: input channels C (3 for RGB).
        highlight: names of :data:`FIG1_BOXES` to outline in orange (the step a walk-through is at).
    """
    gh, gw = layout.grid
    ph, pw = layout.patch_size
    height_px, width_px = layout.input_hw
    n = layout.num_patches
    d = facts.hidden_size
    p_text = f"P = {ph}" if ph == pw else f"P = {ph}×{pw}"
    fig = go.Figure()

    # --- image and patches (y 3..24)
    img_w = 19.0
    img_h = img_w * height_px / width_px
    if img_h > 21:
        img_h, img_w = 21.0, 21.0 * width_px / height_px
    ix0, iy1 = 2.0, 24.0
    iy0 = iy1 - img_h
    if display is not None:
        fig.add_layout_image(source=Image.fromarray(display), xref="x", yref="y", x=ix0, y=iy1, sizex=img_w,
                             sizey=img_h, xanchor="left", yanchor="top", sizing="stretch", layer="below")
    else:
        _box(fig, ix0, iy0, ix0 + img_w, iy1, "#f3f4f6",
             t("paper.fig1_image", h=height_px, w=width_px, c=channels), size=11)
    grid_line = dict(color="white" if display is not None else "#9ca3af", width=0.6)
    step = max(1, max(gh, gw) // 16)  # a very fine grid would be a grey wash: draw every step-th line
    for c in range(0, gw + 1, step):
        x = ix0 + img_w * c / gw
        fig.add_shape(type="line", x0=x, x1=x, y0=iy0, y1=iy1, line=grid_line)
    for r in range(0, gh + 1, step):
        y = iy1 - img_h * r / gh
        fig.add_shape(type="line", x0=ix0, x1=ix0 + img_w, y0=y, y1=y, line=grid_line)
    _label(fig, ix0 + img_w / 2, iy0 - 1.8, t("paper.fig1_input", h=height_px, w=width_px), size=11)
    _arrow(fig, ix0 + img_w + 0.5, (iy0 + iy1) / 2, ix0 + img_w + 5.5, 16.5)

    # Patch thumbnails: the first few in sequence order, then "…", then the last one.
    shown = list(range(min(4, n))) + ([n - 1] if n > 4 else [])
    size = 5.0
    xs = [30.0 + 7.0 * i for i in range(len(shown))]
    if n > 4:
        xs[-1] += 6.0  # room for the ellipsis
    py0 = 14.0
    for x, idx in zip(xs, shown):
        if display is not None:
            fig.add_layout_image(source=Image.fromarray(_patch_pixels(display, layout, idx)), xref="x", yref="y",
                                 x=x, y=py0 + size, sizex=size, sizey=size, xanchor="left", yanchor="top",
                                 sizing="stretch", layer="above")
            fig.add_shape(type="rect", x0=x, x1=x + size, y0=py0, y1=py0 + size, line=dict(color=_INK, width=0.8))
        else:
            _box(fig, x, py0, x + size, py0 + size, "#e5e7eb")
        _label(fig, x + size / 2, py0 - 1.6, str(idx + 1), size=11)
        _arrow(fig, x + size / 2, py0 + size + 0.3, x + size / 2, 27.8)
    if n > 4:
        _label(fig, xs[-2] + size + 3.5, py0 + size / 2, "…", size=18)
    if facts.hybrid:  # the paper's Sec. 3.1: patches of a CNN feature map, not of the image
        kh, kw = facts.projection_kernel or (1, 1)
        c = facts.stem_channels or 0
        rf = t("paper.fig1_hybrid_rf", rf=facts.stem_receptive_field) if facts.stem_receptive_field else ""
        _label(fig, 30.0, 6.5, t("paper.fig1_hybrid_cells", gh=gh, gw=gw, n=n, ph=ph, pw=pw,
                                 stride=_pair_text(facts.stem_stride or (ph, pw), '×'), rf=rf),
               size=12, anchor="left")
        _label(fig, 30.0, 3.2, t("paper.fig1_hybrid_stem", stem=_text(facts.stem), c=c), size=12, anchor="left")
        _box(fig, 20.0, 28.0, 95.0, 33.5, _COLOURS["proj"],
             t("paper.fig1_hybrid_projection", kh=kh, kw=kw, inputs=kh * kw * c, d=d), size=13, radius=True)
    else:
        _label(fig, 30.0, 6.5, t("paper.fig1_patches", gh=gh, gw=gw, n=n, ph=ph, pw=pw, p=p_text),
               size=12, anchor="left")
        _label(fig, 30.0, 3.2, t("paper.fig1_flattened", pp=ph * pw, c=channels, values=ph * pw * channels),
               size=12, anchor="left")

        # --- linear projection (y 28..33)
        _box(fig, 20.0, 28.0, 95.0, 33.5, _COLOURS["proj"],
             t("paper.fig1_projection", values=ph * pw * channels, d=d), size=13, radius=True)

    # --- tokens with position embeddings (y 38..44)
    prefix = [f"[{name}]" for name in layout.prefix_names]
    if len(prefix) > 4:  # many registers: show the first ones and a count
        prefix = prefix[:3] + [f"+{len(prefix) - 3}"]
    tokens: list[tuple[str, str, str]] = []  # (position text, label under, fill)
    for i, name in enumerate(prefix):
        pos = "0*" if (i == 0 and layout.has_class_token) else "*"
        tokens.append((pos, name, _COLOURS["prefix"]))
    for idx in shown:
        tokens.append((str(idx + 1), "", _COLOURS["emb"]))
    unit = min(7.0, 48.0 / len(tokens))  # token pitch: the row always fits left of its label
    circle, box = 0.37 * unit, 0.37 * unit
    tx = 4.0
    token_centres: list[float] = []
    for k, (pos, name, fill) in enumerate(tokens):
        if n > 4 and k == len(tokens) - 1:
            _label(fig, tx + 1.5, 41.0, "…", size=18)
            tx += 4.0
        fig.add_shape(type="circle", x0=tx, x1=tx + circle, y0=41.0 - circle / 2, y1=41.0 + circle / 2,
                      fillcolor=_COLOURS["pos"], line=dict(color=_INK, width=1))
        _label(fig, tx + circle / 2, 41.0, pos, size=10, colour=_INK)
        _box(fig, tx + circle, 39.2, tx + circle + box, 42.8, fill)
        centre = tx + circle
        token_centres.append(centre)
        if name:
            _label(fig, centre, 37.3, _text(name), size=10)
        tx += unit
    n_prefix = len(tokens) - len(shown)
    for centre in token_centres[n_prefix:]:
        _arrow(fig, centre, 33.7, centre, 39.0)
    tokens_end = tx
    prefix_text = " + ".join(layout.prefix_names) if layout.prefix_names else t("paper.fig1_no_prefix")
    _label(fig, min(tokens_end + 1.0, 60.0), 41.0,
           t("paper.fig1_embedding", p=layout.num_prefix_tokens, n=n, tokens=layout.num_tokens, d=d,
             names=_text(prefix_text)), size=11, anchor="left")

    # --- encoder (y 48..62)
    _box(fig, 2.0, 48.0, 95.0, 62.0, _COLOURS["enc"],
         t("paper.fig1_encoder", layers=facts.layers, d=d, heads=facts.heads, mlp=facts.mlp_size), size=14,
         radius=True)
    for centre in token_centres:
        _arrow(fig, centre, 43.2, centre, 47.8)

    # --- head (y 67..74) from the class token (or the pooled output)
    head_from = token_centres[0]
    _arrow(fig, head_from, 62.2, head_from, 67.0)
    if num_classes > 0:
        _box(fig, 2.0, 67.0, 34.0, 73.5, _COLOURS["head"], t("paper.fig1_head", d=d, n=num_classes),
             size=12, radius=True)
        _arrow(fig, 34.3, 70.25, 41.0, 70.25)
        _label(fig, 42.0, 70.25, t("paper.fig1_class", n=num_classes), size=13, anchor="left")
    else:
        _box(fig, 2.0, 67.0, 34.0, 73.5, "rgba(0,0,0,0)", t("paper.fig1_no_head"), size=12, dash="dash",
             radius=True)
        _arrow(fig, 34.3, 70.25, 41.0, 70.25)
        # Two lines (before its bracket): one ran across the zoom lines to the block on a narrow figure.
        _label(fig, 42.0, 70.25, t("paper.fig1_feature", d=d).replace(" (", "<br>(", 1), size=13, anchor="left")

    # --- one encoder block, as in the paper's right panel (x 112..158)
    bx0, bx1 = 120.0, 152.0
    _box(fig, 106.0, 4.0, 158.0, 10.0, _COLOURS["emb"], t("paper.fig1_embedded"), size=12)
    fig.add_shape(type="rect", x0=104.0, x1=160.0, y0=13.0, y1=70.0, fillcolor=_COLOURS["block"],
                  line=dict(color=_INK, width=1.2), layer="below")
    # Inside the block's top-left corner (the paper has it left of the block, where the embedding's label runs
    # into it on a narrow figure).
    _label(fig, 105.5, 67.6, f"<b>L = {facts.layers} ×</b>", size=15, anchor="left")
    def sublayer(top: float, colour: str, text: str) -> None:
        """Norm, then the sublayer, then the residual "+" below it (the paper's Fig. 1 right)."""
        _box(fig, bx0, top, bx1, top + 4.0, _COLOURS["norm"], t("paper.fig1_norm"), size=12)
        _box(fig, bx0, top + 8.0, bx1, top + 17.0, colour, text, size=12)
        fig.add_shape(type="circle", x0=134.5, x1=137.5, y0=top + 20.5, y1=top + 23.5,
                      line=dict(color=_INK, width=1.2), fillcolor="white")
        _label(fig, 136.0, top + 22.0, "+", size=14, colour=_INK)

    sublayer(16.0, _COLOURS["attn"],
             t("paper.fig1_attention", heads=facts.heads, dims=d // max(facts.heads, 1)))
    sublayer(43.0, _COLOURS["mlp"], f"<b>MLP</b><br>{d} → {facts.mlp_size} → {d} (GELU)")
    for y0, y1 in ((10.2, 15.8), (20.2, 23.8), (33.2, 36.3), (39.7, 42.8), (47.2, 50.8), (60.2, 63.3), (66.7, 74.0)):
        _arrow(fig, 136.0, y0, 136.0, y1, colour=_INK)
    for y_from, y_to in ((12.0, 38.0), (41.0, 65.0)):  # residual connections
        fig.add_shape(type="path", path=f"M 136,{y_from} L 110,{y_from} L 110,{y_to} L 134.3,{y_to}",
                      line=dict(color=_INK, width=1.2))
    _label(fig, 136.0, 76.0, t("paper.fig1_block", layers=facts.layers), size=12)
    _label(fig, 136.0, 80.5, t("paper.fig1_params", params=_fmt_params(facts.params)), size=11)
    for y_left, y_right in ((48.0, 13.0), (62.0, 70.0)):  # the block is a zoom of the encoder
        fig.add_shape(type="line", x0=95.0, x1=104.0, y0=y_left, y1=y_right, line=dict(color="#9ca3af", dash="dot"))

    for name in highlight:  # drawn last: above every box
        x0, y0, x1, y1 = FIG1_BOXES[name]
        fig.add_shape(type="rect", x0=x0, y0=y0, x1=x1, y1=y1, line=dict(color=HIGHLIGHT, width=4), layer="above")

    title = t("paper.fig1_title_for", label=_text(model_label)) if model_label else t("paper.fig1_title")
    title += t("paper.fig1_title_numbers", p=p_text, gh=gh, gw=gw, n=n, h=height_px, w=width_px, layers=facts.layers,
               d=d, heads=facts.heads)
    # The drawn numbers, machine-readable: tests and the app compare them with the model's facts.
    fig.update_layout(meta=dict(figure="fig1", patch_size=[ph, pw], grid=[gh, gw], num_patches=n,
                                num_prefix_tokens=layout.num_prefix_tokens, tokens=layout.num_tokens,
                                hidden_size=d, layers=facts.layers, heads=facts.heads, mlp_size=facts.mlp_size,
                                params=facts.params, num_classes=num_classes, input_hw=[height_px, width_px],
                                channels=channels, hybrid=facts.hybrid,
                                stem_stride=list(facts.stem_stride) if facts.stem_stride else None,
                                stem_channels=facts.stem_channels, highlight=list(highlight)))
    fig.update_xaxes(range=[-1, 161], visible=False, fixedrange=True)
    fig.update_yaxes(range=[0, 84], visible=False, fixedrange=True, scaleanchor="x", scaleratio=1)
    title = wrap_title(title, size=FIG1_TITLE_SIZE)  # the numbers are long: wrapped, never clipped at the edge
    fig.update_layout(title=title_layout(title, FIG1_TITLE_SIZE), height=640,
                      margin=dict(l=10, r=10, t=title_top(title, FIG1_TITLE_SIZE), b=10),
                      showlegend=False, plot_bgcolor="rgba(0,0,0,0)", paper_bgcolor="rgba(0,0,0,0)")
    return fig


# ------------------------------------------------------------------------------------- Fig. 6
def upsample_map(grid_map: np.ndarray, patch_size: Sequence[int]) -> np.ndarray:
    """``(gh, gw)`` → ``(gh·ph, gw·pw)``: each patch a constant block (nearest, no smoothing)."""
    return np.kron(np.asarray(grid_map, dtype=np.float64), np.ones(tuple(int(p) for p in patch_size)))


def masked_image(display: np.ndarray, grid_map: np.ndarray, patch_size: Sequence[int]) -> np.ndarray:
    """The paper's Fig. 6 rendering: the image multiplied by the map scaled to its maximum (uint8)."""
    big = upsample_map(grid_map, patch_size)
    peak = float(big.max())
    mask = big / peak if peak > 0 else np.zeros_like(big)
    h, w = display.shape[:2]
    return np.clip(display[:h, :w].astype(np.float64) * mask[:h, :w, None], 0, 255).round().astype(np.uint8)


def fig6_rollout_figure(displays: Sequence[np.ndarray], rollouts: Sequence[np.ndarray], labels: Sequence[str], *,
                        pairs_per_row: int = 2, style: Literal["mask", "heatmap"] = "mask", title: str = "",
                        map_title: Optional[str] = None) -> go.Figure:
    """Paper Fig. 6: for each image, the image and its attention-rollout map side by side.

    Args:
        displays: ``(H, W, 3)`` uint8 network inputs.
        rollouts: ``(gh, gw)`` rollout maps (same grid for all, from the same model and size).
        labels: one label per image (shown above the image; escaped).
        pairs_per_row: image+map pairs per row (1 = one row per image, 2 = a two-column grid).
        style: ``"mask"`` (the paper's look: image × map/max) or ``"heatmap"`` (the map's values,
            viridis, hover shows the value per patch).
        map_title: the title over each map (default: "rollout" in the current language).

    The figure has exactly two traces per image, image first, in the order given.
    """
    if not (len(displays) == len(rollouts) == len(labels)):
        raise ValueError("displays, rollouts and labels must have the same length")
    count = len(displays)
    if count == 0:
        raise ValueError("no images for Fig. 6")
    per_row = max(1, min(pairs_per_row, count))
    map_title = t("plot.rollout") if map_title is None else map_title
    rows = math.ceil(count / per_row)
    titles: list[str] = []
    for r in range(rows):
        for c in range(per_row):
            i = r * per_row + c
            titles += [_text(labels[i]), map_title] if i < count else ["", ""]
    fig = make_subplots(rows=rows, cols=2 * per_row, subplot_titles=titles, horizontal_spacing=0.012,
                        vertical_spacing=0.06 if rows > 1 else 0.0)
    for i, (display, rollout) in enumerate(zip(displays, rollouts)):
        r, c = divmod(i, per_row)
        h, w = display.shape[:2]
        gh, gw = rollout.shape
        patch = (h // gh, w // gw)
        # PNG sources, not nested-list ``z``: a 224 px photo is ~40 kB instead of ~1 MB of JSON,
        # which keeps the standalone report small with six samples.
        fig.add_trace(go.Image(source=png_uri(display), name=f"image {i}",
                               hovertemplate="x %{x}px, y %{y}px<extra></extra>"), row=r + 1, col=2 * c + 1)
        if style == "mask":
            fig.add_trace(go.Image(source=png_uri(masked_image(display, rollout, patch)), name=f"rollout {i}",
                                   hovertemplate="x %{x}px, y %{y}px<extra></extra>"), row=r + 1, col=2 * c + 2)
        else:
            fig.add_trace(go.Heatmap(z=rollout, x0=patch[1] / 2 - 0.5, dx=patch[1], y0=patch[0] / 2 - 0.5,
                                     dy=patch[0], colorscale="Viridis", showscale=False, name=f"rollout {i}",
                                     hovertemplate="rollout %{z:.4f}<extra></extra>"), row=r + 1, col=2 * c + 2)
            fig.update_yaxes(autorange="reversed", scaleanchor=f"x{2 * i + 2 if i else 2}", row=r + 1,
                             col=2 * c + 2)
    fig.update_xaxes(showticklabels=False, showgrid=False, zeroline=False, ticks="")
    fig.update_yaxes(showticklabels=False, showgrid=False, zeroline=False, ticks="")
    fig.update_annotations(font_size=12)
    row_px = 300 if per_row == 1 else 250
    title = wrap_title(title)
    top = title_top(title) + 24 if title else 30  # the title, then the panels' own titles above the first row
    fig.update_layout(title=title_layout(title), height=top + 50 + row_px * rows,
                      margin=dict(l=10, r=10, t=top, b=10), showlegend=False)
    return fig


# --------------------------------------------------------------------------------- Fig. 5 / tables
_FAMILY_STYLE = {"ViT": ("circle", "#1f77b4"), "ResNet (BiT)": ("square", "#7f7f7f"), "Hybrid": ("diamond", "#ff7f0e")}


def _family_label(family: str) -> str:
    """A Table 6 family as shown: ``"Hybrid"`` in the current language; the names ViT, ResNet (BiT) as they are."""
    return t("paper.family_hybrid") if family == "Hybrid" else family


def _reported_not_computed(model_label: str) -> str:
    """The second title line of a figure of the paper's numbers: reported, not computed for the model."""
    if model_label:
        return t("paper.reported_not_computed_for", label=_text(model_label))
    return t("paper.reported_not_computed")


def fig5_compute_figure(dataset: str = "ImageNet", model_label: str = "") -> go.Figure:
    """The paper's Table 6 (the points of its Fig. 5): transfer accuracy vs pre-training compute.

    One series per family (ViT, ResNet (BiT), hybrid), points sorted by compute, log-scale x in
    exaFLOPs; a menu switches between the six datasets of Table 6. These are the paper's reported
    numbers, not computed here; ``model_label`` (the loaded model) is named in the title only to
    say so.
    """
    if dataset not in pr.TABLE6_DATASETS:
        raise ValueError(f"dataset must be one of {pr.TABLE6_DATASETS}")
    families = list(_FAMILY_STYLE)
    rows_by_family = {f: sorted((r for r in pr.TABLE6_ROWS if pr.table6_family(r[0]) == f), key=lambda r: r[-1])
                      for f in families}
    col = {name: 2 + i for i, name in enumerate(pr.TABLE6_DATASETS)}
    fig = go.Figure()
    for family in families:
        rows = rows_by_family[family]
        symbol, colour = _FAMILY_STYLE[family]
        fig.add_trace(go.Scatter(
            x=[r[-1] for r in rows], y=[r[col[dataset]] for r in rows], mode="lines+markers",
            name=_family_label(family), marker=dict(symbol=symbol, size=10, color=colour),
            line=dict(color=colour, width=1.5), text=[t("paper.fig5_point", model=r[0], epochs=r[1]) for r in rows],
            hovertemplate="%{text}<br>%{x} exaFLOPs<br>%{y:.2f}%<extra>" + _family_label(family) + "</extra>"))
    buttons = [dict(label=name, method="update",
                    args=[{"y": [[r[col[name]] for r in rows_by_family[f]] for f in families]},
                          {"yaxis.title.text": t("paper.fig5_accuracy", dataset=name)}]) for name in pr.TABLE6_DATASETS]
    # The dataset menu sits just above the plot, under the title (not beside it, where a phone's title runs).
    fig.update_layout(updatemenus=[dict(buttons=buttons, direction="down", x=1.0, xanchor="right", y=1.0,
                                        yanchor="bottom", pad=dict(b=4), active=pr.TABLE6_DATASETS.index(dataset),
                                        showactive=True)])
    fig.update_xaxes(type="log", title=t("paper.fig5_compute"))
    fig.update_yaxes(title=t("paper.fig5_accuracy", dataset=dataset))
    _chart_layout(fig, t("paper.fig5_title") + "<br>" + _reported_not_computed(model_label), extra_top=34)
    return fig


def _chart_layout(fig: go.Figure, title: str, *, extra_top: int = 0, height: int = 480) -> None:
    """The layout of a chart of the paper's numbers: the title wrapped and pinned to the top, axes whose
    numbers and titles push the margins as far as they need (a fixed 10 px margin cut "100" to "00"
    where the template does not turn automargin on, as Streamlit's does not), a standoff between the
    numbers and the axis title, the legend under the plot."""
    title = wrap_title(title)
    fig.update_xaxes(automargin=True, title_standoff=12)
    fig.update_yaxes(automargin=True, title_standoff=12)
    fig.update_layout(title=title_layout(title), height=height, font=dict(size=14),
                      legend=dict(orientation="h", x=0, xanchor="left", y=-0.2, yanchor="top"),
                      margin=dict(l=70, r=20, t=title_top(title) + extra_top, b=90))


def table1(facts: Optional[ModelFacts] = None, model_label: str = "") -> Table:
    """The paper's Table 1 (ViT-Base/Large/Huge), plus the loaded model's row (highlighted) if given."""
    rows: list[list[object]] = [[name, layers, d, mlp, heads, f"{params // 1_000_000}M"]
                                for name, layers, d, mlp, heads, params in PAPER_TABLE1]
    highlight: list[int] = []
    if facts is not None:
        highlight.append(len(rows))
        rows.append([t("paper.table1_loaded", label=model_label or t("paper.this_model")), facts.layers,
                     facts.hidden_size, facts.mlp_size, facts.heads, _fmt_params(facts.params)])
    columns = tuple(t(f"paper.col_{c}") for c in ("model", "layers", "hidden", "mlp", "heads", "params"))
    return Table(columns=columns, rows=rows, highlight=highlight)


def table2() -> Table:
    """The paper's Table 2, cells exactly as printed."""
    columns = [t("paper.col_benchmark")] + [f"{group} ({arch})" for group, arch in pr.TABLE2_MODELS]
    return Table(columns=columns, rows=[[name, *cells] for name, cells in pr.TABLE2_ROWS])


def table2_figure(model_label: str = "") -> go.Figure:
    """The paper's Table 2 as grouped bars: accuracy (%) per benchmark, one bar per model column.

    Error bars are the paper's standard deviations over three fine-tuning runs; cells the paper
    leaves empty ("—") are left out, and the compute row (TPUv3-core-days) is not drawn. These are
    reported numbers, not computed for ``model_label``.
    """
    fig = go.Figure()
    benchmarks = [name for name, _ in pr.TABLE2_ROWS if name != pr.TABLE2_COMPUTE_ROW]
    for j, (group, arch) in enumerate(pr.TABLE2_MODELS):
        xs, ys, errs, texts = [], [], [], []
        for name, cells in pr.TABLE2_ROWS:
            if name == pr.TABLE2_COMPUTE_ROW:
                continue
            value = pr.cell_mean(cells[j])
            if value is None:
                continue
            xs.append(name)
            ys.append(value)
            errs.append(pr.cell_std(cells[j]) or 0.0)
            texts.append(cells[j])
        # Each column its own colour, set here rather than left to the template (Streamlit's template gives
        # placeholder colours that only its own page replaces: the exported page showed every bar black).
        fig.add_trace(go.Bar(x=xs, y=ys, name=f"{group} ({arch})", text=texts, textposition="none",
                             marker=dict(color=HEAD_COLOURS[j % len(HEAD_COLOURS)], line=dict(width=0)),
                             error_y=dict(type="data", array=errs, visible=True, color="#444444"),
                             hovertemplate="%{x}: %{text}%<extra>" + _text(f"{group} ({arch})") + "</extra>"))
    fig.update_xaxes(categoryorder="array", categoryarray=benchmarks)
    fig.update_yaxes(title=t("paper.accuracy"), range=[70, 100], dtick=5)
    fig.update_layout(barmode="group")
    _chart_layout(fig, t("paper.table2_chart_title") + "<br>" + _reported_not_computed(model_label))
    return fig


def table6() -> Table:
    """The paper's Table 6 (appendix C), with each row's family."""
    rows = [[name, _family_label(pr.table6_family(name)), epochs, *[f"{v:.2f}" for v in accs], flops]
            for name, epochs, *accs, flops in pr.TABLE6_ROWS]
    # The paper's column heads, the words ("Model", "Epochs") in the current language; dataset names as printed.
    columns = (t("paper.col_model"), t("paper.col_family"), t("paper.col_epochs"), *pr.TABLE6_COLUMNS[2:])
    return Table(columns=columns, rows=rows)


# ------------------------------------------------------------------------- the paper's own models
#: The model each of the paper's figures shows (Figs. 6/7 right: ViT-L/16; Fig. 7 left/centre: ViT-L/32).
PAPER_FIGURE_MODELS: dict[str, str] = {"fig6": "ViT-L/16", "fig7-left": "ViT-L/32", "fig7-centre": "ViT-L/32",
                                       "fig7-right": "ViT-L/16"}
_PAPER_ARCH = {name.split("-")[1][0]: (layers, d, heads) for name, layers, d, _mlp, heads, _p in PAPER_TABLE1}


def self_supervised_method(loaded: "LoadedModel") -> Optional[str]:
    """``"DINOv2"``/``"DINO"`` (or ``"self-supervised"``) when the weights come from self-supervised
    pre-training, else None. Read from the model's family, name and label, as the registry and
    the weights folder's sidecars spell them."""
    spec = loaded.spec
    text = " ".join((spec.family, spec.name, spec.architecture, spec.label)).lower()
    if "dinov2" in text:
        return "DINOv2"
    if "dino" in text:
        return "DINO"
    if "self-supervised" in (spec.label + " " + spec.description).lower():
        return "self-supervised"
    return None


def model_differences(loaded: "LoadedModel", paper_model: str, facts: Optional[ModelFacts] = None) -> list[str]:
    """Ways the loaded model differs from the paper's ``paper_model`` (e.g. ``"ViT-L/16"``), as phrases.

    Architecture (layers, width, heads, patch size, a hybrid's CNN stem; when ``facts`` is given), the
    classification head (the paper's models have one), the training (self-supervised DINO/DINOv2 instead of the
    paper's supervised pre-training) and random weights. Empty when none of these differ. The
    phrases are in the current language (:mod:`vitviz.text.i18n`).
    """
    return [text for _kind, text in _difference_notes(loaded, paper_model, facts)]


def _difference_notes(loaded: "LoadedModel", paper_model: str,
                      facts: Optional[ModelFacts] = None) -> list[tuple[str, str]]:
    """:func:`model_differences` as ``(kind, phrase)`` pairs; kind is ``"size"``, ``"hybrid"``, ``"head"``,
    ``"self-supervised"`` or ``"untrained"`` (so callers can pick notes whatever the language)."""
    notes: list[tuple[str, str]] = []
    size, _, patch = paper_model.partition("-")[2].partition("/")
    arch = _PAPER_ARCH.get(size)
    if facts is not None and arch is not None:
        layers, d, heads = arch
        parts = []
        if facts.layers != layers:
            parts.append(t("paper.diff_layers", layers=facts.layers, paper=layers))
        if facts.hidden_size != d:
            parts.append(t("paper.diff_width", d=facts.hidden_size, paper=d))
        if facts.heads != heads:
            parts.append(t("paper.diff_heads", heads=facts.heads, paper=heads))
        if patch and facts.patch_size != (int(patch), int(patch)):
            parts.append(t("paper.diff_patch", patch=_pair_text(facts.patch_size, '×'), paper=f"{patch}×{patch}"))
        if parts:
            notes.append(("size", t("paper.diff_size", parts=", ".join(parts))))
    if facts is not None and facts.hybrid:
        notes.append(("hybrid", t("paper.diff_hybrid", stem=facts.stem,
                                  stride=_pair_text(facts.stem_stride or facts.patch_size, '×'))))
    if loaded.num_classes == 0:
        notes.append(("head", t("paper.diff_no_head")))
    method = self_supervised_method(loaded)
    if method is not None:
        notes.append(("self-supervised", t("paper.diff_self_supervised", method=method)))
    if not loaded.pretrained:
        notes.append(("untrained", t("paper.diff_untrained")))
    return notes


def _model_label(loaded: "LoadedModel") -> str:
    """:attr:`~vitviz.loading.models.LoadedModel.label` with its "(untrained)" mark in the current language
    (``"ViT-B/16 (untrained)"``, in Korean ``"ViT-B/16 (학습 안 됨)"``)."""
    return loaded.spec.label if loaded.pretrained else f"{loaded.spec.label} {t('plot.untrained')}"


def _differs(loaded: "LoadedModel", paper_model: str, facts: Optional[ModelFacts]) -> str:
    """One sentence saying how the loaded model differs from the paper's model (or that it matches)."""
    notes = model_differences(loaded, paper_model, facts)
    if not notes:
        return t("paper.matches", label=_model_label(loaded), paper_model=paper_model)
    return t("paper.differs", label=_model_label(loaded), paper_model=paper_model, notes="; ".join(notes))


# ---------------------------------------------------------------------------- running the model
def _in_channels(model) -> int:
    """Image channels C the patch embedding reads (3 for RGB when it cannot be read); for a hybrid
    the stem's input, not the projection's (which takes the stem's feature channels)."""
    embed = getattr(model, "patch_embed", None)
    if getattr(embed, "backbone", None) is not None:
        return int(getattr(embed, "in_chans", 3))
    proj = getattr(embed, "proj", None)
    return int(getattr(proj, "in_channels", 3))


def analyze_samples(loaded: "LoadedModel", image_paths: Optional[Sequence[Union[str, Path]]] = None,
                    size: SizeArg = None, *, k: int = 1) -> list["ImageAnalysis"]:
    """:func:`vitviz.run.pipeline.analyze_image` for every image (default: every bundled sample), in order.

    ``k`` top classes are kept per image (for the Fig. 6 labels of a model with a head).
    """
    from vitviz.errors import VitvizError
    from vitviz.inputs.images import load_image
    from vitviz.run.pipeline import analyze_image

    paths = list(image_paths) if image_paths is not None else sample_paths()
    if not paths:
        raise VitvizError("no images for the paper figures")
    return [analyze_image(loaded, load_image(Path(p)), size, k=k) for p in paths]


def image_labels(analyses: Sequence["ImageAnalysis"], names: Optional[Sequence[str]] = None) -> list[str]:
    """Fig. 6 labels: the image's name (default ``"image 1"``, …), plus the top-1 class when predicted."""
    out = []
    for i, analysis in enumerate(analyses):
        label = names[i] if names is not None else t("paper.image_n", n=i + 1)
        if analysis.predictions:
            top = analysis.predictions[0]
            label += f" — {top.label} ({top.probability:.0%})"
        out.append(label)
    return out


def paper_sections(loaded: "LoadedModel", analyses: Sequence["ImageAnalysis"],
                   names: Optional[Sequence[str]] = None) -> list[Section]:
    """The whole "paper figures" page for ``loaded``, in the paper's order, from per-image analyses.

    Sections (``anchor``: content): ``fig1`` Fig. 1 drawn with this model's numbers; ``table1``
    Table 1 with this model's row; ``fig6`` attention rollout of every image; ``fig7-left``,
    ``fig7-centre``, ``fig7-right`` via :mod:`vitviz.figures.plots`; ``table2`` and ``table2-chart`` the
    paper's Table 2; ``fig5`` and ``table6`` the paper's compute study. Every figure title names
    ``loaded.label`` (which carries "(untrained)" for random weights); captions state the paper's
    finding for the paper's model and how the loaded model differs. Titles, captions, table heads
    and figure labels are in the current language (:func:`vitviz.text.i18n.use`; ``with use("ko"):`` gives
    ``"그림 1 (Fig. 1) — 모델 개요"`` for ``"Fig. 1 — Model overview"``); numbers and the paper's
    model and dataset names are the same in every language.

    Args:
        loaded: the model the analyses came from.
        analyses: :func:`vitviz.run.pipeline.analyze_image` results, all at the same input size
            (e.g. from :func:`analyze_samples`).
        names: one display name per analysis (e.g. file stems); default ``"image 1"``, ….

    Raises:
        VitvizError: no analyses, names of the wrong length, or analyses at different grids.
    """
    from vitviz.figures import plots
    from vitviz.analysis import reference_distances
    from vitviz.errors import VitvizError

    if not analyses:
        raise VitvizError("no image analyses for the paper figures")
    if names is not None and len(names) != len(analyses):
        raise VitvizError(f"{len(names)} names for {len(analyses)} analyses")
    first = analyses[0]
    if any(a.layout != first.layout for a in analyses):
        raise VitvizError("the paper figures need every image analysed at the same input size")
    label = _model_label(loaded)
    untrained = not loaded.pretrained

    def title(what: str, extra: str = "") -> str:
        return plots.figure_title(what, label, untrained=untrained, extra=extra)

    facts, layout, static = first.facts, first.layout, first.static
    gh, gw = layout.grid
    ph, pw = layout.patch_size
    hw_text = f"{layout.input_hw[0]} × {layout.input_hw[1]} px"
    count = len(analyses)
    query = t("paper.query_class") if layout.has_class_token else t("paper.query_mean")

    head_text = (t("paper.head_mlp", n=loaded.num_classes) if loaded.num_classes
                 else t("paper.head_none", d=facts.hidden_size))
    fig1_notes = [text for kind, text in _difference_notes(loaded, "ViT-B/16", facts) if kind != "size"]
    sections = [
        Section(t("paper.fig1_section"), anchor="fig1", figure=fig1_architecture(
            facts, layout, display=first.prepared.display, model_label=title(""),
            num_classes=loaded.num_classes, channels=_in_channels(loaded.model)),
            caption=(t("paper.fig1_caption", label=label, hw=hw_text, ph=ph, pw=pw, tokens=layout.num_tokens,
                       d=facts.hidden_size, layers=facts.layers, heads=facts.heads, mlp=facts.mlp_size,
                       head=head_text)
                     + (t("paper.fig1_caption_notes", notes="; ".join(fig1_notes)) if fig1_notes
                        else t("paper.fig1_caption_end")))),
        Section(t("paper.table1_section"), anchor="table1", table=table1(facts, label),
                caption=tn("paper.table1_caption", facts.num_prefix_tokens, label=label, ph=ph, pw=pw)),
    ]
    # Where attention sinks are found, the rollout leaves them out (ImageAnalysis.figure_rollout): with them,
    # DINOv2's rollout of every sample is one bright patch, not the object the paper's figure shows.
    rollouts = [np.asarray(a.figure_rollout, dtype=np.float64) for a in analyses]
    without = sum(1 for a in analyses if a.sink_tokens)
    sections.append(Section(
        tn("paper.fig6_section", count), anchor="fig6",
        figure=fig6_rollout_figure([a.prepared.display for a in analyses], rollouts, image_labels(analyses, names),
                                   title=title(t("paper.fig6_title"),
                                               tn("paper.fig6_title_extra", count, query=query)
                                               + (f" · {t('plot.sinks_out')}" if without else ""))),
        caption=(t("paper.fig6_caption", paper_model=PAPER_FIGURE_MODELS["fig6"], label=label, layers=facts.layers,
                   query=query, gh=gh, gw=gw)
                 + (" " + t("paper.fig6_sinks_out", n=without, count=count) if without else "")
                 + " " + _differs(loaded, PAPER_FIGURE_MODELS["fig6"], facts))))

    pca = static.filter_pca
    left_finding = t("paper.fig7_left_finding", paper_model=PAPER_FIGURE_MODELS["fig7-left"]) + " "
    if pca is None:  # e.g. a hybrid: its projection reads CNN features, not pixels
        sections.append(Section(t("paper.fig7_left_section"), anchor="fig7-left",
                                caption=left_finding + t("paper.fig7_left_not_drawn", label=label,
                                                         note=static.filters_note)))
    else:
        explained = float(np.sum(pca.explained_variance_ratio))
        sections.append(Section(
            t("paper.fig7_left_section"), anchor="fig7-left",
            figure=plots.filters_figure(pca.components, columns=7,
                                        title=title(t("paper.fig7_left_title"),
                                                    t("paper.fig7_left_title_extra", k=len(pca.components),
                                                      ph=ph, pw=pw))),
            caption=(left_finding + t("paper.fig7_left_here", k=len(pca.components), label=label,
                                      share=f"{explained:.0%}")
                     + " " + _differs(loaded, PAPER_FIGURE_MODELS["fig7-left"], facts))))
    centre_caption = t("paper.fig7_centre_finding", paper_model=PAPER_FIGURE_MODELS["fig7-centre"]) + " "
    if static.pos_similarity is not None:
        sections.append(Section(
            t("paper.fig7_centre_section"), anchor="fig7-centre",
            figure=plots.similarity_tiles(static.pos_similarity,
                                          title(t("paper.fig7_centre_title"),
                                                t("paper.fig7_centre_title_extra", gh=gh, gw=gw)),
                                          picker=False),
            caption=(centre_caption + t("paper.fig7_centre_here", label=label)
                     + " " + _differs(loaded, PAPER_FIGURE_MODELS["fig7-centre"], facts))))
    else:
        sections.append(Section(t("paper.fig7_centre_section"), anchor="fig7-centre",
                                caption=centre_caption + t("paper.fig7_centre_none", label=label)))
    mean = np.mean([np.asarray(a.mean_distance, dtype=np.float64) for a in analyses], axis=0)
    sections.append(Section(
        t("paper.fig7_right_section"), anchor="fig7-right",
        figure=plots.distance_figure({label: mean}, reference_distances(layout),
                                     title=title(t("paper.fig7_right_title"),
                                                 tn("paper.fig7_right_title_extra", count, hw=hw_text))),
        caption=(tn("paper.fig7_right_caption", count, paper_model=PAPER_FIGURE_MODELS["fig7-right"], label=label,
                    hw=hw_text, first=f"{mean[0].min():.0f}–{mean[0].max():.0f}",
                    last=f"{mean[-1].min():.0f}–{mean[-1].max():.0f}")
                 + " " + _differs(loaded, PAPER_FIGURE_MODELS["fig7-right"], facts))))

    def not_ours(source_key: str) -> str:
        return t("paper.not_ours", source=t(source_key), label=label)

    # The paper's captions (quoted in English, rendered in Korean; vitviz.figures.paper_results holds the English quote).
    sections += [
        Section(t("paper.table2_section"), anchor="table2", table=table2(),
                caption=(t("paper.table2_caption") + " " + t("paper.table2_columns") + " "
                         + not_ours("paper.source_table2")),
                footnote=t("paper.table2_footnote")),
        Section(t("paper.table2_chart_section"), anchor="table2-chart", figure=table2_figure(label),
                caption=t("paper.table2_chart_caption") + " " + not_ours("paper.source_table2")),
        Section(t("paper.fig5_section"), anchor="fig5", figure=fig5_compute_figure(model_label=label),
                caption=(t("paper.fig5_caption") + " " + t("paper.fig5_points") + " "
                         + not_ours("paper.source_table6"))),
        Section(t("paper.table6_section"), anchor="table6", table=table6(),
                caption=t("paper.table6_caption") + " " + not_ours("paper.source_table6")),
    ]
    return sections


def paper_figures(loaded: "LoadedModel", analyses: Sequence["ImageAnalysis"],
                  names: Optional[Sequence[str]] = None) -> dict[str, go.Figure]:
    """The page's figures by section anchor (``"fig1"``, ``"fig6"``, ``"fig7-left"``, …), in page order.

    A convenience over :func:`paper_sections` for callers that lay figures out themselves.
    """
    return {s.anchor: s.figure for s in paper_sections(loaded, analyses, names) if s.figure is not None}


def paper_report(loaded: "LoadedModel", analyses: Sequence["ImageAnalysis"],
                 names: Optional[Sequence[str]] = None, *, generated=None,
                 sections: Optional[Sequence[Section]] = None, lang: Optional[str] = None) -> str:
    """The whole page as one standalone HTML string (:func:`vitviz.figures.report.paper_report_html`).

    Pass ``sections`` (from :func:`paper_sections`) to reuse figures already built. ``lang`` (default:
    the current language) is the page's: its ``<html lang>``, title, subtitle and footer. Give it when
    the page is built outside the run that chose the language, e.g. in Streamlit's deferred download
    callable, which runs in a server thread where the current language is the default.
    """
    from vitviz.text.i18n import language, use
    from vitviz.figures.report import paper_report_html

    lang = lang or language()
    with use(lang):
        sections = list(sections) if sections is not None else paper_sections(loaded, analyses, names)
        hw = analyses[0].layout.input_hw
        shown = ", ".join(names) if names is not None else tn("paper.images_n", len(analyses))
        # The weights' file name only: the server's folder is no business of the page's readers.
        subtitle = t("paper.report_subtitle", name=loaded.name, source=loaded.source_name, h=hw[0], w=hw[1],
                     images=shown)
        return paper_report_html(t("paper.report_title", label=_model_label(loaded)), sections, subtitle=subtitle,
                                 generated=generated, footer=t("paper.report_footer", citation=pr.CITATION),
                                 lang=lang)


def write_paper_report(path: Union[str, Path], loaded: "LoadedModel", analyses: Sequence["ImageAnalysis"],
                       names: Optional[Sequence[str]] = None, *, png_dir: Union[str, Path, None] = None,
                       generated=None) -> "ReportFiles":
    """Write the standalone HTML report to ``path`` and, when ``png_dir`` is given and kaleido is
    installed, each figure as ``<anchor>.png`` there (see :func:`vitviz.figures.report.write_report`)."""
    from vitviz.figures.report import write_report

    sections = paper_sections(loaded, analyses, names)
    html_text = paper_report(loaded, analyses, names, generated=generated, sections=sections)
    return write_report(path, html_text, sections, png_dir=png_dir)
