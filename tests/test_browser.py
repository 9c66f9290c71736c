"""End to end in a real browser: `streamlit run` on localhost, driven by Playwright in Debian's chromium.

Screenshots go to artifacts/screenshots/ (git-ignored) for CI to keep: ``<page>.png`` (1440×900,
full page) and ``<page>-present.png`` (presenter mode, 1280×720, what the projector shows).
"""
import re
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from browser_harness import (CHROMIUM, CHROMIUM_ARGS, NORMAL, PRESENTER, SERVER_PIDS, SHOTS, free_port,  # noqa: F401
                             start_server, start_server_on, stop_server)
from conftest import SAMPLES

# A page's charts: not the hidden empty one a session's first run draws to preload plotly (frame.preload_plotly)
PLOT = ".js-plotly-plot:not(.st-key-vv-plotly-preload *)"
MAP = ".vv-map-img"  # a map: a picture in a component (app/map_view.py), not a chart
HEADS = ".vv-heads img"  # small multiples as pictures in HTML (vitviz.figures.map_pictures.heads_html)
FIGURE = f"{PLOT}, {MAP}"
TABLE = '[data-testid="stDataFrame"]'
ERROR = '[data-testid="stException"], [data-testid="stAlertContentError"]'
# name (screenshot file), URL path, the element that shows the page has rendered
PAGES = [("walkthrough", "", PLOT), ("filters", "filters", PLOT), ("position", "position", PLOT),
         ("attention", "attention", MAP), ("matrix", "matrix", "iframe"), ("distance", "distance", PLOT),
         ("tokens", "tokens", PLOT), ("explain", "explain", MAP), ("compare", "compare", MAP), ("cnn", "cnn", HEADS),
         ("paper", "paper", PLOT), ("facts", "facts", TABLE)]
TINY = "vit_tiny_patch16_224.augreg_in21k_ft_in1k"  # random init needs no weights: offline and fast
UNTRAINED = f"?sample=cat&model={TINY}&untrained=1"
BADGE = "untrained (random) weights"

pytestmark = pytest.mark.browser
NOT_FOUND_SEEN: list[str] = []  # deep links that got Streamlit's spurious "Page not found" dialog


# ----------------------------------------------------------------------------- helpers
def settle(tab, timeout: float = 90_000) -> None:
    """Wait until Streamlit has finished the current run and plotly has drawn every figure."""
    tab.wait_for_timeout(300)
    tab.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=timeout)
    tab.wait_for_function("""() => [...document.querySelectorAll('.js-plotly-plot')]
                                     .every(el => el._fullLayout && el.querySelector('.main-svg'))""", timeout=timeout)


def slow(path: str) -> float:
    """The paper page runs the model on every bundled sample: minutes on a busy 2-core machine."""
    return 300_000 if path == "paper" else 90_000


def open_page(tab, server: str, path: str, query: str = "", target: str = PLOT) -> None:
    """Open a page by URL, as a shared link would (``path`` "" is the default page, the walk-through).

    Streamlit has answered the first deep link into a fresh st.navigation app with a spurious
    "Page not found" dialog (streamlit/streamlit#9992); a reload then opens the page, as it would
    for a user. Each time that happens is recorded in NOT_FOUND_SEEN and reported at the end.
    """
    tab.goto(f"{server}/{path}{query}")
    tab.wait_for_selector(f"{target}, {ERROR}", timeout=slow(path))
    settle(tab, slow(path))
    if tab.get_by_text("Page not found").count():
        NOT_FOUND_SEEN.append(f"/{path}{query}")
        tab.reload()
        tab.wait_for_selector(f"{target}, {ERROR}", timeout=slow(path))
        settle(tab, slow(path))
    assert tab.get_by_text("Page not found").count() == 0


def nav(tab, title: str, target: str = PLOT, path: str = "") -> None:
    """Go to another page with the sidebar's navigation link, as a user would."""
    tab.locator('[data-testid="stSidebarNav"]').get_by_role("link", name=re.compile(re.escape(title) + "$")).click()
    tab.wait_for_selector(f"h1:has-text('{title}')")
    tab.wait_for_selector(f"{target}, {ERROR}", timeout=slow(path))
    settle(tab, slow(path))


def assert_no_error(tab, where: str) -> None:
    errors = tab.locator(ERROR)
    assert errors.count() == 0, f"{where}: {errors.first.inner_text()}"


def query_of(tab) -> dict[str, str]:
    return dict(urllib.parse.parse_qsl(urllib.parse.urlparse(tab.url).query))


