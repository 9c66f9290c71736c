"""Korean and English: the catalogues agree, every key the code asks for exists, the app and figures follow ?lang=.

The browser side (every page in Korean, no untranslated key shown, switching keeps the view) is in
tests/test_browser.py; here the catalogues are checked statically and the app under AppTest.
"""
import re
import string

import numpy as np
import pytest

from conftest import REPO
from vitviz import i18n, plots
from vitviz.i18n import LANGUAGES, MISSING, best_language, catalogue, t, use

CODE = sorted([*REPO.glob("app/**/*.py"), *REPO.glob("vitviz/**/*.py")])
# t("key") / t("key", …); an f-string key (t(f"attention.fusion_{f}")) or a concatenated one gives its prefix.
CALL = re.compile(r"""\bt\(\s*(f?)(["'])([^"']+)\2""")
HANGUL = re.compile(r"[\uac00-\ud7a3]")


def used_keys() -> tuple[set[str], set[str]]:
    exact, prefixes = set(), set()
    for path in CODE:
        for fmt, _, key in CALL.findall(path.read_text(encoding="utf-8")):
            if fmt and "{" in key:
                prefixes.add(key.split("{")[0])
            elif key.endswith("_"):  # t("walk.step_" + step)
                prefixes.add(key)
            else:
                exact.add(key)
    return exact, prefixes


def fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_both_catalogues_have_the_same_keys_and_the_same_fields():
    en, ko = catalogue("en"), catalogue("ko")
    assert set(en) == set(ko), set(en) ^ set(ko)
    for key in en:
        assert fields(en[key]) == fields(ko[key]), key


def test_korean_texts_are_korean():
    """Every Korean text that is prose contains Hangul (a copied English text would not)."""
    en, ko = catalogue("en"), catalogue("ko")
    same = {k for k in en if en[k] == ko[k]}
    # Only texts without words to translate may be equal: the bilingual language label, arrows, symbols.
    assert same <= {"sidebar.language"} | {k for k in en if not re.search("[a-z]{3}", en[k])}, same
    prose = [k for k in ko if re.search("[A-Za-z]{4}", en[k]) and k not in same]
    untranslated = [k for k in prose if not HANGUL.search(ko[k])]
    assert not untranslated, untranslated


def test_every_key_the_code_uses_is_in_the_catalogues():
    exact, prefixes = used_keys()
    assert len(exact) > 150  # the scan found the app's texts (a broken pattern finds none)
    en = catalogue("en")
    assert not exact - set(en), sorted(exact - set(en))
    for prefix in prefixes:
        assert any(k.startswith(prefix) for k in en), prefix


def test_a_missing_key_shows_itself_and_values_are_filled():
    assert t("no.such.key", lang="ko") == MISSING.format(key="no.such.key")
    assert t("distance.progress", lang="en", label="ViT", n=3, total=8) == "ViT: 3 / 8 images"
    assert t("distance.progress", lang="ko", label="ViT", n=3, total=8) == "ViT: 이미지 3 / 8"


@pytest.mark.parametrize("header, lang", [("ko-KR,ko;q=0.9,en-US;q=0.8", "ko"), ("en-GB,en;q=0.9", "en"),
                                          ("fr-FR,ko;q=0.5", "ko"), ("de", "en"), ("", "en"), (None, "en"),
                                          ("ko_KR", "ko")])
def test_best_language_reads_a_browser_preference(header, lang):
    assert best_language(header) == lang


def test_language_is_per_context_and_restored():
    assert i18n.language() == "en"
    with use("ko"):
        assert i18n.language() == "ko" and t("nav.attention") == "어텐션"
        with use("xx"):  # unknown: English, never an error in a page
            assert i18n.language() == "en"
        assert i18n.language() == "ko"
    assert i18n.language() == "en" and set(LANGUAGES) == {"en", "ko"}


def test_figures_follow_the_language_and_data_stays():
    series = {"ViT-S/16": np.array([[10.0, 20.0], [30.0, 40.0]])}
    refs = {"uniform": 116.49, "3×3 window": 20.0}
    en = plots.distance_figure(series, refs, num_images=2, untrained=True)
    with use("ko"):
        ko = plots.distance_figure(series, refs, num_images=2, untrained=True)
    assert en.layout.yaxis.title.text == "mean attention distance (input px)"
    assert ko.layout.yaxis.title.text == "평균 어텐션 거리 (입력 px)"
    assert "(untrained)" in en.layout.title.text and "(학습 안 됨)" in ko.layout.title.text
    assert "이미지 2장" in ko.layout.title.text and "2 images" in en.layout.title.text
    assert [a.text for a in ko.layout.annotations] == ["3×3 창: 20.0 px", "균등: 116.5 px"]
    np.testing.assert_array_equal(en.data[0].y, ko.data[0].y)  # the numbers do not change with the language


def test_korean_bold_renders():
    """Markdown bold closing after punctuation and directly followed by Hangul ("**32%**를") is not bold in
    CommonMark: the page would show the asterisks. Korean particles make this easy to write."""
    bad = re.compile(r"""[}%)\].,:;!?'"]\*\*[\uac00-\ud7a3]|[\uac00-\ud7a3]\*\*[(\[%'"]""")
    assert not [k for k, v in catalogue("ko").items() if bad.search(v)]


def test_korean_titles_wrap_by_their_drawn_width():
    """Hangul is drawn about twice as wide as Latin letters: a Korean title wraps where the English one fits."""
    from vitviz.plots import _wrap_title

    en = "Attention rollout · DINOv2 ViT-S/14 · from layer 0, mean fusion, discard 0%"
    ko = "어텐션 롤아웃 (attention rollout) · DINOv2 ViT-S/14 · 0층부터, 평균 결합, 버림 0%"
    assert _wrap_title(en, 80) == en
    assert _wrap_title(ko, 80) == "어텐션 롤아웃 (attention rollout) · DINOv2 ViT-S/14 ·<br>0층부터, 평균 결합, 버림 0%"


# ----------------------------------------------------------------------------- untrusted text in markdown
@pytest.mark.parametrize("value", ["`[a](http://x)`", "![i](http://x/i.png)", ":red[x]", "$x$", "<b>x</b>", "a\n\n# h",
                                   "``` `` ` ", "&amp; www.x.com a@b.com", "\\`[a](b)"])
def test_md_code_is_one_code_span_that_the_value_cannot_close(value):
    from vitviz.i18n import md_code

    span = md_code(value)
    fence = re.match(r"`+", span).group(0)
    inner = span[len(fence):-len(fence)]
    assert span.endswith(fence) and fence not in inner  # the fence appears nowhere inside (CommonMark's rule)
    assert "\n" not in span
    assert inner.strip() == " ".join(value.split("\n")).strip() or "\n" in value


@pytest.mark.parametrize("value", ["[a](http://x)", "![i](x)", ":red[x]", "$x$", "<http://x>", "&amp;", "*b* _i_"])
def test_md_text_escapes_every_markdown_opener(value):
    from vitviz.i18n import md_text

    escaped = md_text(value)
    for i, ch in enumerate(escaped):  # every punctuation mark is preceded by a backslash
        if not ch.isalnum() and not ch.isspace() and ch != "\\":
            assert escaped[i - 1] == "\\", (value, escaped)
    assert re.sub(r"\\(.)", r"\1", escaped) == value  # and unescaping gives the value back
