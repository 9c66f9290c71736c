"""The study group's talk as data: one :class:`Slide` per step, in the talk's order.

Each slide is a title, one picture (PNG bytes, drawn by :mod:`vitviz.talk.raster`) or one table
(:class:`vitviz.figures.report.Table`), a one-line takeaway and where its numbers come from. Slides 1–7
(patches → classification), Fig. 7 and Fig. 6 are computed for the given model and image from an
:class:`vitviz.run.pipeline.ImageAnalysis`; Table 1 adds the model's row to the paper's; Table 2,
Fig. 3 (Table 5), Fig. 5 (Table 6) and the significance are the paper's numbers
(:mod:`vitviz.figures.paper_results`), quoted with their source. Fig. 4 is left out: the paper prints no
table of its points.

Conventions: patch ``(r, c)`` and layers count from 0, as elsewhere in vitviz; distances are in
pixels of the network input; the rollout is vitviz's default (mean head fusion, no discard, class
token row, or the mean patch query without one), with attention sinks left out as keys where the
analysis found them (:attr:`vitviz.run.pipeline.ImageAnalysis.figure_rollout`), counted in the takeaway. The CNN of the inductive-bias slide is timm's ``resnet50`` architecture (theoretical
receptive fields depend on the architecture only, so no weights are loaded). Text comes from the
:mod:`vitviz.text.i18n` catalogues (keys ``talk.*``) in ``lang``.
"""
from __future__ import annotations

import io
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Callable, Optional

import numpy as np
from PIL import Image

from vitviz.figures import paper_results as pr
from vitviz.analysis import reference_distances
from vitviz.analysis.receptive_field import LayerRF, theoretical_receptive_field
from vitviz.text.i18n import t, tn, use
from vitviz.figures.map_pictures import head_panels
from vitviz.figures.paper_charts import masked_image, table1, table2
from vitviz.figures.embedding_figures import filters_to_rgb, similarity_mosaic
from vitviz.figures.maps import tile_images
from vitviz.figures.report import Table
from vitviz.talk import raster as R

if TYPE_CHECKING:  # pragma: no cover
    from vitviz.loading.models import LoadedModel
    from vitviz.run.pipeline import ImageAnalysis

#: The talk's order (slide keys; text keys are ``talk.<key>_title`` and ``talk.<key>_takeaway``).
ORDER: tuple[str, ...] = ("patches", "flatten", "embed", "cls", "pos", "encoder", "classify", "table1", "table2",
                          "fig3", "fig5", "bias", "fig7_left", "fig7_centre", "fig7_right", "fig6", "significance")


@dataclass(frozen=True)
class Slide:
    """One slide: ``picture`` (PNG bytes) or ``table``, never both."""

    key: str
    title: str
    takeaway: str
    source: str
    picture: Optional[bytes] = None
    table: Optional[Table] = None

    def image(self) -> Optional[Image.Image]:
        """The picture as a Pillow image (None for a table slide)."""
        return Image.open(io.BytesIO(self.picture)) if self.picture is not None else None


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=False)
    return out.getvalue()


@lru_cache(maxsize=1)
def resnet50_receptive_fields() -> tuple[LayerRF, ...]:
    """Theoretical receptive field after each conv/pool layer of timm's ResNet-50 (architecture only)."""
    import timm

    return tuple(theoretical_receptive_field(timm.create_model("resnet50", pretrained=False)))


def short_label(loaded: "LoadedModel") -> str:
    """The model's label without its parenthesised description ("DINOv2 ViT-S/14"), "(untrained)" kept."""
    name = re.sub(r"\s*\([^)]*\)", "", loaded.spec.label).strip() or loaded.spec.label
    return name if loaded.pretrained else f"{name} (untrained)"


# ----------------------------------------------------------------------------- the model's own slides
def _patches(a: "ImageAnalysis") -> Image.Image:
    display = a.prepared.display.copy()
    ph, pw = a.layout.patch_size
    display[::ph, :] = 255
    display[:, ::pw] = 255
    gh, gw = a.layout.grid
    return R.panels([a.prepared.display, display],
                    [t("talk.image_input", h=display.shape[0], w=display.shape[1]),
                     t("talk.image_grid", gh=gh, gw=gw, ph=ph, pw=pw)])


