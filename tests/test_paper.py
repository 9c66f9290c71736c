"""The "paper figures" library: Fig. 1 numbers, captions, titles, paper numbers and the standalone HTML."""
from __future__ import annotations

import html
import dataclasses
import re

import numpy as np
import pytest
import torch
from timm.data import resolve_data_config

from vitviz.text import i18n
from vitviz.figures import paper
from vitviz.figures import paper_results as pr
from vitviz.text.i18n import MISSING, use
from vitviz.inputs.images import sample_paths
from vitviz.loading.models import LoadedModel
from vitviz.run.pipeline import analyze_samples
from vitviz.inputs.preprocess import token_layout
from vitviz.analysis import model_facts
from vitviz.loading.registry import ModelSpec
from vitviz.figures.report import kaleido_available

from conftest import make_vit

FIGURE_DIV = re.compile(r'<div id="fig-(\d+)"')


def _loaded(model, *, label="ViT-Ti/16 test", family="ViT", source="untrained") -> LoadedModel:
    spec = ModelSpec(name="vit_tiny_patch16_224", label=label, family=family)
    return LoadedModel(spec=spec, model=model, device=torch.device("cpu"), dtype=torch.float32, source=source,
                       data_config=resolve_data_config({}, model=model))


def _annotations(fig) -> str:
    return "\n".join(a.text or "" for a in fig.layout.annotations)


@pytest.fixture(scope="module")
def tiny():
    """A headless random 2-layer ViT-Ti/16, every bundled sample analysed once, and the page."""
    loaded = _loaded(make_vit(depth=2, num_classes=0))
    paths = sample_paths()
    analyses = analyze_samples(loaded, paths)
    names = [p.stem for p in paths]
    return loaded, analyses, names, paper.paper_sections(loaded, analyses, names)


def _by_anchor(sections):
    return {s.anchor: s for s in sections}


# ------------------------------------------------------------------------------- HTML report
def test_report_is_one_offline_file_with_every_figure_and_caption(tiny, tmp_path):
    loaded, analyses, names, sections = tiny
    files = paper.write_paper_report(tmp_path / "paper.html", loaded, analyses, names, png_dir=tmp_path / "png")
    text = files.html.read_text(encoding="utf-8")
    figures = [s for s in sections if s.figure is not None]
    ids = FIGURE_DIV.findall(text)
    assert len(figures) >= 7 and ids == [str(i + 1) for i in range(len(figures))]
    # Offline: no script is loaded from anywhere; plotly.js is inlined exactly once.
    assert not re.search(r"<script[^>]*\bsrc\s*=", text, flags=re.I)
    assert not re.search(r"""<(link|img)[^>]*\b(href|src)\s*=\s*["']?https?:""", text, flags=re.I)
    assert text.count("plotly.js v") == 1 and text.count("window.PlotlyConfig") == 1
    for section in sections:
        assert f'<section id="{section.anchor}">' in text
        assert section.caption and f'<p class="caption">{html.escape(section.caption)}</p>' in text
    # Fig. 6's photos travel inside the file as data URIs, not as links.
    # (plotly's JSON writes "/" as "\u002f" inside scripts)
    assert len(re.findall(r"data:image(?:/|\\u002f)png;base64,", text)) >= 2 * len(names)
    if kaleido_available():
        assert sorted(p.name for p in files.pngs) == sorted(f"{s.anchor}.png" for s in figures)
    else:
        assert files.pngs == [] and "kaleido" in files.png_skipped


# ------------------------------------------------------------------------------------ Fig. 1
def _assert_fig1_matches(fig, model, grid, *, num_classes):
    blocks = model.blocks
    expected = dict(layers=len(blocks), hidden_size=int(model.embed_dim), heads=int(blocks[0].attn.num_heads),
                    mlp_size=int(blocks[0].mlp.fc1.out_features), patch_size=list(model.patch_embed.patch_size),
                    grid=list(grid), num_patches=grid[0] * grid[1],
                    tokens=grid[0] * grid[1] + int(model.num_prefix_tokens), num_classes=num_classes,
                    params=sum(p.numel() for p in model.parameters()))
    meta = fig.layout.meta
    assert {k: meta[k] for k in expected} == expected
    text = _annotations(fig)
    e = expected
    assert (f"L = {e['layers']} layers · D = {e['hidden_size']} · {e['heads']} heads · MLP size {e['mlp_size']}"
            in text)
    assert f"T = {model.num_prefix_tokens} + {e['num_patches']} = {e['tokens']} tokens" in text
    assert f"{e['patch_size'][0]} × {e['patch_size'][1]} px" in text
    assert f"L = {e['layers']} ×" in text
    if num_classes:
        assert "MLP Head" in text and f"one of {num_classes} classes" in text and "no head" not in text
    else:
        assert "no head" in text and "MLP Head" not in text