def wait_for_query(tab, **expected) -> None:
    """Wait until the URL carries ``expected`` (Streamlit updates it after the run)."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        query = query_of(tab)
        if all(query.get(k) == str(v) for k, v in expected.items()):
            return
        tab.wait_for_timeout(200)
    raise AssertionError(f"URL {tab.url} lacks {expected}")


def figure_titles(tab) -> list[str]:
    """Every figure title's text (plotly charts and the map), in page order (a wrapped title's lines joined by spaces)."""
    return tab.locator(f"{PLOT}, .vv-map").evaluate_all(
        """els => els.map(el => {
             const m = el.querySelector('.vv-map-title');
             if (m) return [...m.childNodes].map(n => n.textContent).filter(Boolean).join(' ');
             const t = el.querySelector('.gtitle');
             if (!t) return '';
             const lines = [...t.querySelectorAll('tspan.line')].map(s => s.textContent);
             return lines.length ? lines.join(' ') : t.textContent;
           })""")


def wait_for_title(tab, pattern: str, index: int = 0) -> str:
    """Wait until figure ``index``'s title matches the regular expression ``pattern``; returns the title."""
    deadline = time.monotonic() + 60
    titles: list[str] = []
    while time.monotonic() < deadline:
        titles = figure_titles(tab)
        if len(titles) > index and re.search(pattern, titles[index]):
            settle(tab)
            return figure_titles(tab)[index]
        tab.wait_for_timeout(250)
    raise AssertionError(f"no figure title {index} matching {pattern!r}; titles: {titles}")


def step_title(tab) -> str:
    return tab.locator("h3").filter(has_text=re.compile(r"^\d+ / \d+ · ")).first.inner_text()


def main_area(tab):
    return tab.locator('[data-testid="stMain"]')


def main_figure_box(tab) -> dict:
    return tab.locator(FIGURE).first.bounding_box()


def screenshot(tab, path: Path, full_page: bool) -> None:
    """A screenshot of the viewport, or of the whole page.

    Streamlit scrolls its main area inside the window, so Playwright's ``full_page`` alone shows
    the first screen only: the window is made as tall as the page for the shot, then restored.
    """
    tab.wait_for_timeout(300)  # plotly's layout images decode after the plot is drawn
    size = tab.viewport_size
    if full_page:
        height = tab.evaluate("""() => Math.max(...['[data-testid="stMain"]', '[data-testid="stAppViewContainer"]',
                                                    '[data-testid="stSidebarContent"]']
            .map(s => document.querySelector(s)).filter(Boolean).map(el => el.scrollHeight))""")
        if height > size["height"]:
            tab.set_viewport_size({"width": size["width"], "height": min(int(height), 12000)})
            tab.wait_for_timeout(600)  # plotly relayouts on resize
    tab.screenshot(path=str(path), full_page=full_page)
    tab.set_viewport_size(size)


def choose_source(tab, source: str) -> None:
    settle(tab)
    tab.locator('[data-testid="stSidebar"]').get_by_text(source, exact=True).click()
    settle(tab)


@pytest.fixture(scope="module", autouse=True)
def report_page_not_found(request):
    """Say at the end whether the "Page not found" reload in open_page was needed in this run."""
    yield
    reporter = request.config.pluginmanager.getplugin("terminalreporter")
    if reporter:
        reporter.write_line(f"[browser] spurious 'Page not found' dialogs: {len(NOT_FOUND_SEEN)} {NOT_FOUND_SEEN}")


# ----------------------------------------------------------------------------- every page
PRESENTER_BOXES: dict[str, dict] = {}  # main figure boxes from the presenter screenshots, for the fit test


def test_every_page_renders_with_screenshots(server, fresh):
    """Each page without errors: normal (full page, reached through the sidebar as a user does) and
    in presenter mode (opened by link; the 1280×720 a projector shows)."""
    normal = fresh(NORMAL)
    open_page(normal, server, "", "?sample=cat")
    for name, path, target in PAGES:
        title = NAV[name]
        if name != "walkthrough":
            nav(normal, title, target, path)
        assert_no_error(normal, name)
        if target == PLOT:
            assert normal.locator(FIGURE).count() >= 1, f"{name}: no figure"
        picker = normal.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').filter(has_text="Sample image")
        assert "cat" in picker.inner_text() + picker.locator("input").first.input_value()  # the link's sample
        wait_for_query(normal, sample="cat")
        screenshot(normal, SHOTS / f"{name}.png", True)

    present = fresh(PRESENTER)
    for name, path, target in PAGES:
        open_page(present, server, path, "?sample=cat&present=1", target)
        assert_no_error(present, f"{name}, presenter mode")
        side = present.locator('[data-testid="stSidebar"]').bounding_box()
        assert side is None or side["x"] + side["width"] <= 1, f"{name}: presenter mode leaves the sidebar open"
        if target == PLOT:
            PRESENTER_BOXES[name] = main_figure_box(present)
        screenshot(present, SHOTS / f"{name}-present.png", False)


def test_a_second_and_third_session_use_every_page_on_the_caches_the_first_filled(server, fresh):
    """A class, not a fresh server: later students open every page on warm caches, and Fig. 7 (right)
    over all bundled samples, which failed for every user after the first (CacheReplayClosureError)."""
    for student in range(2):
        tab = fresh(NORMAL)
        open_page(tab, server, "", "?sample=cat")
        for name, path, target in PAGES:
            if name != "walkthrough":
                nav(tab, NAV[name], target, path)
            assert_no_error(tab, f"session {student + 2}, {name}")
            if name == "distance":
                main_area(tab).get_by_text("All bundled samples", exact=True).click()
                wait_for_query(tab, images="samples")
                settle(tab)
                assert_no_error(tab, f"session {student + 2}, distance over the samples")
                wait_for_title(tab, r"6 images")


