"""The Talk page in a real browser, as a lecturer uses it on a 1280×720 projector.

Every slide, in English and Korean, must fit without scrolling, with no Streamlit chrome, its
picture large enough for 16 px text; PageDown / PageUp and the arrow keys move through the slides
and the link follows; the Download .pptx button gives the same slides in the page's language.
Screenshots: ``artifacts/screenshots/talk-<lang>-<NN>.png``. Uses test_browser's server harness.
"""
import io
import json
import re

import pytest

from test_browser import ERROR, PRESENTER, SHOTS, TINY
from vitviz.talk import ORDER
from vitviz.talk.raster import MIN_TEXT, WIDTH

pytestmark = pytest.mark.browser
HANGUL = re.compile(r"[\uac00-\ud7a3]")
LINK = f"sample=cat&model={TINY}&untrained=1"  # random init: no weights needed, fast
CHROME = ['[data-testid="stToolbar"]', '[data-testid="stHeader"]', '[data-testid="stSidebar"]',
          '[data-testid="stAppDeployButton"]', '[data-testid="stMainMenu"]', '[data-testid="stSidebarCollapsedControl"]']
MEASURE = """() => {
  const slide = document.querySelector('.vv-slide'), body = document.querySelector('.vv-slide-body');
  const img = body.querySelector('img'), table = body.querySelector('table');
  const buttons = [...document.querySelectorAll('[data-testid="stButton"] button, [data-testid="stDownloadButton"] button')]
    .filter(b => b.getBoundingClientRect().left >= 0);
  const chrome = %s.map(s => [...document.querySelectorAll(s)]).flat()
    .filter(e => { const r = e.getBoundingClientRect(); return r.width > 0 && r.height > 0 && getComputedStyle(e).display !== 'none'; });
  let shown = null;
  if (img) {  // the drawn picture inside its box (object-fit: contain)
    const k = Math.min(img.clientWidth / img.naturalWidth, img.clientHeight / img.naturalHeight);
    shown = img.naturalWidth * k;
  }
  return {scroll: document.scrollingElement.scrollHeight, inner: innerHeight, bodyOver: body.scrollHeight - body.clientHeight,
          slideBottom: slide.getBoundingClientRect().bottom, buttonsBottom: Math.max(...buttons.map(b => b.getBoundingClientRect().bottom)),
          title: slide.querySelector('h2').textContent, shown, table: !!table, chrome: chrome.length,
          takeaway: slide.querySelector('.vv-takeaway').textContent};
}""" % json.dumps(CHROME)


@pytest.fixture(scope="module")
def tab(browser):
    ctx = browser.new_context(viewport=PRESENTER, accept_downloads=True)
    page = ctx.new_page()
    page.set_default_timeout(90_000)
    yield page
    ctx.close()


def _open(tab, server, n: int, lang: str = "en") -> dict:
    tab.goto(f"{server}/talk?slide={n}&lang={lang}&{LINK}")
    tab.wait_for_function(f"() => (document.querySelector('.vv-slide h2') || {{}}).textContent?.startsWith('{n}.')")
    tab.wait_for_function("() => [...document.images].every(i => i.complete)")
    tab.wait_for_selector(".st-key-vv_talk_back button", state="attached")  # the controls (and their keys) are live
    tab.wait_for_selector(".st-key-vv_talk_right button", state="attached")
    return tab.evaluate(MEASURE)


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_every_slide_fits_the_projector(tab, server, lang):
    for n in range(1, len(ORDER) + 1):
        m = _open(tab, server, n, lang)
        tab.screenshot(path=str(SHOTS / f"talk-{lang}-{n:02d}.png"))
        where = f"{lang} slide {n}: {m}"
        assert m["scroll"] <= m["inner"], where  # no vertical scroll
        assert m["bodyOver"] <= 1 and m["slideBottom"] <= m["inner"] and m["buttonsBottom"] <= m["inner"], where
        assert m["chrome"] == 0, where  # no toolbar, Deploy button, ⋮ menu, header or sidebar
        if m["shown"] is not None:  # picture text ≥ 16 px as shown
            assert MIN_TEXT * m["shown"] / WIDTH >= 16, where
        else:
            assert m["table"], where
        if lang == "ko":
            assert HANGUL.search(m["title"]) and HANGUL.search(m["takeaway"]), where
        assert "untrained" in m["title"] or m["shown"] is None or ORDER[n - 1] in ("fig3", "fig5"), where