def test_fig1_numbers_are_the_small_models_own(tiny):
    loaded, analyses, _, sections = tiny
    fig = _by_anchor(sections)["fig1"].figure
    _assert_fig1_matches(fig, loaded.model, (14, 14), num_classes=0)
    # A model with a head is drawn with it, at a non-square input as well.
    model = make_vit(depth=1, num_classes=10, patch_size=8, embed_dim=64, num_heads=4, mlp_ratio=2.0)
    layout = token_layout(model, (96, 128))
    fig = paper.fig1_architecture(model_facts(model, layout), layout, model_label="tiny", num_classes=10)
    _assert_fig1_matches(fig, model, (12, 16), num_classes=10)


def test_every_figure_title_names_the_model_and_untrained(tiny):
    loaded, analyses, names, sections = tiny
    for section in sections:
        if section.figure is not None:
            title = section.figure.layout.title.text
            assert "ViT-Ti/16 test" in title and "(untrained)" in title, section.anchor
    trained = _loaded(loaded.model, source="local:/weights/fake.safetensors")
    for section in paper.paper_sections(trained, analyses, names):
        if section.figure is not None:
            title = section.figure.layout.title.text
            assert "ViT-Ti/16 test" in title and "untrained" not in title, section.anchor
            assert "untrained" not in section.caption


def test_fig6_shows_every_sample_image_and_map(tiny):
    _, analyses, names, sections = tiny
    fig = _by_anchor(sections)["fig6"].figure
    assert [t.name for t in fig.data] == [f"{kind} {i}" for i in range(len(names)) for kind in ("image", "rollout")]
    titles = [a.text for a in fig.layout.annotations]
    assert all(any(t.startswith(name) for t in titles) for name in names)
    assert len(names) == len(sample_paths()) >= 6


# ----------------------------------------------------------------------------------- captions
def test_captions_state_the_papers_finding_for_the_papers_model(tiny):
    _, _, _, sections = tiny
    by = _by_anchor(sections)
    for anchor, model in (("fig6", "ViT-L/16"), ("fig7-left", "ViT-L/32"), ("fig7-centre", "ViT-L/32"),
                          ("fig7-right", "ViT-L/16")):
        caption = by[anchor].caption
        assert caption.startswith(f"The paper's finding (Fig. {6 if anchor == 'fig6' else 7}"), anchor
        assert model in caption.split(":")[0], anchor  # the paper's model, named with the finding
        assert f"differs from the paper's {model}" in caption, anchor
        assert "no classification head" in caption and "untrained" in caption, anchor
        assert "self-supervised" not in caption, anchor
    assert "no head" in by["fig1"].caption


def test_model_differences_name_headless_self_supervised_and_size():
    model = make_vit(depth=1, num_classes=0)
    facts = model_facts(model, token_layout(model, (224, 224)))
    dino = _loaded(model, label="DINOv2 ViT-Ti/14", family="DINOv2", source="local:x")
    notes = paper.model_differences(dino, "ViT-L/16", facts)
    assert any("self-supervised" in n and "DINOv2" in n for n in notes)
    assert any("no classification head" in n for n in notes)
    assert any("L = 1 layers (paper: 24)" in n for n in notes)
    assert not any("untrained" in n for n in notes)
    # A supervised model with a head and the paper's ViT-B/16 numbers differs from it in nothing.
    headed = make_vit(depth=1, num_classes=10)
    vit_b = dataclasses.replace(facts, layers=12, hidden_size=768, heads=12, mlp_size=3072, patch_size=(16, 16))
    supervised = _loaded(headed, label="ViT-B/16", source="hub")
    assert paper.model_differences(supervised, "ViT-B/16", vit_b) == []
    assert paper.model_differences(supervised, "ViT-L/32", vit_b)[0].startswith("a different size")