NAV = {"walkthrough": "Walk-through", "filters": "Embedding filters", "position": "Position embeddings",
       "attention": "Attention", "matrix": "Attention matrix", "distance": "Attention distance",
       "tokens": "What the tokens know", "explain": "Explanations", "compare": "Compare models", "cnn": "CNN vs ViT",
       "paper": "Paper figures",
       "facts": "Model facts"}


# ----------------------------------------------------------------------------- links and state
def test_round_trip_keeps_layer_head_and_step(server, fresh):
    tab = fresh()
    open_page(tab, server, "", "?sample=cat")
    assert step_title(tab) == "1 / 8 · Image"
    tab.get_by_role("button", name=re.compile("Next")).click()
    tab.wait_for_selector("h3:has-text('2 / 8 · Patch grid')")
    settle(tab)
    wait_for_query(tab, step=2)

    nav(tab, "Attention", MAP)
    wait_for_title(tab, r"layer 11, mean of heads")
    slider = tab.locator('[data-testid="stSlider"]').filter(has=tab.get_by_text("Layer", exact=True)) \
        .locator('input[type="range"]').first
    slider.focus()
    for _ in range(2):
        slider.press("ArrowLeft")
    wait_for_title(tab, r"layer 9, mean of heads")
    head = main_area(tab).locator('[data-testid="stSelectbox"]').filter(has=tab.get_by_text("Head", exact=True))
    head.click()
    tab.get_by_role("option", name="head 3", exact=True).click()
    wait_for_title(tab, r"layer 9, head 3")
    wait_for_query(tab, layer=9, head=3, sample="cat")
    assert_no_error(tab, "attention after layer and head")

    nav(tab, "Position embeddings")
    assert_no_error(tab, "position")
    nav(tab, "Attention", MAP)
    wait_for_title(tab, r"layer 9, head 3")
    assert slider.input_value() == "9"
    wait_for_query(tab, layer=9, head=3)
    nav(tab, "Walk-through")
    assert step_title(tab) == "2 / 8 · Patch grid"
    wait_for_query(tab, step=2, sample="cat")
    assert_no_error(tab, "walk-through after the round trip")


def test_deep_links_reproduce_the_view(server, fresh):
    """A copied link, opened in a browser that has never seen the app, shows the same view."""
    tab = fresh()
    open_page(tab, server, "attention", UNTRAINED + "&layer=2&head=1", MAP)
    assert_no_error(tab, "attention deep link")
    title = wait_for_title(tab, r"layer 2, head 1")
    assert "(untrained)" in title and "ViT-Ti" in title, title
    assert BADGE in main_area(tab).inner_text()
    wait_for_query(tab, layer=2, head=1, untrained=1, model=TINY, sample="cat")
    side = tab.locator('[data-testid="stSidebar"]')
    assert side.get_by_role("checkbox", name="Use untrained (random) weights").is_checked()
    model = side.locator('[data-testid="stSelectbox"]').first
    assert "ViT-Ti" in model.inner_text() + model.locator("input").first.input_value()
    layer = main_area(tab).locator('[data-testid="stSlider"]').filter(has=tab.get_by_text("Layer", exact=True))
    assert layer.locator('input[type="range"]').first.input_value() == "2"

    tab = fresh()
    open_page(tab, server, "", UNTRAINED + "&step=3")
    assert_no_error(tab, "walk-through deep link")
    assert step_title(tab) == "3 / 8 · Flattened patches"
    title = wait_for_title(tab, r"First 16 patches")
    assert "(untrained)" in title and "ViT-Ti" in title, title
    assert BADGE in main_area(tab).inner_text()
    wait_for_query(tab, step=3, untrained=1, model=TINY)


def test_every_page_shows_the_untrained_badge(server, fresh):
    """Opened by link with untrained=1, then every page through the sidebar: the badge is on each."""
    tab = fresh()
    open_page(tab, server, "facts", UNTRAINED, TABLE)
    for name, path, target in PAGES:
        if name != "facts":
            nav(tab, NAV[name], target, path)
        assert_no_error(tab, f"{name}, untrained")
        assert main_area(tab).get_by_text(BADGE).first.is_visible(), f"{name}: no untrained badge"
        wait_for_query(tab, untrained=1, model=TINY)


# ----------------------------------------------------------------------------- presenter mode
@pytest.mark.parametrize("name, path", [
    ("walkthrough", ""), ("attention", "attention"), ("position", "position"),
    ("distance", "distance"),
])
def test_presenter_mode_fits_the_main_figure(server, fresh, name, path):
    """On a 1280×720 projector the page's main figure is on screen without scrolling."""
    box = PRESENTER_BOXES.get(name)
    if box is None:  # this test run without the screenshot test
        tab = fresh(PRESENTER)
        open_page(tab, server, path, "?sample=cat&present=1", FIGURE)
        box = main_figure_box(tab)
    bottom, right = box["y"] + box["height"], box["x"] + box["width"]
    assert bottom <= PRESENTER["height"] + 0.5 and right <= PRESENTER["width"] + 0.5, \
        f"{name}: main figure ends at bottom {bottom:.0f}, right {right:.0f}, off the 1280×720 screen"


