"""Charts of numbers: attention distance per layer (paper Fig. 7 right), ViT vs CNN depth, predictions,
vectors and token matrices, deletion/insertion curves.
"""
from __future__ import annotations

from typing import Mapping, Optional, Sequence, Union

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from vitviz.text.i18n import t, tn
from vitviz.figures.titles import title_top, wrap_title
from vitviz.figures.style import (HEAD_COLOURS, MODEL_DASHES, MODEL_SYMBOLS, FONT_SIZE, HIGHLIGHT, REFERENCE,
                                  SEQUENTIAL, figure_title, finish, head_style, legend_below)


References = Union[Mapping[str, float], Mapping[str, Mapping[str, float]]]


def _by_model(references: Optional[References], models: Sequence[str]) -> dict[str, dict[str, float]]:
    """``{model: {name: px}}`` or ``{name: px}`` → ``{model or "": {name: px}}``.

    Flat references belong to the only model when there is one (so its lines are named after it),
    else they are shared by all models (keyed "").
    """
    if not references:
        return {}
    nested = {str(m): refs for m, refs in references.items() if isinstance(refs, Mapping)}
    if len(nested) == len(references):
        return {m: {str(k): float(v) for k, v in refs.items()} for m, refs in nested.items()}
    owner = str(models[0]) if len(models) == 1 else ""
    return {owner: {str(k): float(v) for k, v in references.items() if not isinstance(v, Mapping)}}


#: Display names of :func:`vitviz.analysis.reference_distances`' guide lines, per language.
_REFERENCE_KEYS = {"uniform": "plot.ref_uniform", "3×3 window": "plot.ref_window"}