# ------------------------------------------------------------------------------------ Korean
HANGUL = re.compile(r"[\uac00-\ud7a3]")
NUMBER = re.compile(r"\d+(?:\.\d+)?")
MARK = MISSING.split("{")[0]  # "⟦": how a key missing from a catalogue shows


def _numbers(text: str) -> set[str]:
    return set(NUMBER.findall(text or ""))


@pytest.fixture(scope="module")
def korean(tiny):
    """The same page built under ``use("ko")`` from the same analyses (no model run)."""
    loaded, analyses, names, _ = tiny
    with use("ko"):
        return paper.paper_sections(loaded, analyses, names)


def test_korean_page_has_korean_titles_captions_and_figure_titles(tiny, korean):
    _, _, _, english = tiny
    assert [s.anchor for s in korean] == [s.anchor for s in english]
    for en, ko in zip(english, korean):
        texts = [("title", en.title, ko.title), ("caption", en.caption, ko.caption)]
        if en.footnote:
            texts.append(("footnote", en.footnote, ko.footnote))
        if en.figure is not None:
            texts.append(("figure title", en.figure.layout.title.text, ko.figure.layout.title.text))
        for what, en_text, ko_text in texts:
            assert HANGUL.search(ko_text) and MARK not in ko_text, (ko.anchor, what, ko_text)
            assert not HANGUL.search(en_text), (en.anchor, what)
            # The same numbers in both languages: translation moves them, never changes them.
            assert _numbers(ko_text) == _numbers(en_text), (ko.anchor, what, _numbers(ko_text) ^ _numbers(en_text))
        if ko.figure is not None:
            labels = [a.text or "" for a in ko.figure.layout.annotations]
            labels += [ko.figure.layout.xaxis.title.text or "", ko.figure.layout.yaxis.title.text or ""]
            assert not any(MARK in text for text in labels), ko.anchor
            # Untrained is marked once, in Korean, in titles and captions.
            assert "(학습 안 됨)" in ko.figure.layout.title.text and "untrained" not in ko.figure.layout.title.text
        assert "untrained" not in ko.caption, ko.anchor
        if ko.table is not None:
            assert not any(MARK in str(c) for c in ko.table.columns), ko.anchor
            assert len(ko.table.rows) == len(en.table.rows)
    assert i18n.language() == "en"  # the block does not leak: the CLI's default stays English


def test_korean_captions_carry_the_same_measured_numbers(tiny, korean):
    _, analyses, _, english = tiny
    en, ko = _by_anchor(english), _by_anchor(korean)
    # Fig. 7 left: the share of variance, computed here independently of the caption code.
    share = f"{float(np.sum(analyses[0].static.filter_pca.explained_variance_ratio)):.0%}"
    assert f"together {share} of the filters' variance" in en["fig7-left"].caption
    assert f"필터 분산의 {share}" in ko["fig7-left"].caption
    # Fig. 7 right: first- and last-layer ranges of the mean distance over the images.
    mean = np.mean([np.asarray(a.mean_distance, dtype=np.float64) for a in analyses], axis=0)
    first = f"{mean[0].min():.0f}–{mean[0].max():.0f} px"
    last = f"{mean[-1].min():.0f}–{mean[-1].max():.0f} px"
    assert f"first layer {first}, last layer {last}" in en["fig7-right"].caption
    assert f"첫 층 {first}, 마지막 층 {last}" in ko["fig7-right"].caption
    # The measured figures' data do not change with the language.
    np.testing.assert_array_equal(en["fig7-right"].figure.data[0].y, ko["fig7-right"].figure.data[0].y)
    assert en["table6"].table.rows[0][2:] == ko["table6"].table.rows[0][2:]
    # Fig. 1's caption leaves the size out as in English (the notes are picked by kind, not by their wording).
    assert "a different size" not in en["fig1"].caption and "다른 크기" not in ko["fig1"].caption
    assert "no classification head" in en["fig1"].caption and "분류 헤드 없음" in ko["fig1"].caption
    assert "다른 크기: L = 2층 (논문: 24)" in ko["fig6"].caption


