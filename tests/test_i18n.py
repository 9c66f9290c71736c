"""Korean and English: the catalogues agree, every key the code asks for exists, the app and figures follow ?lang=.

The catalogues are gettext files (vitviz/text/locales/<lang>/LC_MESSAGES/vitviz.po, read with Babel); the code's
``t()``/``tn()`` calls are read by AST (tests/i18n_keys.py says how a key in a variable resolves). The browser side
(every page in Korean, no untranslated key shown, switching keeps the view) is in tests/test_browser.py.
"""
import ast
import os
import re
import shutil
import string
import subprocess

import numpy as np
import pytest
from babel.messages.pofile import read_po

from conftest import REPO
from i18n_keys import Code
from vitviz.text import i18n
from vitviz.figures import paper_results, plots
from vitviz.text.i18n import LANGUAGES, MISSING, best_language, catalogue, t, tn, use

CODE = sorted([*REPO.glob("app/**/*.py"), *REPO.glob("vitviz/**/*.py")])
LOCALES = REPO / "vitviz" / "text" / "locales"
HANGUL = re.compile(r"[\uac00-\ud7a3]")


def po(lang: str):
    """The raw Babel catalogue of ``lang`` (or of the template, ``lang=None``), flags and fuzziness included."""
    path = LOCALES / "vitviz.pot" if lang is None else LOCALES / lang / "LC_MESSAGES" / "vitviz.po"
    with path.open("rb") as handle:
        return read_po(handle, locale=lang)


def entries(lang):
    return {m.context: m for m in po(lang) if m.id}


def fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def texts(lang: str) -> dict[str, str]:
    """Every form of every text, one per line: key, or key[i] for the i-th plural form."""
    cat = catalogue(lang)
    return {(k if len(forms) == 1 else f"{k}[{i}]"): text for k, forms in cat.texts.items()
            for i, text in enumerate(forms)}


@pytest.fixture(scope="module")
def uses():
    namespaces = {key.split(".")[0] for key in catalogue("en").source}
    return Code(CODE, REPO).uses(namespaces)


def keys_of(use, keys):
    return use.keys | {k for p in use.patterns for k in keys if re.fullmatch(p, k)}


# ----------------------------------------------------------------------------- the catalogues
def test_the_headers_give_the_plural_rules_and_utf8():
    en, ko = po("en"), po("ko")
    assert en.plural_forms == "nplurals=2; plural=(n != 1);" and en.num_plurals == 2
    assert ko.plural_forms == "nplurals=1; plural=0;" and ko.num_plurals == 1
    assert en.charset == ko.charset == "utf-8"


def test_both_catalogues_have_the_same_keys_sources_and_fields():
    en, ko = catalogue("en"), catalogue("ko")
    assert set(en.source) == set(ko.source), set(en.source) ^ set(ko.source)
    assert en.source == ko.source  # the Korean was translated from the English of today (msgid)
    for key, forms in en.texts.items():
        needed = set().union(*map(fields, forms)) - ({"n"} if key in en.plurals else set())
        for text in ko.texts[key]:  # a plural form may leave the count out ("one image")
            assert fields(text) - {"n"} == needed if key in en.plurals else fields(text) == needed, key


def test_every_text_is_translated_and_none_is_fuzzy():
    for lang in LANGUAGES:
        raw = entries(lang)
        assert not [k for k, m in raw.items() if m.fuzzy], lang
        assert set(catalogue(lang).texts) == set(raw), sorted(set(raw) - set(catalogue(lang).texts))
    en = entries("en")
    assert all(m.string == m.id for m in en.values())  # English repeats its source


def test_the_template_lists_every_key_untranslated_with_brace_flags():
    template, en = entries(None), entries("en")
    assert {k: m.id for k, m in template.items()} == {k: m.id for k, m in en.items()}
    assert all(not any(m.string if isinstance(m.string, tuple) else (m.string,)) for m in template.values())
    for raw in (template, en, entries("ko")):  # Poedit and Weblate check the {fields} of flagged entries
        braced = {k for k, m in en.items() if any(fields(s) for s in (m.id if isinstance(m.id, tuple) else (m.id,)))}
        assert {k for k, m in raw.items() if "python-brace-format" in m.flags} == braced