def distance_figure(series: Mapping[str, np.ndarray], references: Optional[References] = None, *,
                    title: str = "", height: int = 560, num_images: Optional[int] = None,
                    untrained: bool = False) -> go.Figure:
    """Mean attention distance per head vs layer (paper Fig. 7 right), several models overlaid.

    With ``num_images`` the title is built here (:func:`figure_title`): ``"Mean attention
    distance · <model> vs <model> · N images · <title>"`` (``untrained`` marks the first model),
    so the models and the image count are always in it; without it ``title`` is used as given.

    ``series`` maps a model label to its ``(layers, heads)`` distances in pixels. Colour = head
    (:data:`HEAD_COLOURS`: 16 distinct colours, hollow markers past 16 heads), marker symbol = model.

    Traces: first one per model with all its points (layer-major, ``dist.ravel()``; no legend
    entry of its own), then the legend keys (``x = y = [None]``): one entry per model in legend
    ``legend`` above the plot ("symbol = model"; grey marker of its symbol, grouped with the
    model's points so a click hides that model), and one "head h" entry per head of the widest
    model in legend ``legend2`` below the plot ("colour = head"). ``references`` draws horizontal
    guide lines, either flat (``{name: px}``, e.g. uniform attention, a 3×3 window: the only
    model's when there is one, else shared by all) or per model (``{model label: {name: px}}``),
    each model's lines in its own dash style (:data:`MODEL_DASHES`, in the order of ``series``);
    every line is a layout shape named
    ``"name"`` or ``"model: name"``, labelled right of the plot by an annotation that starts with
    the name: ``"uniform: 104.3 px"``, or ``"uniform (model): 104.3 px"`` when several models have lines.
    """
    fig = go.Figure()
    labels = list(series)
    if num_images is not None:
        names = [figure_title("", m, untrained=untrained and n == 0) for n, m in enumerate(labels)]
        count = tn("plot.images_n", num_images)
        extra = " · ".join(p for p in (count, title) if p)
        title = figure_title(t("plot.mean_distance"), t("plot.versus").join(names), extra=extra)
    max_heads = max((np.asarray(d).shape[1] for d in series.values()), default=0)
    refs = _by_model(references, labels)
    texts = []
    for model, group in refs.items():
        for name, value in group.items():
            shown = t(_REFERENCE_KEYS[name]) if name in _REFERENCE_KEYS else name
            named = model and len(refs) > 1  # one model: the title names it, the margin stays narrow (phones)
            texts.append((value, model, name, f"{shown} ({model}): {value:.1f} px" if named else f"{shown}: {value:.1f} px"))
    wrapped = wrap_title(title)
    head_rows = int(np.ceil(max_heads / 7)) if max_heads else 0
    right = min(320, 20 + 7 * max((len(ref[3]) for ref in texts), default=0))
    margin = dict(l=70, r=right, t=title_top(wrapped) + 56, b=84 + 24 * head_rows)  # the model legend sits on top: two lines
    plot_h = height - margin["t"] - margin["b"]
    ymax = 0.0
    for n, label in enumerate(labels):
        dist = np.asarray(series[label], dtype=np.float64)
        layers, heads = dist.shape
        symbol = MODEL_SYMBOLS[n % len(MODEL_SYMBOLS)]
        offset = (n - (len(labels) - 1) / 2) * 0.18
        layer_idx, head_idx = np.repeat(np.arange(layers), heads), np.tile(np.arange(heads), layers)
        styles = [head_style(h, symbol) for h in head_idx]
        fig.add_trace(go.Scatter(
            x=layer_idx + offset, y=dist.ravel(), mode="markers", name=label, legendgroup=f"model {n}",
            showlegend=False, marker=dict(color=[s[0] for s in styles], symbol=[s[1] for s in styles], size=9,
                                          line=dict(width=0.5, color="rgba(80,80,80,0.6)")),
            customdata=np.stack([layer_idx, head_idx], -1),
            hovertemplate=label + "<br>" + t("plot.layer_head_hover", layer="%{customdata[0]}", head="%{customdata[1]}")
                          + "<br>%{y:.1f} px<extra></extra>"))
        ymax = max(ymax, float(np.nanmax(dist)) if dist.size else 0.0)
    for n, label in enumerate(labels):
        fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name=label, legendgroup=f"model {n}",
                                 legend="legend", hoverinfo="skip",
                                 marker=dict(color="#888888", size=11, symbol=MODEL_SYMBOLS[n % len(MODEL_SYMBOLS)])))
    for h in range(max_heads):
        colour, symbol = head_style(h)
        fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name=t("plot.head_n", n=h), legendgroup=f"head {h}",
                                 legend="legend2", hoverinfo="skip", marker=dict(color=colour, size=11, symbol=symbol)))
    ymax = max([ymax] + [ref[0] for ref in texts]) * 1.08 or 1.0
    for value, model, name, _ in texts:
        n = labels.index(model) if model in labels else list(refs).index(model)
        fig.add_shape(type="line", xref="paper", x0=0, x1=1, y0=value, y1=value, name=f"{model}: {name}" if model else name,
                      line=dict(dash=MODEL_DASHES[n % len(MODEL_DASHES)], width=1.5, color=REFERENCE), layer="below")
    # Labels in the right margin at their line's height, nudged apart (in px) so none overlap.
    last = -1e9
    for value, _, _, text in sorted(texts, key=lambda ref: ref[0]):
        px = value / ymax * plot_h
        shift = max(px, last + 17) - px
        last = px + shift
        fig.add_annotation(x=1.0, xref="paper", xanchor="left", y=value, yanchor="middle", yshift=shift, xshift=6,
                           text=text, showarrow=False, font=dict(size=FONT_SIZE - 2), align="left")
    depth = max((np.asarray(d).shape[0] for d in series.values()), default=1)
    # Layers only on the axis (plotly's padding added ticks -1 and L, which turned the labels on a phone).
    fig.update_xaxes(title=t("plot.depth_layer"), dtick=1, zeroline=False, range=[-0.6, depth - 0.4])
    fig.update_yaxes(title=t("plot.mean_distance_px"), range=[0, ymax])
    small = dict(size=FONT_SIZE - 1)
    fig.update_layout(
        legend=dict(orientation="h", x=0, xanchor="left", y=1.0 + 6 / max(plot_h, 1), yanchor="bottom", font=small,
                    title=dict(text=t("plot.symbol_model"), font=small)),
        legend2=dict(orientation="h", x=0, xanchor="left", y=-76 / max(plot_h, 1), yanchor="top", font=small,
                     title=dict(text=t("plot.colour_head"), font=small)))
    # The title is pinned to the top (title_layout): this margin also holds the model legend (on a phone a
    # centred two-line title ran into it).
    return finish(fig, wrapped, height=height, margin=margin, wrap=False)