def test_presenter_walkthrough_steps_by_keyboard(server, fresh):
    """A presentation clicker sends PageDown / PageUp: Next / Back (the step slider's label shows the step)."""
    tab = fresh(PRESENTER)
    open_page(tab, server, "", "?sample=cat&present=1")
    step = main_area(tab).locator('[data-testid="stSlider"]').first
    assert "1. Image" in step.inner_text()
    tab.mouse.click(8, PRESENTER["height"] // 2)  # focus on the page, not in a widget: as after a click on the slide
    for key, n, expected in [("PageDown", 2, "2. Patch grid"), ("PageDown", 3, "3. Flattened patches"),
                             ("PageUp", 2, "2. Patch grid")]:
        tab.keyboard.press(key)
        step.get_by_text(expected).wait_for()
        settle(tab)
        wait_for_query(tab, step=n, present=1)
    assert_no_error(tab, "walk-through by keyboard")
    assert "2. Patch grid" in step.inner_text()


# ----------------------------------------------------------------------------- languages, phones, keyboard
PHONE = {"width": 390, "height": 844}
TABLET = {"width": 820, "height": 1180}
HANGUL = re.compile("[\uac00-\ud7a3]")
PAGE_KEYS = {"walkthrough": "walk.page"}  # else "<name>.page"


def page_title(name: str, lang: str) -> str:
    from vitviz.text.i18n import t

    return t(PAGE_KEYS.get(name, f"{name}.page"), lang=lang)


def assert_fits_the_screen(tab, where: str, target: str) -> None:
    """No sideways scrolling; the page's main figure (or table) within the width and starting on the first screen."""
    # A figure drawn wider than the screen on purpose (Paper Fig. 1, a diagram of fixed-size labels) scrolls
    # sideways in its own box: its visible part is the box's.
    facts = tab.evaluate("""sel => {
        const el = document.querySelector(sel);
        let r = el.getBoundingClientRect();
        for (let up = el.parentElement; up; up = up.parentElement) {
          if (['auto', 'scroll'].includes(getComputedStyle(up).overflowX) && up.scrollWidth > up.clientWidth) {
            const b = up.getBoundingClientRect();
            r = {left: Math.max(r.left, b.left), right: Math.min(r.right, b.right), top: r.top};
            break;
          }
        }
        return {scroll: document.documentElement.scrollWidth, width: window.innerWidth, height: window.innerHeight,
                left: r.left, right: r.right, top: r.top};
      }""", target)
    assert facts["scroll"] <= facts["width"], f"{where}: the page scrolls sideways ({facts['scroll']} px wide)"
    assert facts["left"] >= 0 and facts["right"] <= facts["width"] + 0.5, f"{where}: main figure {facts}"
    # At least 200 px of it on the first screen, under the title, the model line and compact controls.
    assert facts["top"] <= facts["height"] - 200, f"{where}: main figure starts at {facts['top']:.0f} px"


@pytest.mark.parametrize("lang, viewport, tag", [("ko", PHONE, "ko-phone"), ("en", TABLET, "tablet")])
def test_every_page_in_a_language_on_phones_and_tablets(server, fresh, lang, viewport, tag):
    """?lang=ko shows Korean on every page, no catalogue key is missing (⟦key⟧), and at phone and tablet
    size nothing scrolls sideways and the main figure fits the width and starts on the first screen."""
    from vitviz.text.i18n import MISSING

    tab = fresh(viewport)
    for name, path, target in PAGES:
        open_page(tab, server, path, f"?sample=cat&lang={lang}", target)
        assert_no_error(tab, f"{name} ({tag})")
        heading = main_area(tab).locator("h1").first.inner_text()
        assert heading.startswith(page_title(name, lang)), (name, heading)
        text = main_area(tab).inner_text() + tab.locator('[data-testid="stSidebar"]').inner_text()
        assert MISSING.split("{")[0] not in text, f"{name}: a catalogue key is missing"
        if lang == "ko":
            assert HANGUL.search(heading) and len(HANGUL.findall(text)) > 40, f"{name}: not in Korean"
            assert figure_titles(tab) == [] or any(HANGUL.search(t) for t in figure_titles(tab)), name
        assert_fits_the_screen(tab, f"{name} ({tag})", target)
        screenshot(tab, SHOTS / f"{tag}-{name}.png", True)


def test_phone_walkthrough_keeps_back_and_next_in_thumb_reach(server, fresh):
    tab = fresh(PHONE)
    open_page(tab, server, "", "?sample=cat&lang=ko")
    for _ in range(2):
        tab.mouse.wheel(0, 600)
        tab.wait_for_timeout(200)
    bar = tab.locator(".st-key-vv-stepper").bounding_box()
    assert bar["y"] + bar["height"] <= PHONE["height"] + 0.5 and bar["y"] >= PHONE["height"] - 160, bar
    tab.get_by_role("button", name=re.compile("다음")).click()
    wait_for_query(tab, step=2, lang="ko")
    assert_no_error(tab, "phone walk-through")


def test_switching_language_keeps_the_view(server, fresh):
    tab = fresh()
    open_page(tab, server, "attention", "?sample=cat&lang=ko&layer=5&head=2", MAP)
    wait_for_title(tab, r"5층, 헤드 2")
    tab.locator('[data-testid="stSidebar"]').get_by_text("English", exact=True).click()
    wait_for_title(tab, r"layer 5, head 2")
    assert main_area(tab).locator("h1").first.inner_text().startswith("Attention")
    wait_for_query(tab, layer=5, head=2, sample="cat")
    wait_for_query(tab, lang="en")  # chosen in the sidebar: it stays in the link for whoever opens it
    tab.locator('[data-testid="stSidebar"]').get_by_text("한국어", exact=True).click()
    wait_for_title(tab, r"5층, 헤드 2")
    wait_for_query(tab, lang="ko", layer=5, head=2)


def test_copy_link_puts_the_pages_url_with_its_settings_on_the_clipboard(server, fresh):
    tab = fresh(NORMAL, permissions=["clipboard-read", "clipboard-write"])
    open_page(tab, server, "attention", "?sample=coffee&layer=5", MAP)
    wait_for_query(tab, sample="coffee", layer=5)
    tab.locator('[data-testid="stSidebar"]').get_by_role("button", name="Copy link").click()
    tab.get_by_text("Link copied").wait_for()
    copied = tab.evaluate("() => navigator.clipboard.readText()")
    assert copied == tab.url and "layer=5" in copied and "sample=coffee" in copied


def test_the_browser_language_is_the_default(server, fresh):
    tab = fresh(NORMAL, locale="ko-KR")
    open_page(tab, server, "facts", "?sample=cat", TABLE)
    assert main_area(tab).locator("h1").first.inner_text().startswith(page_title("facts", "ko"))
    assert "lang" not in query_of(tab)  # nobody chose it: a link from here follows its reader's browser


def test_a_language_chosen_in_the_sidebar_travels_in_the_link(server, fresh):
    """A Korean lecturer's link opens in Korean for a student whose browser is English."""
    lecturer = fresh(NORMAL)
    open_page(lecturer, server, "facts", "?sample=cat", TABLE)
    lecturer.locator('[data-testid="stSidebar"]').get_by_text("한국어", exact=True).click()
    wait_for_query(lecturer, lang="ko")
    student = fresh(NORMAL, locale="en-US")
    open_page(student, server, "facts", "?" + urllib.parse.urlparse(lecturer.url).query, TABLE)
    assert main_area(student).locator("h1").first.inner_text().startswith(page_title("facts", "ko"))


def test_keyboard_alone_reaches_and_changes_the_attention_layer(server, fresh):
    """Tab from the top of the page to the Layer slider, then the arrow keys: the figure follows."""
    tab = fresh()
    open_page(tab, server, "attention", "?sample=cat", MAP)
    wait_for_title(tab, r"layer 11, mean of heads")
    tab.locator("body").focus()
    reached = False
    for _ in range(120):
        tab.keyboard.press("Tab")
        label = tab.evaluate("""() => {
            const s = document.activeElement && document.activeElement.closest('[data-testid="stSlider"]');
            return s ? s.innerText.split(String.fromCharCode(10))[0] : null; }""")
        if label == "Layer":
            reached = True
            break
    assert reached, "the Layer slider is not reachable with Tab"
    tab.keyboard.press("ArrowLeft")
    wait_for_title(tab, r"layer 10, mean of heads")
    wait_for_query(tab, layer=10)


def test_figures_carry_a_text_alternative(server, fresh):
    tab = fresh()
    open_page(tab, server, "attention", "?sample=cat", MAP)
    map_alts = tab.locator(MAP).evaluate_all("els => els.map(e => e.alt)")  # the maps and the heads are pictures
    assert len(map_alts) == 2, map_alts  # the attention map and the rollout
    for what, alt in zip(("Attention", "Attention rollout"), map_alts):
        assert re.search(rf"Figure: {what} · .*strongest at patch \(row \d+, column \d+\)", alt), alt
    alts = tab.locator(".vv-heads img").evaluate_all("els => els.map(e => e.alt)")
    assert len(alts) == 6 and all(re.match(rf"head {h}: The map is strongest at patch", a) for h, a in enumerate(alts))
    open_page(tab, server, "position", "?sample=cat")  # a chart's accessible name is its text alternative
    names = tab.locator('[data-testid="stPlotlyChart"]:not(.st-key-vv-plotly-preload *)').evaluate_all(
        "els => els.map(e => [e.getAttribute('role'), e.getAttribute('aria-label')])")
    assert len(names) == tab.locator(PLOT).count() >= 2
    assert all(role == "figure" and label.startswith("Figure: ") for role, label in names), names


def test_click_on_the_attention_map_makes_that_patch_the_query(server, fresh):
    tab = fresh()
    open_page(tab, server, "attention", "?sample=cat", MAP)
    wait_for_title(tab, r"query cls")
    box = tab.locator(MAP).first.bounding_box()  # 16 × 16 patches: the centre of patch (5, 7)
    x, y = box["x"] + box["width"] * 7.5 / 16, box["y"] + box["height"] * 5.5 / 16
    tab.mouse.move(x, y)
    tip = tab.locator(".vv-map-tip").first
    tip.wait_for(state="visible")
    assert re.match(r"patch \(5, 7\)\nattention \d", tip.inner_text()), tip.inner_text()
    tab.mouse.click(x, y)
    wait_for_title(tab, r"layer 11, mean of heads, query patch \(5, 7\)")
    wait_for_query(tab, query=1 + 5 * 16 + 7, sample="cat")
    picker = main_area(tab).locator('[data-testid="stSelectbox"]').filter(has=tab.get_by_text("Query token", exact=True))
    assert "patch (5, 7)" in picker.inner_text() + picker.locator("input").first.input_value()


def test_the_attention_map_answers_the_keyboard(server, fresh):
    """The map is in the Tab order; the arrow keys move a patch cursor with its read-out (a live region,
    so a screen reader says it), Enter makes that patch the query, as a click does."""
    tab = fresh()
    open_page(tab, server, "attention", "?sample=cat", MAP)
    wait_for_title(tab, r"query cls")
    picture = tab.locator(MAP).first
    assert picture.get_attribute("tabindex") == "0"
    picture.focus()
    tip = tab.locator(".vv-map-tip").first
    tip.wait_for(state="visible")
    assert tip.get_attribute("aria-live") == "polite"
    assert tip.inner_text().startswith("patch (8, 8)\nattention"), tip.inner_text()  # the centre of 16 × 16
    for key in ("ArrowUp", "ArrowUp", "ArrowUp", "ArrowLeft"):
        tab.keyboard.press(key)
    assert tip.inner_text().startswith("patch (5, 7)\nattention"), tip.inner_text()
    assert tab.locator(".vv-map-cursor").first.is_visible()
    tab.keyboard.press("Enter")
    wait_for_title(tab, r"layer 11, mean of heads, query patch \(5, 7\)")
    wait_for_query(tab, query=1 + 5 * 16 + 7, sample="cat")
    tab.keyboard.press("Escape")
    tip.wait_for(state="hidden")


# ----------------------------------------------------------------------------- clicks in figures
def test_click_on_a_position_tile_selects_it(server, fresh):
    tab = fresh()
    open_page(tab, server, "position", "?sample=cat")
    wait_for_title(tab, r"Input patch \(\d+, \d+\)", index=1)
    # The picker trace's points sit at tile centres, customdata (row, col): map tile (2, 3)'s centre
    # through the axes to the screen. (2, 3) is not the default tile (the centre).
    tab.locator(PLOT).first.scroll_into_view_if_needed()
    where = tab.locator(PLOT).first.evaluate(
        """el => {
             const trace = el._fullData.find(t => t.customdata && t.customdata.length > 4);
             const gw = Math.max(...trace.customdata.map(p => p[1])) + 1;
             const i = 2 * gw + 3;
             const xa = el._fullLayout.xaxis, ya = el._fullLayout.yaxis, box = el.getBoundingClientRect();
             return {row: trace.customdata[i][0], col: trace.customdata[i][1],
                     x: box.left + xa._offset + xa.l2p(trace.x[i]), y: box.top + ya._offset + ya.l2p(trace.y[i])};
           }""")
    assert (where["row"], where["col"]) == (2, 3)
    tab.mouse.move(where["x"] - 2, where["y"] - 2)
    tab.mouse.click(where["x"], where["y"])
    wait_for_query(tab, row=2, col=3)
    title = wait_for_title(tab, r"Input patch \(2, 3\)", index=1)
    assert title.startswith("Input patch (2, 3)")
    assert_no_error(tab, "position after a click")
    screenshot(tab, SHOTS / "position-clicked.png", True)


# ----------------------------------------------------------------------------- the offline report
def test_paper_page_downloads_an_html_file_that_renders_offline(server, fresh, tmp_path):
    tab = fresh()
    open_page(tab, server, "paper", UNTRAINED)  # the small model: the page runs it on every sample
    button = tab.get_by_role("button", name=re.compile("Download this page as one HTML file"))
    with tab.expect_download(timeout=180_000) as info:
        button.click()
    saved = tmp_path / info.value.suggested_filename
    info.value.save_as(saved)
    assert saved.suffix == ".html"
    text = saved.read_text()
    assert not re.search(r"<script[^>]+src=[\"']?(https?:)?//", text), "the report loads a script from the web"
    figures = text.count('class="plotly-graph-div"')
    assert figures >= 3

    offline = fresh()
    requests: list[str] = []
    offline.context.route(re.compile(r"^(?!file:).*"), lambda route: (requests.append(route.request.url),
                                                                     route.abort()))
    offline.context.set_offline(True)
    offline.goto(saved.as_uri())
    offline.wait_for_function(
        f"() => document.querySelectorAll('.js-plotly-plot .main-svg').length >= {figures}", timeout=60_000)
    assert offline.locator(".plotly-graph-div").count() == figures
    assert offline.locator(".js-plotly-plot").count() == figures
    assert not requests, f"the report asked the network for {requests}"
    screenshot(offline, SHOTS / "paper-report-offline.png", False)


# ----------------------------------------------------------------------------- bad input
def test_bad_upload_shows_a_message_and_the_app_recovers(server, fresh):
    tab = fresh()
    open_page(tab, server, "", "?sample=cat")
    choose_source(tab, "Upload")
    tab.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(
        files=[{"name": "holiday.jpg", "mimeType": "image/jpeg", "buffer": b"this is not a photo" * 10}])
    tab.wait_for_selector('[data-testid="stAlertContentError"]')
    assert "not an image" in tab.locator('[data-testid="stAlertContentError"]').first.inner_text()
    choose_source(tab, "Sample")
    tab.wait_for_selector(PLOT)
    settle(tab)
    assert_no_error(tab, "after returning to a sample")


def test_a_link_value_is_shown_as_text_never_as_markdown(server, fresh):
    """A stranger's link puts markdown in a value: a link to a login page, an image every visitor's browser
    would fetch, coloured text and maths. The notice shows the characters; nothing renders or is fetched."""
    tab = fresh()
    fetched: list[str] = []
    tab.on("request", lambda r: fetched.append(r.url) if r.url.startswith("http://127.0.0.1:9/") else None)
    value = "`[Click to log in](http://127.0.0.1:9/phish)` ![x](http://127.0.0.1:9/beacon.png) :red[RED] $x^2$"
    open_page(tab, server, "attention", "?sample=cat&layer=" + urllib.parse.quote(value), MAP)
    notice = tab.locator('[data-testid="stAlertContainer"]').filter(has_text="not valid here")
    notice.first.wait_for()
    assert notice.count() == 1
    box = notice.first
    assert box.locator("a, img, .katex, span[style*=color]").count() == 0, box.inner_html()
    text = box.inner_text()
    assert "[Click to log in](http://127.0.0.1:9/phish)" in text and ":red[RED]" in text and "$x^2$" in text, text
    assert "layer=11" in text  # what is shown instead
    tab.wait_for_timeout(500)
    assert not fetched, fetched


def test_after_a_server_restart_the_page_says_the_upload_is_gone_and_keeps_its_settings(weights_dir, tmp_path, fresh):
    """The server restarts under an open page: a slider (inside a fragment) must still do something — the
    page runs again, says the upload was lost, and keeps the layer from its URL."""
    port = free_port()
    first, url = start_server_on(weights_dir, tmp_path / "first.log", port)
    tab = fresh(NORMAL)
    open_page(tab, url, "attention", "?sample=cat&layer=4", MAP)
    choose_source(tab, "Upload")
    tab.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(SAMPLES / "rocket.jpg"))
    tab.wait_for_selector(MAP)
    settle(tab)
    wait_for_query(tab, image="upload", layer=4)
    stop_server(first)
    second, _ = start_server_on(weights_dir, tmp_path / "second.log", port)
    try:
        tab.wait_for_timeout(4000)  # the browser reconnects by itself
        slider = main_area(tab).locator('[data-testid="stSlider"]').filter(
            has=tab.get_by_text("Layer", exact=True)).locator('input[type="range"]').first
        slider.focus()
        slider.press("ArrowLeft")
        try:
            tab.get_by_text("The uploaded image is gone").first.wait_for(timeout=60_000)
        except Exception:
            tab.screenshot(path=str(SHOTS / "restart-failure.png"))
            print((tmp_path / "second.log").read_text()[-3000:])  # the server's side of it
            raise
        assert query_of(tab).get("layer") in ("3", "4")  # the link's layer, or the step the slider took
        assert tab.locator('[data-testid="stSidebar"]').get_by_role("radio", name="Upload").is_checked()
    finally:
        stop_server(second)


