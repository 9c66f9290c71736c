"""Korean pages in Chromium: no English left in headers, figure titles, axis titles, colour bars and controls.

One server for the module (``streamlit run app/serve.py``, as tests/test_browser.py starts it). Every page
is opened with ``?lang=ko`` at 1440×900; the visible text of its headers (page title, the model line,
subheaders), figure titles, axis titles, tick labels, legends, colour bars (plotly's, the map's, the heads
figure's) and controls (labels, shown values, options, buttons), in the main area and the sidebar, is
collected and every Latin word in it must be a model name, a technical term kept in brackets after its
Korean word ("어텐션 롤아웃 (attention rollout)"), or on :data:`ALLOWED` (names, units, abbreviations).
Screenshots: ``artifacts/screenshots/ko-<page>.png``.

Not collected: prose paragraphs and captions (they quote paper names and English terms on purpose), the
downloads' file names, and Streamlit's own file-uploader button and size line ("Upload", "20MB per file"), which
Streamlit 1.67 does not let an app set (only the label and help, which are translated).
"""
import re

import pytest

from test_browser import (MAP, NORMAL, PAGES, SHOTS, assert_no_error, open_page,
                          screenshot, settle)

from vitviz.figures.paper_results import TABLE2_MODELS, TABLE2_ROWS