def predictions_figure(labels: Sequence[str], probabilities: Sequence[float], title: str = "") -> go.Figure:
    """Horizontal bars of the top-k predictions, best on top, each labelled with its probability."""
    probs = list(probabilities)[::-1]
    fig = go.Figure(go.Bar(x=probs, y=list(labels)[::-1], orientation="h", marker=dict(color=HEAD_COLOURS[4]),
                           text=[f"{p:.1%}" for p in probs], textposition="outside", cliponaxis=False,
                           hovertemplate="%{y}<br>%{x:.2%}<extra></extra>"))
    fig.update_xaxes(title=t("plot.probability"), tickformat=".0%", range=[0, 1.12])
    fig.update_yaxes(automargin=True, tickfont=dict(size=FONT_SIZE))
    return finish(fig, title, height=90 + 36 * len(labels), margin=dict(b=50, r=20))


def vector_figure(vector: np.ndarray, title: str = "", x_title: str = "index") -> go.Figure:
    """A long vector (a flattened patch, a token embedding) as a line over its index."""
    fig = go.Figure(go.Scattergl(y=vector, mode="lines", hovertemplate=x_title + " %{x}<br>%{y:.3f}<extra></extra>"))
    fig.update_xaxes(title=x_title)
    return finish(fig, title, height=240, margin=dict(l=50, b=50))


def token_matrix_figure(tokens: np.ndarray, num_prefix: int, title: str = "") -> go.Figure:
    """A ``(T, D)`` token sequence as an image: one row per token, prefix tokens above an orange line."""
    fig = go.Figure(go.Heatmap(z=tokens, colorscale=SEQUENTIAL, colorbar=dict(thickness=14, title=dict(text=t("plot.value"))),
                               hovertemplate=t("plot.token_dim_hover", token="%{y}", dim="%{x}")
                               + "<br>%{z:.3f}<extra></extra>"))
    if num_prefix:
        fig.add_hline(y=num_prefix - 0.5, line=dict(color=HIGHLIGHT, width=2))
    fig.update_yaxes(autorange="reversed", title=t("plot.token")).update_xaxes(title=t("plot.dimension"))
    return finish(fig, title, height=340, margin=dict(l=60, b=50))


def _discrete_scale(colours: Sequence[str]) -> list:
    """A stepwise colour scale: value ``i`` of ``0..n-1`` (``cmin=-0.5``, ``cmax=n-0.5``) gets ``colours[i]``."""
    n = len(colours)
    scale = []
    for i, colour in enumerate(colours):
        scale += [[i / n, colour], [(i + 1) / n, colour]]
    return scale


