"""The paper's Fig. 6 (attention rollout per image, drawn as the paper does), its Fig. 5 / Table 6 compute
study and Table 2 as charts, and Tables 1, 2 and 6 (Table 1 with the loaded model's row).

The reported numbers come from :mod:`vitviz.figures.paper_results`; the charts say they are reported, not
computed. Conventions of the Fig. 6 map: see :mod:`vitviz.figures.paper`.
"""
from __future__ import annotations

import math
from typing import TYPE_CHECKING, Literal, Optional, Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from vitviz.figures import paper_results as pr
from vitviz.analysis.facts import PAPER_TABLE1, ModelFacts
from vitviz.text.i18n import t
from vitviz.figures.raster import png_uri
from vitviz.figures.style import HEAD_COLOURS
from vitviz.figures.titles import title_layout, title_top, wrap_title
from vitviz.figures.report import Table
from vitviz.figures.paper_text import params_text, plain_text

if TYPE_CHECKING:  # pragma: no cover
    pass


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
            titles += [plain_text(labels[i]), map_title] if i < count else ["", ""]
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
        return t("paper.reported_not_computed_for", label=plain_text(model_label))
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
                     facts.hidden_size, facts.mlp_size, facts.heads, params_text(facts.params)])
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
                             hovertemplate="%{x}: %{text}%<extra>" + plain_text(f"{group} ({arch})") + "</extra>"))
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