def test_clicker_and_arrow_keys_move_and_the_link_follows(tab, server):
    _open(tab, server, 1)
    for key, want in (("PageDown", 2), ("PageDown", 3), ("ArrowLeft", 2), ("ArrowRight", 3), ("PageUp", 2)):
        tab.keyboard.press(key)
        tab.wait_for_function(f"() => document.querySelector('.vv-slide h2').textContent.startsWith('{want}.')",
                              timeout=30_000)
        tab.wait_for_function(f"() => new URLSearchParams(location.search).get('slide') === '{want}'")
    _open(tab, server, len(ORDER))  # the last slide: Next does nothing, the page does not break
    tab.keyboard.press("PageDown")
    tab.wait_for_timeout(1500)
    assert tab.evaluate("document.querySelector('.vv-slide h2').textContent").startswith(f"{len(ORDER)}.")


def test_download_gives_the_korean_deck(tab, server):
    from pptx import Presentation

    _open(tab, server, 1, "ko")
    with tab.expect_download() as info:
        tab.get_by_role("button", name=re.compile(r"\.pptx")).click()
    download = info.value
    assert download.suggested_filename.endswith("-ko.pptx")
    prs = Presentation(io.BytesIO(open(download.path(), "rb").read()))
    assert len(prs.slides) == len(ORDER)
    titles = [next(sh.text_frame.text for sh in s.shapes if sh.has_text_frame) for s in prs.slides]
    assert all(HANGUL.search(title) for title in titles)
    assert titles[0] == tab.evaluate("document.querySelector('.vv-slide h2').textContent")


def test_presenter_mode_link_still_fits(tab, server):
    """?present=1 (the frame's larger type for a projector) must not push the slide off the screen."""
    for n in (1, ORDER.index("table2") + 1, len(ORDER)):
        tab.goto(f"{server}/talk?slide={n}&present=1&{LINK}")
        tab.wait_for_function(f"() => (document.querySelector('.vv-slide h2') || {{}}).textContent?.startsWith('{n}.')")
        tab.wait_for_selector(".st-key-vv_talk_back button", state="attached")
        m = tab.evaluate(MEASURE)
        assert m["scroll"] <= m["inner"] and m["bodyOver"] <= 1 and m["buttonsBottom"] <= m["inner"], (n, m)
        assert m["chrome"] == 0 and (m["shown"] is None or MIN_TEXT * m["shown"] / WIDTH >= 16), (n, m)


def test_three_sessions_give_the_same_talk_without_an_error(tab, server):
    """A class: three more browsers on the same server, each on its own slide and language, after the first."""
    contexts = [tab.context.browser.new_context(viewport=PRESENTER) for _ in range(3)]
    try:
        pages = [ctx.new_page() for ctx in contexts]
        wanted = [(ORDER.index("fig6") + 1, "en"), (ORDER.index("bias") + 1, "ko"), (1, "en")]
        for page, (n, lang) in zip(pages, wanted):
            page.set_default_timeout(90_000)
            page.goto(f"{server}/talk?slide={n}&lang={lang}&{LINK}")
        for page, (n, lang) in zip(pages, wanted):
            page.wait_for_function(f"() => (document.querySelector('.vv-slide h2') || {{}}).textContent?.startsWith('{n}.')")
            assert page.locator(ERROR).count() == 0
            title = page.evaluate("document.querySelector('.vv-slide h2').textContent")
            assert bool(HANGUL.search(title)) == (lang == "ko"), title
    finally:
        for ctx in contexts:
            ctx.close()