def depth_comparison_figure(comp, vit_label: str = "ViT", cnn_label: str = "CNN", title: str = "", *,
                            height: int = 500) -> go.Figure:
    """ViT mean attention distance per head (and mean ± std) vs CNN receptive-field radius, on relative depth.

    Exactly four traces, in this order: 0 the ViT's heads (colour = head, keyed by a "head"
    colour bar), 1 their mean ± std, 2 the CNN's theoretical receptive-field radius as the largest
    reached so far (a running maximum over ``comp.cnn_layer_radius``, so stride-2 shortcut convs
    with small fields do not make the curve dip; each layer's own radius is in ``customdata`` and
    hover), 3 the effective RF radius per stage. The legend sits below the plot.
    """
    layers, heads = comp.vit_heads.shape
    head_idx = np.tile(np.arange(heads), layers)
    colours = [head_style(h)[0] for h in range(heads)]
    fig = go.Figure()
    fig.add_trace(go.Scatter(
        x=np.repeat(comp.vit_depth, heads), y=comp.vit_heads.ravel(), mode="markers",
        name=f"{vit_label}: {t('plot.vit_heads')}",
        marker=dict(size=8, opacity=0.85, color=head_idx, colorscale=_discrete_scale(colours), cmin=-0.5,
                    cmax=heads - 0.5, symbol=[head_style(h)[1] for h in head_idx],
                    line=dict(width=0.5, color="rgba(80,80,80,0.6)"),
                    colorbar=dict(title=dict(text=t("plot.head")), tickvals=list(range(heads)), thickness=14,
                                  len=0.9, y=0.5, yanchor="middle")),
        customdata=np.stack([np.repeat(np.arange(layers), heads), head_idx], -1),
        hovertemplate=vit_label + "<br>" + t("plot.layer_head_hover", layer="%{customdata[0]}", head="%{customdata[1]}")
                      + "<br>%{y:.1f} px<extra></extra>"))
    fig.add_trace(go.Scatter(x=comp.vit_depth, y=comp.vit_mean, mode="lines", name=f"{vit_label}: {t('plot.vit_mean')}",
                             line=dict(color="#555555", width=2),
                             error_y=dict(type="data", array=comp.vit_std, visible=True, color="#555555"),
                             hovertemplate=t("plot.depth_hover", x="%{x:.2f}") + "<br>%{y:.1f} px<extra></extra>"))
    raw = np.asarray(comp.cnn_layer_radius, dtype=np.float64)
    largest = np.maximum.accumulate(raw) if raw.size else raw
    fig.add_trace(go.Scatter(x=comp.cnn_layer_depth, y=largest, mode="lines", line=dict(dash="dash", color="#0072B2", width=2),
                             name=f"{cnn_label}: {t('plot.cnn_rf')}", line_shape="hv",
                             customdata=raw,
                             hovertemplate=t("plot.depth_hover", x="%{x:.2f}") + "<br>"
                                           + t("plot.largest_hover", px="%{y:.0f}") + "<br>"
                                           + t("plot.this_layer_hover", px="%{customdata:.0f}") + "<extra></extra>"))
    fig.add_trace(go.Scatter(x=comp.cnn_stage_depth, y=comp.cnn_effective_radius, mode="lines+markers",
                             name=f"{cnn_label}: {t('plot.cnn_erf', share=f'{comp.effective_share:.0%}')}",
                             text=list(comp.cnn_stage_names), marker=dict(symbol="diamond", size=11, color="#D55E00"),
                             line=dict(color="#D55E00", width=2),
                             hovertemplate="%{text}<br>" + t("plot.depth_hover", x="%{x:.2f}") + "<br>%{y:.1f} px<extra></extra>"))
    fig.update_xaxes(title=t("plot.relative_depth"), range=[0, 1.02])
    fig.update_yaxes(title=t("plot.radius_px"), rangemode="tozero")
    top = title_top(wrap_title(title))
    margin = dict(l=70, r=20, t=top, b=155)
    legend_below(fig, height - top - margin["b"])
    fig.update_layout(legend=dict(orientation="v"))
    return finish(fig, title, height=height, margin=margin)