# ----------------------------------------------------------------------------- a classroom
SESSIONS = 8
RSS_BOUND_MIB = 2048
PLOT_OR_ERROR = f"{PLOT}, {ERROR}"
NO_STATUS_WIDGET = """() => !document.querySelector('[data-testid="stStatusWidget"]')"""


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def classroom_images() -> list[bytes]:
    """Eight different photos: the samples, and mirrored copies of two of them."""
    import io

    from PIL import Image, ImageOps

    photos = [Image.open(p).convert("RGB") for p in sorted(SAMPLES.glob("*.jpg"))]
    photos += [ImageOps.mirror(photos[0]), ImageOps.mirror(photos[1])]
    out = []
    for photo in photos[:SESSIONS]:
        buf = io.BytesIO()
        photo.save(buf, "PNG")
        out.append(buf.getvalue())
    return out


@pytest.fixture()
def class_server(weights_dir, tmp_path):
    """A fresh server for the classroom, so its memory figure is the classroom's own.

    MALLOC_ARENA_MAX=2 as the README recommends for a class server: glibc otherwise gives every
    busy thread its own heap arena, and eight sessions' threads fragment memory.
    """
    proc, url = start_server(weights_dir, tmp_path / "streamlit.log", {"MALLOC_ARENA_MAX": "2"})
    yield url
    stop_server(proc)