@pytest.mark.skipif(not shutil.which("msgfmt"), reason="GNU gettext's msgfmt is not installed")
@pytest.mark.parametrize("lang", sorted(LANGUAGES))
def test_gnu_msgfmt_accepts_the_catalogue_and_its_brace_fields(lang):
    """The check translators' tools run (Poedit calls msgfmt -c): header, plural forms, {fields} per entry."""
    path = LOCALES / lang / "LC_MESSAGES" / "vitviz.po"
    done = subprocess.run(["msgfmt", "--check", "--statistics", "-o", os.devnull, str(path)],
                          capture_output=True, text=True, env={**os.environ, "LC_ALL": "C"})
    assert done.returncode == 0, done.stderr
    assert f"{len(catalogue(lang).texts)} translated messages" in done.stderr


def test_counted_texts_are_plural_entries():
    en, ko = catalogue("en"), catalogue("ko")
    assert not [k for k, v in texts("en").items() if re.search(r"\w\((e?s)\)", v)]  # no "image(s)" left
    assert {"paper.images_n", "plot.images_n", "paper.fig6_section", "walk.prefix_text"} <= en.plurals == ko.plurals
    assert all(len(en.texts[k]) == 2 and len(ko.texts[k]) == 1 for k in en.plurals)


def test_the_papers_references_are_the_catalogues():
    assert t("paper.source_table2", lang="en") == paper_results.TABLE2_SOURCE
    assert t("paper.source_table6", lang="en") == paper_results.TABLE6_SOURCE


def test_korean_texts_are_korean():
    """Every Korean text that is prose contains Hangul (a copied English text would not)."""
    en, ko = catalogue("en").texts, catalogue("ko").texts
    pairs = [(f"{k}[{i}]", text, ko[k][min(i, len(ko[k]) - 1)])
             for k, forms in en.items() for i, text in enumerate(forms)]
    same = {name for name, e, k in pairs if e == k}
    # Only texts without words to translate may be equal: the bilingual language label, arrows, symbols.
    assert same <= {"sidebar.language[0]"} | {name for name, e, _ in pairs if not re.search("[a-z]{3}", e)}, same
    untranslated = [name for name, e, k in pairs if re.search("[A-Za-z]{4}", e) and name not in same
                    and not HANGUL.search(k)]
    assert not untranslated, untranslated


# ----------------------------------------------------------------------------- the code's calls
def test_every_call_resolves_to_keys_in_both_catalogues(uses):
    keys = set(catalogue("en").source)
    assert len(uses) > 150  # the scan found the app's texts (a broken walk finds none)
    assert not [u.where + " " + u.source for u in uses if not u.resolved]
    missing = sorted(f"{u.where} {k}" for u in uses for k in u.keys - keys)
    assert not missing, missing
    unmatched = [f"{u.where} {p}" for u in uses for p in u.patterns if not any(re.fullmatch(p, k) for k in keys)]
    assert not unmatched, unmatched


def test_every_catalogue_key_is_used(uses):
    keys = set(catalogue("en").source)
    used = set().union(*(keys_of(u, keys) for u in uses))
    # Keys looked up by their prefix rather than by t() (vitviz.text.names translates model labels and descriptions by
    # the English text under "model.about." / "model.phrase."): a string literal "ns.group." in the code.
    prefixes = {node.value for path in CODE for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
                if isinstance(node, ast.Constant) and isinstance(node.value, str)
                and re.fullmatch(r"[a-z0-9_]+(?:\.[a-z0-9_]+)*\.", node.value)}
    used |= {k for k in keys if k.startswith(tuple(prefixes))}
    assert not keys - used, sorted(keys - used)  # dead keys: remove them from every catalogue


def test_counted_texts_are_asked_with_tn_and_the_others_with_t(uses):
    cat = catalogue("en")
    # Keys a call names itself; a pattern (an f-string key) may match both kinds, the code choosing between them.
    wrong = [f"{u.where} {u.func}({k})" for u in uses for k in u.keys if (k in cat.plurals) != (u.func == "tn")]
    assert not wrong, wrong


def test_every_call_passes_the_fields_its_text_needs(uses):
    cat = catalogue("en")
    short = []
    for u in uses:
        given = None if u.values is None else u.values | ({"n"} if u.func == "tn" else set())
        for k in keys_of(u, cat.source):
            needed = set().union(*map(fields, cat.texts[k]))
            if given is not None and (u.values or needed) and needed - given:
                short.append(f"{u.where} {k}: {sorted(needed - given)}")
    assert not short, short