def test_korean_fig1_paper_figures_and_report(tiny):
    loaded, analyses, names, _ = tiny
    model = make_vit(depth=1, num_classes=10, patch_size=8, embed_dim=64, num_heads=4, mlp_ratio=2.0)
    layout = token_layout(model, (96, 128))
    facts = model_facts(model, layout)
    fig_en = paper.fig1_architecture(facts, layout, model_label="tiny", num_classes=10)
    with use("ko"):
        fig_ko = paper.fig1_architecture(facts, layout, model_label="tiny", num_classes=10)
        fig5 = paper.fig5_compute_figure(model_label="tiny")
        table6 = paper.table6()
        report = paper.paper_report(loaded, analyses[:1], names[:1])
    ko_text, en_text = _annotations(fig_ko), _annotations(fig_en)
    assert MARK not in ko_text and "클래스 (class)</b>: 10개 중 하나" in ko_text and "L = 1층 · D = 64 · 헤드 4개" in ko_text
    assert _numbers(ko_text) == _numbers(en_text) and fig_ko.layout.meta == fig_en.layout.meta
    assert HANGUL.search(fig_ko.layout.title.text) and _numbers(fig_ko.layout.title.text) == _numbers(
        fig_en.layout.title.text)
    # The paper's numbers: family names translated where they are words, values untouched.
    assert [t.name for t in fig5.data] == ["ViT", "ResNet (BiT)", "하이브리드"]
    assert sorted(x for t in fig5.data for x in t.x) == sorted(r[-1] for r in pr.TABLE6_ROWS)
    assert table6.columns[:3] == ("모델", "계열", "에폭") and table6.columns[3:] == pr.TABLE6_COLUMNS[2:]
    assert [row[0] for row in table6.rows] == [r[0] for r in pr.TABLE6_ROWS]
    assert "<h1>ViT-Ti/16 test (학습 안 됨)에 대한 ViT 논문의 그림</h1>" in report and MARK not in report


# ------------------------------------------------------------------------------ paper numbers
def test_paper_results_are_internally_consistent():
    assert len(pr.TABLE2_MODELS) == 5
    benchmarks = [name for name, _ in pr.TABLE2_ROWS]
    assert benchmarks == ["ImageNet", "ImageNet ReaL", "CIFAR-10", "CIFAR-100", "Oxford-IIIT Pets",
                          "Oxford Flowers-102", "VTAB (19 tasks)", pr.TABLE2_COMPUTE_ROW]
    assert all(len(cells) == len(pr.TABLE2_MODELS) for _, cells in pr.TABLE2_ROWS)
    filled = [(name, j, cell) for name, cells in pr.TABLE2_ROWS for j, cell in enumerate(cells)
              if pr.cell_mean(cell) is not None]
    # 7 accuracy rows × 4 ViT/BiT columns + Noisy Student's ImageNet and ReaL + 5 compute cells.
    assert len(filled) == 7 * 4 + 2 + 5
    assert pr.ARXIV_ID in pr.TABLE2_SOURCE and "Table 2" in pr.TABLE2_SOURCE
    accuracies = [cell for name, _, cell in filled if name != pr.TABLE2_COMPUTE_ROW]
    assert all(50 < pr.cell_mean(cell) < 100 for cell in accuracies)
    assert all(pr.cell_std(cell) is None or 0 <= pr.cell_std(cell) < 2 for cell in accuracies)
    cell = {(pr.TABLE2_MODELS[j], name): pr.cell_mean(c) for name, j, c in filled}
    assert cell[(("Ours-JFT", "ViT-H/14"), "ImageNet")] == 88.55
    assert cell[(("Noisy Student", "EfficientNet-L2"), "ImageNet")] == 88.4
    assert cell[(("Ours-JFT", "ViT-L/16"), pr.TABLE2_COMPUTE_ROW)] == 680
    assert pr.cell_mean("—") is None and pr.cell_std("90.54") is None and pr.cell_std("76.29 ± 1.70") == 1.7

    families = [pr.table6_family(r[0]) for r in pr.TABLE6_ROWS]
    assert (families.count("ViT"), families.count("ResNet (BiT)"), families.count("Hybrid")) == (6, 7, 5)
    assert {r[1] for r in pr.TABLE6_ROWS} == {7, 14}
    assert all(len(r) == 3 + len(pr.TABLE6_DATASETS) for r in pr.TABLE6_ROWS)
    # Pre-training compute is proportional to epochs: a model's 14-epoch row costs ~2× its 7-epoch row.
    flops = {(r[0], r[1]): r[-1] for r in pr.TABLE6_ROWS}
    pairs = [(name, flops[(name, 14)] / flops[(name, 7)]) for name, e in flops if e == 14 and (name, 7) in flops]
    assert len(pairs) == 3 and all(1.9 < ratio < 2.1 for _, ratio in pairs), pairs
    points = pr.fig5_points()
    assert len(points) == len(pr.TABLE6_ROWS) * (len(pr.TABLE6_DATASETS) + 1)
    assert all("Table 6" in p.source and pr.ARXIV_ID in p.source for p in points)