def faithfulness_figure(result, title: str = "", *, height: int = 500) -> go.Figure:
    """Deletion (left) and insertion (right) curves of every map against the random baseline.

    ``result`` is a :class:`vitviz.analysis.faithfulness.Faithfulness`. Each map is one colour and
    one marker (:func:`head_style` with :data:`MODEL_SYMBOLS`) in both panels, named in the legend
    with both areas: ``"Grad-CAM: deletion AUC 0.060 · insertion AUC 0.591"``. The random baseline is
    a dashed grey line with ``x`` markers and a grey ±1 std band over its orders. Lower deletion
    and higher insertion area is more faithful. x is the fraction of cells removed / revealed,
    y the score; an annotation named ``"score"`` above the panels says what the score is
    (``result.target``) and what a removed cell becomes. Build ``title`` with :func:`figure_title`.

    Traces: per map its deletion (``xaxis``) then insertion (``xaxis2``) line, both named after the
    map and sharing a legend group (the insertion line has no legend entry); then per panel the
    random band (two traces named ``"random ± std"``, no legend entry) and the random line.
    """
    fig = make_subplots(rows=1, cols=2, shared_yaxes=True, horizontal_spacing=0.06,
                        subplot_titles=(t("plot.deletion_title"), t("plot.insertion_title")))
    x = np.asarray(result.fractions, dtype=np.float64)
    verbs = {"deletion": t("plot.removed"), "insertion": t("plot.revealed")}
    maps = [m for m in result.maps if m.name != "random"]
    for n, curves in enumerate(maps):
        colour, symbol = head_style(n, MODEL_SYMBOLS[n % len(MODEL_SYMBOLS)])
        name = t("plot.auc_legend", name=curves.name, deletion=f"{curves.deletion_auc:.3f}",
                 insertion=f"{curves.insertion_auc:.3f}")
        for col, kind in enumerate(("deletion", "insertion"), start=1):
            fig.add_trace(go.Scatter(
                x=x, y=curves.curve(kind), mode="lines+markers", name=name, legendgroup=curves.name,
                showlegend=col == 1, line=dict(color=colour, width=2), marker=dict(color=colour, symbol=symbol, size=8),
                hovertemplate=f"{curves.name}<br>" + t("plot.cells_hover", share="%{x:.0%}", verb=verbs[kind])
                              + f"<br>{t('plot.score')} %{{y:.4g}}<extra></extra>"),
                row=1, col=col)
    for curves in [m for m in result.maps if m.name == "random"]:
        name = t("plot.auc_legend", name=t("plot.random_orders", n=result.repeats),
                 deletion=f"{curves.deletion_auc:.3f} ± {curves.deletion_auc_std:.3f}",
                 insertion=f"{curves.insertion_auc:.3f} ± {curves.insertion_auc_std:.3f}")
        for col, kind in enumerate(("deletion", "insertion"), start=1):
            mean, spread = curves.curve(kind), curves.std(kind)
            for edge, fill in ((mean + spread, None), (mean - spread, "tonexty")):
                fig.add_trace(go.Scatter(x=x, y=edge, mode="lines", line=dict(width=0, color="#999999"), fill=fill,
                                         fillcolor="rgba(136,136,136,0.2)", name="random ± std", showlegend=False,
                                         legendgroup="random", hoverinfo="skip"), row=1, col=col)
            fig.add_trace(go.Scatter(
                x=x, y=mean, mode="lines+markers", name=name, legendgroup="random", showlegend=col == 1,
                line=dict(color=REFERENCE, width=2, dash="dash"), marker=dict(color=REFERENCE, symbol="x", size=8),
                hovertemplate=t("plot.random") + "<br>" + t("plot.cells_hover", share="%{x:.0%}", verb=verbs[kind])
                              + f"<br>{t('plot.score')} %{{y:.4g}}<extra></extra>"),
                row=1, col=col)
    for col, kind in enumerate(("deletion", "insertion"), start=1):
        fig.update_xaxes(title=t("plot.cells_fraction", grid=f"{result.grid[0]}×{result.grid[1]}", verb=verbs[kind]),
                         range=[-0.02, 1.02], tickformat=".0%", row=1, col=col)
    fig.update_yaxes(title=t("plot.score"), row=1, col=1)
    fig.add_annotation(text=t("plot.score_note", target=result.target, baseline=result.baseline), xref="paper",
                       yref="paper", x=0, xanchor="left", y=1, yanchor="bottom", yshift=30, showarrow=False,
                       font=dict(size=FONT_SIZE - 1), name="score")
    top = title_top(wrap_title(title))
    margin = dict(l=70, r=20, t=top + 56, b=90 + 22 * len(result.maps))
    legend_below(fig, height - margin["t"] - margin["b"])
    fig.update_layout(legend=dict(orientation="v"))
    return finish(fig, title, height=height, margin=margin)
