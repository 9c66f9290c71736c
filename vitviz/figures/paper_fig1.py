"""The paper's Fig. 1 (model overview) drawn with the loaded model's numbers: patches, their projection, the
tokens with class token and position embeddings, the encoder and the head, and one pre-norm block beside it.

:func:`fig1_architecture` returns a plotly figure (its numbers also in ``fig.layout.meta``); :data:`FIG1_BOXES`
names the boxes a caller can highlight (the Encoder page outlines the step it shows).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Optional, Sequence

import numpy as np
import plotly.graph_objects as go
from PIL import Image

from vitviz.analysis.facts import ModelFacts
from vitviz.text.i18n import t
from vitviz.inputs.preprocess import TokenLayout
from vitviz.figures.titles import title_layout, title_top, wrap_title
from vitviz.figures.paper_text import pair_text, params_text, plain_text

if TYPE_CHECKING:  # pragma: no cover
    pass


# Diagram colours, after the paper's Fig. 1 (light fills, dark text, readable in either theme).
_INK = "#1f2937"


_COLOURS = {"norm": "#fde68a", "attn": "#bbf7d0", "mlp": "#bfdbfe", "proj": "#fbcfe8", "enc": "#e5e7eb",
            "head": "#fed7aa", "emb": "#ddd6fe", "pos": "#f9a8d4", "prefix": "#fcd34d", "block": "#f3f4f6"}


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
                                 stride=pair_text(facts.stem_stride or (ph, pw), '×'), rf=rf),
               size=12, anchor="left")
        _label(fig, 30.0, 3.2, t("paper.fig1_hybrid_stem", stem=plain_text(facts.stem), c=c), size=12, anchor="left")
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
            _label(fig, centre, 37.3, plain_text(name), size=10)
        tx += unit
    n_prefix = len(tokens) - len(shown)
    for centre in token_centres[n_prefix:]:
        _arrow(fig, centre, 33.7, centre, 39.0)
    tokens_end = tx
    prefix_text = " + ".join(layout.prefix_names) if layout.prefix_names else t("paper.fig1_no_prefix")
    _label(fig, min(tokens_end + 1.0, 60.0), 41.0,
           t("paper.fig1_embedding", p=layout.num_prefix_tokens, n=n, tokens=layout.num_tokens, d=d,
             names=plain_text(prefix_text)), size=11, anchor="left")

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
    _label(fig, 136.0, 80.5, t("paper.fig1_params", params=params_text(facts.params)), size=11)
    for y_left, y_right in ((48.0, 13.0), (62.0, 70.0)):  # the block is a zoom of the encoder
        fig.add_shape(type="line", x0=95.0, x1=104.0, y0=y_left, y1=y_right, line=dict(color="#9ca3af", dash="dot"))

    for name in highlight:  # drawn last: above every box
        x0, y0, x1, y1 = FIG1_BOXES[name]
        fig.add_shape(type="rect", x0=x0, y0=y0, x1=x1, y1=y1, line=dict(color=HIGHLIGHT, width=4), layer="above")

    title = t("paper.fig1_title_for", label=plain_text(model_label)) if model_label else t("paper.fig1_title")
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