def test_paper_number_figures_draw_every_reported_value():
    fig = paper.table2_figure("Some model")
    assert "Some model" in fig.layout.title.text and "not computed" in fig.layout.title.text
    assert sum(len(t.y) for t in fig.data) == len([c for name, cells in pr.TABLE2_ROWS for c in cells
                                                   if name != pr.TABLE2_COMPUTE_ROW and pr.cell_mean(c) is not None])
    fig5 = paper.fig5_compute_figure(model_label="Some model")
    assert [len(t.x) for t in fig5.data] == [6, 7, 5]
    assert sorted(x for t in fig5.data for x in t.x) == sorted(r[-1] for r in pr.TABLE6_ROWS)


# ------------------------------------------------------------------------------- real weights
@pytest.mark.real_weights
def test_fig1_and_captions_for_the_real_dinov2(weights_dir):
    from vitviz.loading.models import load_model

    loaded = load_model("vit_small_patch14_dinov2.imgfocus", weights_dir=weights_dir, device="cpu")
    analyses = analyze_samples(loaded, sample_paths()[:1])
    sections = _by_anchor(paper.paper_sections(loaded, analyses, ["astronaut"]))
    fig = sections["fig1"].figure
    _assert_fig1_matches(fig, loaded.model, (16, 16), num_classes=0)
    assert fig.layout.meta["layers"] == 12 and fig.layout.meta["hidden_size"] == 384
    assert fig.layout.meta["heads"] == 6 and fig.layout.meta["tokens"] == 257
    title = fig.layout.title.text.replace("<br>", " ")  # a wrapped title reads the same unwrapped
    assert loaded.label in title and "untrained" not in title
    for anchor in ("fig6", "fig7-left", "fig7-centre", "fig7-right"):
        caption = sections[anchor].caption
        assert "self-supervised pre-training (DINOv2" in caption and "no classification head" in caption
        assert "untrained" not in caption


@pytest.mark.parametrize("lang, generated", [("en", "generated 2026-01-02 03:04 UTC by vitviz"),
                                             ("ko", "2026-01-02 03:04 UTC에 vitviz로 생성")])
def test_exported_page_says_its_language(lang, generated):
    """The Korean export said ``<html lang="en">`` (screen readers then read Korean as English)."""
    import datetime as dt

    from vitviz.figures.report import paper_report_html

    when = dt.datetime(2026, 1, 2, 3, 4, tzinfo=dt.timezone.utc)
    with use(lang):
        page = paper_report_html("t", [], generated=when)
    assert page.startswith(f'<!DOCTYPE html>\n<html lang="{lang}">') and generated in page
    assert f'<html lang="{lang}">' in paper_report_html("t", [], generated=when, lang=lang)  # or given outright


def test_korean_paper_report_is_marked_korean(tiny):
    loaded, analyses, names, _ = tiny
    with use("ko"):
        page = paper.paper_report(loaded, analyses[:1], names[:1])
        sections = paper.paper_sections(loaded, analyses[:1], names[:1])
    assert '<html lang="ko">' in page and '<html lang="en">' not in page
    # The dashboard's download builds the page later, in a server thread whose language is the default:
    # given the language it chose, the page is Korean throughout (title, <html lang>, generated line).
    import threading

    built = {}
    worker = threading.Thread(target=lambda: built.update(page=paper.paper_report(
        loaded, analyses[:1], names[:1], sections=sections, lang="ko")))
    worker.start()
    worker.join()
    assert i18n.language() == "en"
    head = built["page"].split("<nav>")[0]
    assert '<html lang="ko">' in head and "ViT 논문의 그림" in head and "vitviz로 생성" in head
