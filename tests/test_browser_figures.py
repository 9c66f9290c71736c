"""Figures as a lecturer and students see them in Chromium: on a projector (1280×720, presenter mode), at
1440 px, on a phone (390×844), in English and Korean, and the Paper page's HTML export opened on its own.

One server for the module (as tests/test_browser.py); screenshots go to artifacts/screenshots/figures-*.png.
"""
import json
import re

import pytest

from test_browser import (MAP, NORMAL, PLOT, PRESENTER, SHOTS, assert_no_error,
                          main_area, open_page, screenshot, settle)

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}
DINOV2_FILE = "vit_small_patch14_dinov2.imgfocus.safetensors"


def boxes(tab, selector: str) -> list[dict]:
    """Bounding boxes of every visible element matching ``selector`` in the main area."""
    return tab.locator(f'[data-testid="stMain"] :is({selector})').evaluate_all(
        """els => els.map(e => e.getBoundingClientRect()).filter(r => r.width > 0 && r.height > 0)
                    .map(r => ({top: r.top, bottom: r.bottom, left: r.left, right: r.right, width: r.width}))""")


def titles_inside_their_charts(tab) -> list[str]:
    """Each plotly chart's title lines that run past the chart's left or right edge (clipped), as text."""
    return tab.locator(PLOT).evaluate_all("""els => els.flatMap(el => {
        const box = el.getBoundingClientRect();
        return [...el.querySelectorAll('.gtitle tspan.line, .gtitle')].filter(t => {
          const r = t.getBoundingClientRect();
          return r.width > 0 && (r.left < box.left - 1 || r.right > box.right + 1 || r.top < box.top - 1);
        }).map(t => t.textContent);
      })""")


# ----------------------------------------------------------------------------- the projector
@pytest.mark.parametrize("name, path, query, selector", [
    ("paper", "paper", "", PLOT),
    ("compare", "compare", "", ".vv-map"),
    ("matrix", "matrix", "", "iframe"),
    ("walkthrough-3", "", "&step=3", PLOT),
])
def test_presenter_mode_fits_each_main_figure_without_streamlit_chrome(server, fresh, name, path, query, selector):
    tab = fresh(PRESENTER)
    open_page(tab, server, path, "?sample=cat&present=1" + query, selector)
    assert_no_error(tab, name)
    shown = boxes(tab, selector)
    if name == "paper":
        shown = shown[:1]  # Fig. 1 opens the page; the others follow below
    assert shown, f"{name}: no figure"
    for box in shown:
        assert box["bottom"] <= PRESENTER["height"] + 0.5 and box["right"] <= PRESENTER["width"] + 0.5, (name, box)
    # No Deploy button and no ⋮ menu on the projector; the sidebar's » stays (presenter mode is switched there).
    for chrome in ('[data-testid="stAppDeployButton"]', '[data-testid="stMainMenu"]'):
        assert not any(el.is_visible() for el in tab.locator(chrome).all()), f"{name}: {chrome} is shown"
    assert tab.locator('[data-testid="stExpandSidebarButton"]').first.is_visible()
    screenshot(tab, SHOTS / f"figures-present-{name}.png", False)


# ----------------------------------------------------------------------------- titles at 1440 px
@pytest.mark.parametrize("lang", ["en", "ko"])
def test_figure_titles_wrap_instead_of_running_off_the_figure(server, fresh, lang):
    tab = fresh(NORMAL)
    open_page(tab, server, "paper", f"?sample=cat&lang={lang}")
    assert_no_error(tab, f"paper ({lang})")
    lines = tab.locator(PLOT).first.locator(".gtitle tspan.line")
    assert lines.count() >= 2  # Fig. 1's title, ending "… D = 384, 6 heads", wraps
    assert lines.last.text_content().rstrip().endswith("6 heads" if lang == "en" else "헤드 6개")
    assert titles_inside_their_charts(tab) == []
    screenshot(tab, SHOTS / f"figures-paper-{lang}.png", True)
    open_page(tab, server, "cnn", f"?sample=cat&lang={lang}", ".vv-heads img")
    assert_no_error(tab, f"cnn ({lang})")
    assert titles_inside_their_charts(tab) == []  # the effective-RF title in half the page