def _flatten(a: "ImageAnalysis") -> Image.Image:
    """The middle row of patches (up to 8, centred), and the first of them flattened (framed in orange)."""
    image, draw = R.canvas()
    ph, pw = a.layout.patch_size
    gh, gw = a.layout.grid
    display = a.prepared.display
    row, count = gh // 2, min(gw, 8)
    first = max(0, min(gw // 2 - count // 2, gw - count))
    cell, x, top = 150, 60, 40
    R.write(draw, (60, top), t("talk.flatten_row", row=row, c0=first, c1=first + count - 1), R.LABEL)
    for c in range(first, first + count):  # left to right, as the sequence reads them (raster order)
        patch = display[row * ph:(row + 1) * ph, c * pw:(c + 1) * pw]
        image.paste(R.fit(patch, (cell, cell)), (x, top + 50))
        if c == first:
            draw.rectangle([x - 4, top + 46, x + cell + 3, top + 53 + cell], outline=R.HIGHLIGHT_RGB, width=5)
        x += cell + 24
    R.write(draw, (x + 10, top + 50 + cell / 2), "…", R.LABEL * 2, anchor="lm")
    values = ph * pw * display.shape[2]
    R.write(draw, (60, 330), t("talk.flatten_vector", row=row, col=first, ph=ph, pw=pw, c=display.shape[2], n=values),
            R.LABEL)
    strip = display[row * ph:(row + 1) * ph, first * pw:(first + 1) * pw].reshape(-1, 3)  # pixels row-major
    rgb = np.zeros((len(strip) * 3, 3), np.uint8)
    rgb[0::3, 0], rgb[1::3, 1], rgb[2::3, 2] = strip[:, 0], strip[:, 1], strip[:, 2]
    band = R.fit(rgb.reshape(ph, pw * 3, 3), (R.WIDTH - 120, 300))  # one band row per pixel row of the patch
    image.paste(band, (60, 390))
    R.write(draw, (60, 400 + band.height + 20), t("talk.flatten_legend"), R.TICK)
    return image


def _embed(a: "ImageAnalysis") -> Optional[Image.Image]:
    filters = a.static.filters
    if filters is None:
        return None
    matrix = filters.reshape(filters.shape[0], -1).T  # (P²·C, D): rows = flattened patch values, cols = D
    top = float(np.percentile(np.abs(matrix), 99)) or 1.0  # colour range: the 99th percentile of |weight|
    image, draw = R.canvas()
    left, top_px, bottom = 220, 40, R.HEIGHT - 130
    picture = Image.fromarray(R.colourise(matrix, "RdBu", -top, top)).resize(
        (R.WIDTH - left - 330, bottom - top_px), Image.Resampling.NEAREST)
    image.paste(picture, (left, top_px))
    R.write(draw, (left + picture.width / 2, bottom + 20), t("talk.embed_cols", d=matrix.shape[1]), R.LABEL, anchor="ma")
    R.vertical_text(image, t("talk.embed_rows", n=matrix.shape[0]), (120, (top_px + bottom) / 2))
    R.colour_bar(image, "RdBu", -top, top, (R.WIDTH - 230, 120, R.WIDTH - 190, bottom - 40), t("talk.weight"))
    return image


def _cls(a: "ImageAnalysis") -> Image.Image:
    image, draw = R.canvas()
    f, prefix = a.facts, a.layout.prefix_names
    shown = [(name.upper(), "#fcd34d") for name in prefix]
    n = f.num_patches
    patches = [f"x{k}E" for k in (1, 2, 3)] + ["…", f"x{n}E"]
    shown += [(p, "#ddd6fe") for p in patches]
    width = min(220, (R.WIDTH - 120) / len(shown) - 20)
    x: float = 60
    for text, fill in shown:
        if text == "…":
            R.write(draw, (x + width / 2, 250), "…", R.LABEL * 2, anchor="mm")
        else:
            R.box(draw, (x, 170, x + width, 330), text, fill)
        x += width + 20
    R.write(draw, (60, 60), t("talk.cls_sequence", prefix=len(prefix), n=n, tokens=f.tokens, d=f.hidden_size),
            R.LABEL)
    note = t("talk.cls_note") if "cls" in prefix else t("talk.cls_none")
    for k, line in enumerate(R.wrap(draw, note, R.LABEL, R.WIDTH - 120)):
        R.write(draw, (60, 420 + k * 48), line, R.LABEL)
    return image


def _pos(a: "ImageAnalysis") -> Optional[Image.Image]:
    sim = a.static.pos_similarity
    if sim is None:
        return None
    gh, gw = sim.shape[:2]
    picks = [(gh // 2, gw // 2), (0, 0), (gh - 1, gw - 1)]
    tiles = [R.colourise(sim[r, c], "Cividis", -1, 1) for r, c in picks]
    image = R.panels(tiles, [t("talk.pos_tile", row=r, col=c) for r, c in picks], right=130)
    R.colour_bar(image, "Cividis", -1, 1, (R.WIDTH - 120, 100, R.WIDTH - 85, 600), "cos")
    return image


def _encoder(a: "ImageAnalysis") -> Image.Image:
    image, draw = R.canvas()
    f = a.facts
    y, h = 330, 140
    steps = [("z_{ℓ−1}", "#ffffff", 200), ("LayerNorm", "#fde68a", 220),
             (t("talk.msa", heads=f.heads), "#bbf7d0", 300), ("+", "#ffffff", 70),
             ("LayerNorm", "#fde68a", 220), (t("talk.mlp", m=f.mlp_size), "#bfdbfe", 280), ("+", "#ffffff", 70),
             ("z_ℓ", "#ffffff", 130)]
    gap = (R.WIDTH - 80 - sum(w for *_, w in steps)) / (len(steps) - 1)
    x, centres = 40.0, []
    for text, fill, w in steps:
        R.box(draw, (x, y, x + w, y + h), text, fill)
        centres.append((x, x + w))
        x += w + gap
    for (a0, a1), (b0, _b1) in zip(centres, centres[1:]):
        R.arrow(draw, (a1, y + h / 2), (b0, y + h / 2))
    for start, plus in ((0, 3), (3, 6)):  # residual connections around each sub-layer (pre-norm)
        x0 = (centres[start][0] + centres[start][1]) / 2 + (40 if start else 0)
        x1 = (centres[plus][0] + centres[plus][1]) / 2
        top = y - 70 - (0 if start else 0)
        draw.line([(x0, y), (x0, top), (x1, top)], fill=R.AXIS, width=4)
        R.arrow(draw, (x1, top), (x1, y))
    R.write(draw, (40, 60), t("talk.encoder_repeat", layers=f.layers, d=f.hidden_size), R.LABEL)
    for k, line in enumerate(R.wrap(draw, t("talk.encoder_eq"), R.LABEL, R.WIDTH - 80)):
        R.write(draw, (40, 540 + k * 48), line, R.LABEL)
    return image


def _classify(a: "ImageAnalysis") -> Image.Image:
    if a.predictions:
        preds = a.predictions[:5]
        top = max(p.probability for p in preds)
        x_max = next(v for v in (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0) if top <= 0.9 * v or v == 1.0)
        return R.hbars([p.label[:40] for p in preds], [p.probability for p in preds],
                       x_title=t("talk.probability"), x_max=x_max, value_text=[f"{p.probability:.1%}" for p in preds])
    image, draw = R.canvas()
    R.box(draw, (60, 300, 420, 460), "CLS" if a.layout.has_class_token else t("talk.mean_patches"), "#fcd34d")
    R.arrow(draw, (420, 380), (560, 380))
    R.box(draw, (560, 300, 920, 460), "LayerNorm", "#fde68a")
    R.arrow(draw, (920, 380), (1060, 380))
    R.box(draw, (1060, 300, 1700, 460), t("talk.features", d=a.facts.hidden_size), "#e5e7eb")
    for k, line in enumerate(R.wrap(draw, t("talk.no_head"), R.LABEL, R.WIDTH - 120)):
        R.write(draw, (60, 560 + k * 48), line, R.LABEL)
    return image


def _bias(a: "ImageAnalysis") -> Image.Image:
    distance = a.mean_distance  # (layers, heads) px
    layers, heads = distance.shape
    depth = (np.arange(layers) + 1) / layers
    rf = resnet50_receptive_fields()
    total = max(l.depth for l in rf)
    h, w = a.layout.input_hw
    cnn_x = [l.depth / total for l in rf]
    # the largest receptive field up to each layer (a 1×1 shortcut conv listed after a block has a smaller one)
    cnn_y = list(np.minimum(np.maximum.accumulate([l.size / 2 for l in rf]), max(h, w)))
    uniform = reference_distances(a.layout)["uniform"]
    series = [R.Series(t("talk.bias_vit_heads"), np.repeat(depth, heads), distance.reshape(-1), R.colour(0),
                       line=False, radius=7),
              R.Series(t("talk.bias_vit_mean"), depth, distance.mean(axis=1), R.colour(1), radius=11),
              R.Series(t("talk.bias_cnn"), cnn_x, cnn_y, R.colour(2), markers=False)]
    top = max(float(np.nanmax(distance)), max(cnn_y), uniform) * 1.08
    return R.chart(series, x_title=t("talk.bias_depth"), y_title=t("talk.px_axis"), y_range=(0, top),
                   x_range=(0, 1.0), guides=[(t("talk.uniform", px=f"{uniform:.0f}"), uniform)])


def _fig7_left(a: "ImageAnalysis") -> Optional[Image.Image]:
    pca = a.static.filter_pca
    if pca is None:
        return None
    rgb = filters_to_rgb(pca.components)  # (k, ph, pw, 3) in [0, 1]
    tiled = (tile_images(rgb, columns=7, pad=1) * 255).round().astype(np.uint8)
    return R.panels([tiled], [t("talk.fig7_left_caption", k=len(rgb),
                                 share=f"{float(np.sum(pca.explained_variance_ratio)):.0%}")])


def _fig7_centre(a: "ImageAnalysis") -> Optional[Image.Image]:
    sim = a.static.pos_similarity
    if sim is None:
        return None
    mosaic = R.colourise(similarity_mosaic(sim), "Cividis", -1, 1)
    image = R.panels([mosaic], [t("talk.fig7_centre_caption")])
    R.colour_bar(image, "Cividis", -1, 1, (R.WIDTH - 200, 100, R.WIDTH - 160, 600), "cos")
    return image


def _fig7_right(a: "ImageAnalysis") -> Image.Image:
    return fig7_right_picture(a.mean_distance, reference_distances(a.layout))


def fig7_right_picture(distance: np.ndarray, refs: dict[str, float]) -> Image.Image:
    """Paper Fig. 7 (right): ``(layers, heads)`` mean attention distance in px, one colour per head, and the
    ``refs`` guide lines (``{"uniform": px, "3×3 window": px}``, :func:`vitviz.analysis.reference_distances`)."""
    distance = np.asarray(distance, dtype=np.float64)
    layers, heads = distance.shape
    series = [R.Series(t("talk.head", head=k), np.arange(layers), distance[:, k], R.colour(k), line=False,
                       hollow=k >= len(R.HEAD_COLOURS)) for k in range(heads)]
    top = max(float(np.nanmax(distance)), *refs.values()) * 1.08
    return R.chart(series, x_title=t("talk.layer_axis"), y_title=t("talk.px_axis"), y_range=(0, top),
                   x_range=(-0.5, layers - 0.5), x_ticks=[(float(k), str(k)) for k in range(layers)],
                   guides=[(t("talk.ref_" + ("uniform" if name == "uniform" else "window"), px=f"{value:.0f}"), value)
                           for name, value in refs.items()],
                   legend_columns=1 if heads <= 12 else 2)


def fig6_map(a: "ImageAnalysis") -> tuple[np.ndarray, tuple[tuple[int, int], ...]]:
    """The slide's rollout, :attr:`ImageAnalysis.figure_rollout` (attention sinks left out where found), and
    the sinks as ``(row, col)`` patches."""
    p, gw = a.layout.num_prefix_tokens, a.layout.grid[1]
    return a.figure_rollout, tuple(divmod(token - p, gw) for token in a.sink_tokens)


def _fig6(a: "ImageAnalysis") -> tuple[Image.Image, tuple[tuple[int, int], ...]]:
    grid_map, sinks = fig6_map(a)
    masked = masked_image(a.prepared.display, grid_map, a.layout.patch_size)
    overlay = head_panels(grid_map[None], a.prepared.display, a.layout.patch_size)[0][0]
    return R.panels([a.prepared.display, overlay, masked],
                    [t("talk.fig6_input"), t("talk.fig6_overlay"), t("talk.fig6_rollout")]), sinks


def _variant(key: str, a: "ImageAnalysis", sinks: bool) -> str:
    """Which takeaway a slide gets for this model: ``""`` (the paper's ViT) or a suffix such as ``"_hybrid"``."""
    cls = a.layout.has_class_token
    if key in ("flatten", "embed") and a.facts.hybrid:
        return "_hybrid"  # its tokens are cells of a CNN feature map, not pixel patches
    if key == "classify" and not a.predictions:
        return "_headless" if cls else "_headless_gap"
    if key == "fig6":
        return ("" if cls else "_gap") + ("" if sinks else "_nosink")
    return ""


# ------------------------------------------------------------------------------ the paper's numbers
def fig3_picture() -> Image.Image:
    """Paper Fig. 3's ViT points (Table 5): ImageNet top-1 vs pre-training dataset, one line per model."""
    series = []
    for j, model in enumerate(pr.TABLE5_MODELS):
        ys = [pr.TABLE5_IMAGENET[data][j] for data in pr.TABLE5_DATASETS]
        series.append(R.Series(model, list(range(len(ys))), ys, R.colour(j)))
    return R.chart(series, x_title=t("talk.fig3_x"), y_title=t("talk.fig3_y"), y_range=(70, 90),
                   x_range=(-0.3, len(pr.TABLE5_DATASETS) - 0.7),
                   x_ticks=[(float(k), d) for k, d in enumerate(pr.TABLE5_DATASETS)])


def fig5_picture(dataset: str = "ImageNet") -> Image.Image:
    """Paper Fig. 5's points (Table 6): ``dataset`` accuracy vs pre-training exaFLOPs, one colour per family."""
    column = pr.TABLE6_DATASETS.index(dataset)  # of the accuracies, row[2:8]
    families = ("ViT", "ResNet (BiT)", "Hybrid")
    series = []
    for j, family in enumerate(families):
        rows = sorted((r for r in pr.TABLE6_ROWS if pr.table6_family(r[0]) == family), key=lambda r: r[-1])
        label = t("paper.family_hybrid") if family == "Hybrid" else family
        series.append(R.Series(label, [r[-1] for r in rows], [r[2:8][column] for r in rows], R.colour(j),
                               line=False, radius=13))
    values = [r[2:8][column] for r in pr.TABLE6_ROWS]
    return R.chart(series, x_title=t("paper.fig5_compute"), y_title=t("paper.fig5_accuracy", dataset=dataset),
                   y_range=(float(np.floor(min(values) - 1)), float(np.ceil(max(values) + 1))), x_range=(30, 6000),
                   log_x=True)


def significance_table() -> Table:
    """The talk's closing table: finding, the numbers behind it, where they are printed."""
    jft_h = f"{pr.cell_mean(pr.TABLE2_ROWS[0][1][0]):.2f} %"
    bit = f"{pr.cell_mean(pr.TABLE2_ROWS[0][1][3]):.2f} %"
    cost = dict(pr.TABLE2_ROWS)[pr.TABLE2_COMPUTE_ROW]
    i1k = pr.TABLE5_IMAGENET["ImageNet"][2]
    jft_l = pr.TABLE5_IMAGENET["JFT-300M"][2]
    rows = [[t("talk.sig_sota"), t("talk.sig_sota_ev", vit=jft_h, bit=bit), pr.TABLE2_SOURCE],
            [t("talk.sig_cost"), t("talk.sig_cost_ev", vit=cost[0], bit=cost[3]), pr.TABLE2_SOURCE],
            [t("talk.sig_data"), t("talk.sig_data_ev", small=i1k, large=jft_l), pr.TABLE5_SOURCE],
            [t("talk.sig_scale"), t("talk.sig_scale_ev"), pr.TABLE6_SOURCE],
            [t("talk.sig_bias"), t("talk.sig_bias_ev"), t("talk.sig_bias_src")]]
    return Table(columns=(t("talk.col_finding"), t("talk.col_evidence"), t("talk.col_source")), rows=rows)


# ----------------------------------------------------------------------------------------- the deck
def talk_slides(loaded: "LoadedModel", analysis: "ImageAnalysis", *, lang: str = "en",
                image_name: str = "") -> list[Slide]:
    """Every slide of :data:`ORDER` for ``loaded`` on one analysed image, texts in ``lang``."""
    with use(lang):
        return _slides(loaded, analysis, image_name)


def _slides(loaded: "LoadedModel", a: "ImageAnalysis", image_name: str) -> list[Slide]:
    label = short_label(loaded)
    f = a.facts
    ours = t("talk.source_ours", model=label, image=image_name or t("talk.this_image"))
    gh, gw = a.layout.grid
    ph, pw = a.layout.patch_size
    h, w = a.layout.input_hw
    distance = a.mean_distance
    fig6_picture, sinks = _fig6(a)

    def picture(build: Callable[[], Optional[Image.Image]], reason: str) -> Image.Image:
        built = build()
        if built is not None:
            return built
        image, draw = R.canvas()
        for k, line in enumerate(R.wrap(draw, reason, R.LABEL, R.WIDTH - 120)):
            R.write(draw, (60, 300 + k * 48), line, R.LABEL)
        return image

    no_filters = a.static.filters_note or t("talk.no_filters")
    values: dict[str, dict[str, Any]] = {  # each slide's takeaway fields
        "patches": dict(h=h, w=w, gh=gh, gw=gw, n=gh * gw, ph=ph, pw=pw),
        "flatten": dict(n=ph * pw * 3, ph=ph, pw=pw),
        "embed": dict(n=ph * pw * 3, d=f.hidden_size),
        "cls": dict(tokens=f.tokens, prefix=f.num_prefix_tokens),
        "pos": dict(gh=gh, gw=gw),
        "encoder": dict(layers=f.layers, heads=f.heads),
        "classify": dict(label=a.predictions[0].label if a.predictions else "",
                         p=f"{a.predictions[0].probability:.0%}" if a.predictions else ""),
        "fig7_right": dict(first=f"{distance[0].min():.0f}–{distance[0].max():.0f}",
                           last=f"{distance[-1].min():.0f}–{distance[-1].max():.0f}"),
        "bias": dict(first=f"{distance[0].mean():.0f}", rf=f"{resnet50_receptive_fields()[2].size}"),
        "fig6": dict(sinks=len(sinks)),
    }
    if f.hybrid:
        values["flatten"] = values["embed"] = dict(stem=f.stem, c=f.stem_channels, gh=gh, gw=gw, d=f.hidden_size)
    pictures: dict[str, Callable[[], Image.Image]] = {
        "patches": lambda: _patches(a),
        "flatten": lambda: _flatten(a),
        "embed": lambda: picture(lambda: _embed(a), no_filters),
        "cls": lambda: _cls(a),
        "pos": lambda: picture(lambda: _pos(a), t("talk.no_pos")),
        "encoder": lambda: _encoder(a),
        "classify": lambda: _classify(a),
        "fig3": fig3_picture,
        "fig5": fig5_picture,
        "bias": lambda: _bias(a),
        "fig7_left": lambda: picture(lambda: _fig7_left(a), no_filters),
        "fig7_centre": lambda: picture(lambda: _fig7_centre(a), t("talk.no_pos")),
        "fig7_right": lambda: _fig7_right(a),
        "fig6": lambda: fig6_picture,
    }
    tables = {"table1": lambda: table1(f, label), "table2": table2, "significance": significance_table}
    sources = {"table1": pr.TABLE1_SOURCE + " · " + ours, "table2": pr.TABLE2_SOURCE, "fig3": pr.TABLE5_SOURCE,
               "fig5": pr.TABLE6_SOURCE, "significance": pr.CITATION}
    slides = []
    for number, key in enumerate(ORDER, 1):
        variant = _variant(key, a, bool(sinks))
        takeaway_key = f"talk.{key}_takeaway{variant}"
        title = t("talk.title", n=number, s=t(f"talk.{key}_title"))
        if key not in sources:
            title = f"{title} · {label}"
        given = dict(values.get(key, {}))
        if takeaway_key == "talk.cls_takeaway":  # counted: the plural form follows the number
            takeaway = tn("talk.cls_takeaway", given.pop("prefix"), **given)
        elif takeaway_key == "talk.fig6_takeaway":
            takeaway = tn("talk.fig6_takeaway", given.pop("sinks"), **given)
        elif takeaway_key == "talk.fig6_takeaway_gap":
            takeaway = tn("talk.fig6_takeaway_gap", given.pop("sinks"), **given)
        else:
            takeaway = t(f"talk.{key}_takeaway{variant}" if variant else f"talk.{key}_takeaway", **given)
        slides.append(Slide(key=key, title=title, takeaway=takeaway,
                            source=sources.get(key, ours),
                            picture=_png(pictures[key]()) if key in pictures else None,
                            table=tables[key]() if key in tables else None))
    return slides