def test_the_key_scan_resolves_variables_and_reports_what_it_cannot(tmp_path):
    (tmp_path / "m.py").write_text(
        'from vitviz.text.i18n import t, tn\n'
        'MODES = dict(zip(["a", "b"], ["x.mode_a", "x.mode_b"]))\n'
        'def caption(key):\n    return t(key)\n'
        'caption("x.one")\n'
        't(MODES[m]); t(f"x.fit_{f}"); t("x.step_" + s); t("x.n_" + ("one" if k else "many"), n=2)\n'
        'tn("x.count", 3, **values); t(some_function_of(1)); t(unknown)\n', encoding="utf-8")
    found = {u.source: u for u in Code([tmp_path / "m.py"], tmp_path).uses({"x"})}
    assert found["key"].keys == {"x.one"}
    assert found["MODES[m]"].keys == {"x.mode_a", "x.mode_b"}
    assert found["f'x.fit_{f}'"].patterns == [r"x\.fit_[a-z0-9_]+"]
    assert found["'x.step_' + s"].patterns == [r"x\.step_[a-z0-9_]+"]
    assert found["'x.n_' + ('one' if k else 'many')"].patterns == [r"x\.n_(?:one|many)"]
    assert found["'x.n_' + ('one' if k else 'many')"].values == {"n"}
    assert found["'x.count'"].func == "tn" and found["'x.count'"].values is None
    assert not found["unknown"].resolved and not found["some_function_of(1)"].resolved


# ----------------------------------------------------------------------------- looking texts up
def test_tn_chooses_the_form_by_the_catalogues_plural_rule():
    assert [tn("paper.images_n", n, lang="en") for n in (0, 1, 2)] == ["0 images", "1 image", "2 images"]
    assert [tn("paper.images_n", n, lang="ko") for n in (0, 1, 2)] == ["이미지 0장", "이미지 1장", "이미지 2장"]
    assert tn("paper.fig6_title_extra", 1, lang="en", query="class token") == "class token, 1 image"
    assert tn("nav.attention", 5, lang="en") == "Attention"  # a text without plural forms: its one text
    assert t("plot.images_n", lang="en", n=1) == "1 image"  # t() on a counted text follows n too
    assert tn("no.such.key", 2) == MISSING.format(key="no.such.key")


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
    assert not [k for k, v in texts("ko").items() if bad.search(v)]


def test_korean_titles_wrap_by_their_drawn_width():
    """Hangul is drawn about twice as wide as Latin letters: a Korean title wraps where the English one fits."""
    from vitviz.figures.titles import wrap_chars as _wrap_title

    en = "Attention rollout · DINOv2 ViT-S/14 · from layer 0, mean fusion, discard 0%"
    ko = "어텐션 롤아웃 (attention rollout) · DINOv2 ViT-S/14 · 0층부터, 평균 결합, 버림 0%"
    assert _wrap_title(en, 80) == en
    assert _wrap_title(ko, 80) == "어텐션 롤아웃 (attention rollout) · DINOv2 ViT-S/14 ·<br>0층부터, 평균 결합, 버림 0%"


# ----------------------------------------------------------------------------- untrusted text in markdown
@pytest.mark.parametrize("value", ["`[a](http://x)`", "![i](http://x/i.png)", ":red[x]", "$x$", "<b>x</b>", "a\n\n# h",
                                   "``` `` ` ", "&amp; www.x.com a@b.com", "\\`[a](b)"])
def test_md_code_is_one_code_span_that_the_value_cannot_close(value):
    from vitviz.text.i18n import md_code

    span = md_code(value)
    fence = re.match(r"`+", span).group(0)
    inner = span[len(fence):-len(fence)]
    assert span.endswith(fence) and fence not in inner  # the fence appears nowhere inside (CommonMark's rule)
    assert "\n" not in span
    assert inner.strip() == " ".join(value.split("\n")).strip() or "\n" in value


@pytest.mark.parametrize("value", ["[a](http://x)", "![i](x)", ":red[x]", "$x$", "<http://x>", "&amp;", "*b* _i_"])
def test_md_text_escapes_every_markdown_opener(value):
    from vitviz.text.i18n import md_text

    escaped = md_text(value)
    for i, ch in enumerate(escaped):  # every punctuation mark is preceded by a backslash
        if not ch.isalnum() and not ch.isspace() and ch != "\\":
            assert escaped[i - 1] == "\\", (value, escaped)
    assert re.sub(r"\\(.)", r"\1", escaped) == value  # and unescaping gives the value back