# ----------------------------------------------------------------------------- phones
def test_phone_fig1_position_grid_and_toolbar(server, fresh):
    tab = fresh(PHONE)
    open_page(tab, server, "paper", "?sample=cat&lang=ko")
    fig1 = tab.locator(".st-key-vv-paper-fig1")
    facts = fig1.evaluate("""el => ({scroll: el.scrollWidth, client: el.clientWidth,
                                      drawn: el.querySelector('.js-plotly-plot')._fullLayout.width,
                                      page: document.documentElement.scrollWidth})""")
    # Fig. 1 is drawn at its own width and scrolls sideways in its box; the page itself does not.
    assert facts["drawn"] >= 870 and facts["scroll"] > facts["client"] and facts["page"] <= PHONE["width"], facts
    screenshot(tab, SHOTS / "figures-phone-paper.png", False)

    open_page(tab, server, "position", "?sample=cat&lang=ko")
    grid = tab.locator(PLOT).first.locator(".nsewdrag").first.bounding_box()
    assert grid["width"] >= 250 and grid["height"] >= 250, grid  # was ~180 px beside a 110 px colour-bar margin
    chart = tab.locator('[data-testid="stFullScreenFrame"]').filter(has=tab.locator(".nsewdrag")).first.bounding_box()
    assert chart["y"] + chart["height"] - (grid["y"] + grid["height"]) < 110  # no empty band under the grid
    screenshot(tab, SHOTS / "figures-phone-position.png", False)

    # Plotly's toolbar sits in its own strip above the chart, not over the title.
    plot = tab.locator(PLOT).first
    plot.hover()
    bar = plot.locator(".modebar-container").bounding_box()
    title = plot.locator(".gtitle").bounding_box()
    assert bar["y"] + bar["height"] <= title["y"] + 1, (bar, title)
    # ... and the strip takes no room from the chart: each chart ends inside its element (the next one's top).
    open_page(tab, server, "distance", "?sample=cat&lang=ko")
    overrun = tab.locator(PLOT).evaluate_all("""els => els.map(el => {
        const frame = el.closest('[data-testid="stFullScreenFrame"]'), box = el.closest('[data-testid="stElementContainer"]');
        return frame.getBoundingClientRect().bottom - box.getBoundingClientRect().bottom; })""")
    assert all(px <= 1 for px in overrun), overrun


def test_a_tap_on_the_map_leaves_no_stale_readout(server, fresh):
    tab = fresh(PHONE, has_touch=True, is_mobile=True)
    open_page(tab, server, "attention", "?sample=cat", MAP)
    picture = tab.locator(MAP).first
    box = picture.bounding_box()
    tip = tab.locator(".vv-map-tip").first
    tab.touchscreen.tap(box["x"] + box["width"] * 0.1, box["y"] + box["height"] * 0.1)  # patch (1, 1) of 16 × 16
    if tip.is_visible():  # the read-out names the tapped patch, not the centre an earlier cursor had
        assert tip.inner_text().startswith("patch (1, 1)"), tip.inner_text()
    settle(tab)
    tab.wait_for_timeout(3000)
    assert not tip.is_visible(), tip.inner_text()
    assert_no_error(tab, "attention after a tap")


# ----------------------------------------------------------------------------- the exported page
def _figures(html_text: str) -> list[dict]:
    out = []
    for match in re.finditer(r'Plotly\.newPlot\(\s*"[^"]+",\s*', html_text):
        decoder = json.JSONDecoder()
        data, end = decoder.raw_decode(html_text, match.end())
        layout, _ = decoder.raw_decode(html_text[end:].lstrip().lstrip(",").lstrip())
        out.append({"data": data, "layout": layout})
    return out


def test_paper_export_has_coloured_series_whole_axis_numbers_and_no_server_path(server, fresh, tmp_path):
    tab = fresh()
    open_page(tab, server, "paper", "?sample=cat")
    with tab.expect_download(timeout=180_000) as info:
        tab.get_by_role("button", name=re.compile("Download this page as one HTML file")).click()
    saved = tmp_path / info.value.suggested_filename
    info.value.save_as(saved)
    text = saved.read_text(encoding="utf-8")
    assert DINOV2_FILE in text and "/shared/weights" not in text and "local:/" not in text
    figures = _figures(text)
    bars = [f for f in figures if f["data"] and all(trace["type"] == "bar" for trace in f["data"])]
    assert len(bars) == 1
    colours = [trace["marker"]["color"] for trace in bars[0]["data"]]
    assert len(colours) == 5 and len(set(colours)) == 5 and not any(c.startswith("#0000") for c in colours), colours
    assert "#000001" not in text  # no placeholder colour of Streamlit's template

    page = fresh()
    page.goto(saved.as_uri())
    page.wait_for_function(f"() => document.querySelectorAll('.js-plotly-plot .main-svg').length >= {len(figures)}",
                           timeout=60_000)
    page.wait_for_timeout(500)
    for anchor in ("table2-chart", "fig5"):
        chart = page.locator(f"#{anchor} .js-plotly-plot")
        chart.scroll_into_view_if_needed()
        left = chart.bounding_box()["x"]
        ticks = chart.locator(".ytick text")
        numbers = [t.strip() for t in ticks.all_text_contents()]
        assert "100" in numbers or anchor == "fig5", numbers  # whole numbers, "100" not "00"
        assert all(box["x"] >= left for box in (ticks.nth(i).bounding_box() for i in range(ticks.count())))
        title = chart.locator(".ytitle").bounding_box()
        tick_left = min(ticks.nth(i).bounding_box()["x"] for i in range(ticks.count()))
        assert title["x"] >= left and title["x"] + title["width"] <= tick_left, anchor  # the title clear of them
        screenshot(page, SHOTS / f"figures-export-{anchor}.png", False)
    lines = page.locator("#fig7-left .gtitle tspan.line")
    image = page.locator("#fig7-left svg image").first.bounding_box()
    assert lines.last.bounding_box()["y"] + lines.last.bounding_box()["height"] <= image["y"] + 1


def test_model_facts_name_the_weights_file_not_the_server_folder(server, fresh):
    tab = fresh()
    open_page(tab, server, "facts", "?sample=cat", '[data-testid="stDataFrame"]')
    text = main_area(tab).inner_text()
    assert f"local: {DINOV2_FILE}" in text and "/shared/weights" not in text, text[:600]