def test_eight_concurrent_sessions_never_see_each_other(class_server, capsys):
    server = class_server
    import asyncio
    import hashlib
    import threading

    from playwright.async_api import async_playwright

    images = classroom_images()
    ids = [hashlib.sha256(data).hexdigest()[:10] for data in images]
    assert len(set(ids)) == SESSIONS
    pid = SERVER_PIDS[server]
    peak = {"rss": rss_mib(pid)}
    stop = threading.Event()

    def watch():
        while not stop.is_set():
            peak["rss"] = max(peak["rss"], rss_mib(pid))
            stop.wait(0.25)

    async def student(browser, i):
        ctx = await browser.new_context(viewport={"width": 1300, "height": 1000})
        tab = await ctx.new_page()
        tab.set_default_timeout(180_000)
        side = tab.locator('[data-testid="stSidebar"]')

        async def settle():
            await tab.wait_for_timeout(300)
            await tab.wait_for_function(NO_STATUS_WIDGET, timeout=180_000)

        async def check(where):
            await settle()
            errors = tab.locator(ERROR)
            assert await errors.count() == 0, f"session {i}, {where}: {await errors.first.inner_text()}"
            await tab.wait_for_selector(f"text={ids[i]}")  # its own image ...
            for j, other in enumerate(ids):  # ... and nobody else's
                if j != i:
                    assert await tab.get_by_text(other).count() == 0, f"session {i} shows session {j}'s image"

        await tab.goto(f"{server}/")
        await tab.wait_for_selector(PLOT)
        await settle()
        if await tab.get_by_text("Page not found").count():
            NOT_FOUND_SEEN.append(f"classroom {i}: /")
            await tab.reload()
            await tab.wait_for_selector(PLOT)
        await side.get_by_text("Upload", exact=True).click()
        await settle()
        await tab.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(
            files=[{"name": f"student{i}.png", "mimeType": "image/png", "buffer": images[i]}])
        try:
            await tab.wait_for_selector(f"text={ids[i]}", timeout=120_000)
        except Exception:
            await tab.screenshot(path=str(SHOTS / f"classroom-{i}-stuck.png"), full_page=True)
            raise
        await tab.wait_for_selector(PLOT_OR_ERROR)
        await check("after upload")
        if i % 2:  # half the class switches to another model (untrained ViT-Ti here, offline)
            await side.locator('[data-testid="stSelectbox"]').first.click()
            await tab.get_by_role("option", name=re.compile("ViT-Ti")).click()
            await settle()
            await side.get_by_text("Use untrained (random) weights").click()
            await tab.wait_for_selector(PLOT_OR_ERROR)
            await check("after switching model")
        for title, target in [("Attention", MAP), ("Attention distance", PLOT), ("Model facts", TABLE),
                              ("Walk-through", PLOT)]:
            await side.locator('[data-testid="stSidebarNav"]').get_by_role(
                "link", name=re.compile(re.escape(title) + "$")).click()
            await tab.wait_for_selector(f"{target}, {ERROR}")
            await check(title)
        await ctx.close()

    async def guarded_student(browser, i):
        try:
            await student(browser, i)
        except Exception as exc:
            for n, ctx in enumerate(browser.contexts):
                for tab in ctx.pages:
                    await tab.screenshot(path=str(SHOTS / f"classroom-failure-{i}-{n}.png"), full_page=True)
            raise AssertionError(f"session {i}: {exc}") from exc

    async def classroom():
        async with async_playwright() as p:
            browser = await p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
            try:
                await asyncio.gather(*(guarded_student(browser, i) for i in range(SESSIONS)))
            finally:
                await browser.close()

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    start = time.monotonic()
    failure: list[BaseException] = []

    def run_classroom():  # its own thread: the sync Playwright of other tests may own this thread's loop
        try:
            asyncio.run(classroom())
        except BaseException as exc:  # re-raised in the test below
            failure.append(exc)

    runner = threading.Thread(target=run_classroom)
    runner.start()
    runner.join()
    stop.set()
    watcher.join()
    if failure:
        raise failure[0]
    elapsed = time.monotonic() - start
    with capsys.disabled():
        print(f"\n[classroom] {SESSIONS} concurrent sessions in {elapsed:.0f} s; server peak RSS "
              f"{peak['rss']:.0f} MiB (bound {RSS_BOUND_MIB} MiB), now {rss_mib(pid):.0f} MiB")
    assert peak["rss"] < RSS_BOUND_MIB
