"""The ViT paper's figures and tables for the loaded model (Dosovitskiy et al. 2021, arXiv:2010.11929v2).

Builders (arrays/dataclasses in, plotly figure or :class:`~vitviz.figures.report.Table` out, no model):

* :func:`fig1_architecture` — the paper's overview diagram (Fig. 1) drawn with this model's numbers
  (also in ``fig.layout.meta``);
* :func:`fig6_rollout_figure` — class-token attention rollout per image, image and map side by side (Fig. 6);
* :func:`table2_figure` / :func:`fig5_compute_figure` — the paper's Table 2 and Table 6 (its Fig. 5) numbers;
* :func:`table1` / :func:`table2` / :func:`table6` — Table 1 with the loaded model's row, and the paper's tables.

The page (what the app's "Paper figures" page and the CLI show):

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

from pathlib import Path
from typing import TYPE_CHECKING, Optional, Sequence, Union

import numpy as np
import plotly.graph_objects as go

from vitviz.figures import paper_results as pr
from vitviz.analysis.facts import PAPER_TABLE1, ModelFacts
from vitviz.text.i18n import t, tn
from vitviz.figures.report import Section
from vitviz.figures.paper_fig1 import fig1_architecture
from vitviz.figures.paper_charts import fig5_compute_figure, fig6_rollout_figure, table1, table2, table2_figure, table6
from vitviz.figures.paper_text import pair_text

if TYPE_CHECKING:  # pragma: no cover
    from vitviz.loading.models import LoadedModel
    from vitviz.run.pipeline import ImageAnalysis
    from vitviz.figures.report import ReportFiles


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
            parts.append(t("paper.diff_patch", patch=pair_text(facts.patch_size, '×'), paper=f"{patch}×{patch}"))
        if parts:
            notes.append(("size", t("paper.diff_size", parts=", ".join(parts))))
    if facts is not None and facts.hybrid:
        notes.append(("hybrid", t("paper.diff_hybrid", stem=facts.stem,
                                  stride=pair_text(facts.stem_stride or facts.patch_size, '×'))))
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
            (e.g. from :func:`vitviz.run.pipeline.analyze_samples`).
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