pytestmark = pytest.mark.browser
HANGUL = re.compile("[\uac00-\ud7a3]")
#: Latin words a Korean page may show outside brackets: model and method names, datasets, units,
#: abbreviations and file formats (Korean technical writing keeps them), the language picker's own name.
ALLOWED = {
    # models, architectures and their parts
    "ViT", "DeiT", "DINO", "DINOv", "ResNet", "ResNetV", "BiT", "MobileNetV", "CNN", "MLP", "CLS", "R50", "R26",
    "AugReg", "AugReg2", "img", "focus", "imgfocus", "torchvision", "timm", "int8", "Grad-CAM", "Grad", "CAM",
    "softmax", "GELU", "LayerNorm", "PCA", "RGB", "ch",
    # data and papers
    "ImageNet", "IN", "k", "JFT", "JFT-300M", "VTAB", "CIFAR", "Pets", "Flowers", "Dosovitskiy", "et", "al",
    # units, formats, symbols
    "px", "D", "MB", "PNG", "CSV", "NPZ", "HTML", "CPU", "GPU", "cuda", "cpu", "auto", "x", "exaFLOPs",
    "English", "Language",  # the language picker: each language's name in itself, its label in both
    "PageUp", "PageDown", "Enter",  # keys: the walk-through's shortcuts, the map's "클릭(또는 Enter)"
    "cls", "dist",  # prefix tokens by the names timm gives them (patches are "패치 (r, c)")
    "Fig", "gh", "gw",  # the paper's figure numbers beside the Korean ("그림 7 (Fig. 7, 왼쪽)") and its symbols
}
# What a page shows in its headers, figures and controls (not prose): CSS selectors, main area and sidebar.
COLLECT = """() => {
  const texts = [];
  // Material icons are ligatures ("download", "keyboard_arrow_right"): drawn as pictures, not words.
  const ICONS = '[data-testid="stIconMaterial"], [data-testid="stIcon"], .material-symbols-rounded, [translate="no"]';
  const add = (where, el) => {
    if (el.matches(ICONS) || el.closest(ICONS)) return;
    let s;
    const lines = el instanceof SVGElement ? el.querySelectorAll('tspan.line') : [];
    if (lines.length) {  // a wrapped plotly title: its lines, joined by a space as the eye reads them
      s = [...lines].map(l => l.textContent).join(' ');
    } else if (el.querySelector && el.querySelector(ICONS) && el.innerText !== undefined) {
      const copy = el.cloneNode(true);
      copy.querySelectorAll(ICONS).forEach(i => i.remove());
      s = copy.textContent;
    } else {
      s = el.innerText ?? el.textContent;
    }
    s = (s || '').trim();
    if (s) texts.push([where, s]);
  };
  const visible = el => { const r = el.getBoundingClientRect(); return r.width > 0 && r.height > 0; };
  const pick = (where, selector, root = document) =>
    root.querySelectorAll(selector).forEach(el => { if (visible(el)) add(where, el); });
  const main = document.querySelector('[data-testid="stMain"]'), side = document.querySelector('[data-testid="stSidebar"]');
  pick('header', 'h1, h2, h3, h4', main);
  // the model line under the page title: "**model label** · 이미지: 예제: 고양이"
  pick('header', '[data-testid="stMarkdownContainer"] p:has(> strong:first-child)', main);
  // plotly: titles, axis titles, ticks, legends, colour bars, annotations (not the hidden preload chart)
  document.querySelectorAll('.js-plotly-plot').forEach(plot => {
    if (plot.closest('.st-key-vv-plotly-preload') || !visible(plot)) return;
    [['figure title', '.gtitle'], ['axis title', '.g-xtitle, .g-ytitle, [class^="g-x"][class$="title"], [class^="g-y"][class$="title"]'],
     ['tick', '.xtick text, .ytick text'], ['legend', '.legendtext, .legendtitletext'],
     ['colour bar', '.cbtitle, .colorbar text'], ['annotation', '.annotation-text'], ['subplot title', '.annotation']]
      .forEach(([where, sel]) => plot.querySelectorAll(sel).forEach(el => add(where, el)));
  });
  // the map component (app/map_view.py) and the heads figure (vitviz.figures.map_pictures.heads_html)
  pick('figure title', '.vv-map-title, .vv-heads > figcaption', main);
  pick('colour bar', '.vv-map-bar, .vv-map-scale, .vv-heads span', main);
  pick('panel title', '.vv-heads figure figcaption', main);
  for (const [where, root] of [['control', main], ['sidebar control', side]]) {
    if (!root) continue;
    pick(where, '[data-testid="stWidgetLabel"]', root);
    root.querySelectorAll('input[role="combobox"]').forEach(el => {  // a selectbox shows its value in its input
      if (visible(el) && el.value.trim()) texts.push([where, el.value.trim()]); });
    pick(where, '[data-testid="stMultiSelect"] [data-testid="stMultiSelectTag"], [data-baseweb="tag"]', root);
    pick(where, '[data-testid="stRadio"] label, [data-testid="stCheckbox"] label, [data-testid="stToggle"] label', root);
    pick(where, 'button p, [data-testid="stBaseButton-secondary"], [data-testid="stDownloadButton"] button', root);
    pick(where, '[data-testid="stSliderThumbValue"], [data-testid="stSliderTickBarMin"], [data-testid="stSliderTickBarMax"]', root);
    pick(where, '[data-testid="stExpander"] summary', root);
    pick(where, '[data-testid="stTab"]', root);
  }
  pick('sidebar header', 'h1, h2, h3', side);
  pick('navigation', '[data-testid="stSidebarNav"] a span', side);
  pick('table header', '[data-testid="stDataFrame"] [role="columnheader"]', main);
  return texts;
}"""
#: The paper's Table 2 labels, quoted as the paper prints them (vitviz/figures/paper_results.py): shown as they are.
QUOTED = {row for row, _ in TABLE2_ROWS} | {f"{group} ({arch})" for group, arch in TABLE2_MODELS}
WORD = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:[-'][A-Za-z0-9]+)*")
MODEL_NAME = re.compile(r"\b(?:R\d+\+)?(?:ViT|DeiT|DINOv?2?|ResNetV?2?|MobileNetV2|BiT)[\w./+-]*")


def bracket_glosses_removed(text: str) -> str:
    """``text`` less every bracket of Latin text that follows Korean text: "이집트 고양이 (Egyptian cat)"
    and "롤아웃 (rollout)" keep the English term as Korean technical writing does. A bracket after a
    name ("DINOv2 ViT-S/14 (self-supervised, no head)") stays, so its English is found."""
    out, last = [], 0
    for m in re.finditer(r"\(([^()]*)\)", text):
        before = text[last:m.start()]
        head = "".join(out) + before
        glossed = not HANGUL.search(m.group(1)) and HANGUL.search(head[-40:])
        out.append(before if glossed else text[last:m.end()])
        last = m.end()
    out.append(text[last:])
    return "".join(out)


def leftover_english(text: str) -> set[str]:
    """Latin words in ``text`` that are neither glossed terms, model names, numbers nor :data:`ALLOWED`
    (a label of the paper's Table 2, :data:`QUOTED`, is shown as the paper prints it)."""
    if text in QUOTED:
        return set()
    text = MODEL_NAME.sub(" ", bracket_glosses_removed(text))
    text = re.sub(r"\b[\w.-]+\.(?:jpg|png|csv|npz|html|safetensors)\b", " ", text)  # file names
    text = re.sub(r"\b[a-z_]+(?:\.\d+)+\b", " ", text)  # a CNN's stages by their module names: "blocks.6"
    words = {w for w in WORD.findall(text)}
    return {w for w in words if w not in ALLOWED and not re.fullmatch(r"[A-Z]|\d.*|[A-Z]+\d*|IN-\d+k|x\d+|reg\d+", w)}


def test_the_leftover_check_finds_english_and_lets_glosses_pass():
    assert leftover_english("DINOv2 ViT-S/14 (self-supervised backbone, no classifier head)") >= {"self-supervised", "backbone"}
    assert leftover_english("이집트 고양이 (Egyptian cat) · 어텐션 롤아웃 (attention rollout)") == set()
    assert leftover_english("DINOv2 ViT-S/14 (자기지도 학습 백본, 분류 헤드 없음) · 224×224 px") == set()
    assert leftover_english("head 3") == {"head"} and leftover_english("|gradient|") == {"gradient"}
    assert leftover_english("patch (5, 10)") == {"patch"}
    assert leftover_english("예제: cat") == {"cat"}
    assert leftover_english("채널 PCA를 RGB로 · MobileNetV2 · blocks.6 · 쿼리 cls · reg0") == set()


@pytest.fixture(scope="module")
def tab(browser):
    page = browser.new_page(viewport=NORMAL)
    page.set_default_timeout(90_000)
    yield page
    page.close()


@pytest.mark.parametrize("name, path, target", PAGES, ids=[p[0] for p in PAGES])
def test_korean_page_has_no_leftover_english(server, tab, name, path, target):
    open_page(tab, server, path, "?sample=cat&lang=ko", target)
    assert_no_error(tab, f"{name} (ko)")
    tab.wait_for_timeout(500)
    texts = tab.evaluate(COLLECT)
    screenshot(tab, SHOTS / f"ko-{name}.png", True)
    kinds = {where for where, _ in texts}
    assert {"header", "navigation", "sidebar control"} <= kinds, (name, kinds)
    if target != "iframe" and name != "facts":
        assert kinds & {"figure title", "panel title"}, (name, kinds)  # the page's figures were read
    found = {}
    for where, text in texts:
        words = leftover_english(text)
        if words:
            found.setdefault(f"{where}: {text[:120]!r}", sorted(words))
    assert not found, f"{name}: English left in the Korean page: {found}"
    header = " ".join(text for where, text in texts if where == "header")
    assert "고양이" in tab.locator('[data-testid="stMain"]').inner_text(), header  # "예제: 고양이" in the model line


def test_korean_map_read_out_names_the_patch_in_korean(server, tab):
    """The attention map's read-out under the pointer: "패치 (r, c)" (0-based) and the value's Korean name."""
    open_page(tab, server, "attention", "?sample=cat&lang=ko", MAP)
    img = tab.locator(MAP).first
    img.scroll_into_view_if_needed()
    box = img.bounding_box()
    tab.mouse.move(box["x"] + box["width"] * 0.5 / 16, box["y"] + box["height"] * 0.5 / 16)  # patch (0, 0)
    tip = tab.locator(".vv-map-tip").first
    tip.wait_for(state="visible")
    lines = tip.inner_text().split("\n")
    assert lines[0] == "패치 (0, 0)", lines
    assert not leftover_english(tip.inner_text()), tip.inner_text()


def test_korean_position_grid_counts_from_zero(server, tab):
    """The tile grid's ticks run 0…15 like the row/column pickers (labelled "(0부터)"), and the axis titles say so."""
    open_page(tab, server, "position", "?sample=cat&lang=ko&row=0&col=15")
    settle(tab)
    plot = tab.locator(".js-plotly-plot:not(.st-key-vv-plotly-preload *)").first
    ticks = plot.evaluate("el => [...el.querySelectorAll('.xtick text')].map(t => t.textContent)")
    assert ticks[0] == "0" and ticks[-1] == str(len(ticks) - 1), ticks
    titles = plot.evaluate("el => [...el.querySelectorAll('.g-xtitle, .g-ytitle')].map(t => t.textContent)")
    assert titles == ["입력 패치 열 (0부터)", "입력 패치 행 (0부터)"], titles
    labels = tab.locator('[data-testid="stMain"] [data-testid="stNumberInput"] [data-testid="stWidgetLabel"]').all_inner_texts()
    assert labels[:2] == ["행 (0부터)", "열 (0부터)"], labels
    assert_no_error(tab, "position (ko)")


def test_korean_uploader_says_what_streamlit_lets_an_app_set(server, tab):
    """The sidebar's uploader: its label and help are Korean. Streamlit 1.67 draws its button ("Upload")
    and size line ("20MB per file") itself, with no parameter to change them (streamlit/streamlit#13500)."""
    open_page(tab, server, "facts", "?sample=cat&lang=ko", '[data-testid="stDataFrame"]')
    tab.locator('[data-testid="stSidebar"]').get_by_text("업로드", exact=True).click()
    uploader = tab.locator('[data-testid="stSidebar"] [data-testid="stFileUploader"]')
    uploader.wait_for(state="visible")
    assert uploader.locator('[data-testid="stWidgetLabel"]').inner_text().strip() == "이미지 업로드"
    assert uploader.locator('button[aria-label^="Help"], [data-testid="stTooltipIcon"]').count() >= 1  # the help
    screenshot(tab, SHOTS / "ko-uploader.png", False)
