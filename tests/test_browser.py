"""End to end in a real browser: `streamlit run` on localhost, driven by Playwright in Debian's chromium.

Screenshots go to artifacts/screenshots/ (git-ignored) for CI to keep.
"""
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from conftest import REPO, SAMPLES

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = REPO / "artifacts" / "screenshots"
PAGES = ["walkthrough", "filters", "position", "attention", "distance", "facts"]
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-sync",
                 "--disable-background-networking", "--disable-component-update"]

pytestmark = pytest.mark.browser
SERVER_PIDS: dict[str, int] = {}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(weights_dir, log: Path, extra_env: dict | None = None):
    """`streamlit run` on a free localhost port; returns (process, url) once it answers its health check."""
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is missing: apt-get install chromium (.ci/run does this)")
    port = free_port()
    env = {**os.environ, "VITVIZ_WEIGHTS_DIR": str(weights_dir), "HF_HUB_OFFLINE": "1", **(extra_env or {})}
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app/vitviz_app.py", "--server.port", str(port),
             "--server.address", "127.0.0.1", "--server.headless", "true"],
            cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    SERVER_PIDS[url] = proc.pid
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                return proc, url
        except OSError:
            time.sleep(0.5)
    stop_server(proc)
    pytest.fail(f"streamlit did not start:\n{log.read_text()[-2000:]}")


def stop_server(proc) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(scope="module")
def server(weights_dir, tmp_path_factory):
    proc, url = start_server(weights_dir, tmp_path_factory.mktemp("server") / "streamlit.log")
    yield url
    stop_server(proc)


@pytest.fixture(scope="module")
def page(server):
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        tab = browser.new_page(viewport={"width": 1400, "height": 1100})
        tab.set_default_timeout(90_000)
        yield tab
        browser.close()


def settle(tab) -> None:
    """Wait until Streamlit has finished the current run."""
    tab.wait_for_timeout(300)
    tab.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=90_000)


def open_page(tab, server: str, name: str, query: str = "", target: str = ".js-plotly-plot") -> None:
    """Open a page by URL, as a shared link would.

    Streamlit can answer the first deep link into a fresh st.navigation app with a spurious
    "Page not found" dialog (streamlit/streamlit#9992); a reload then opens the page, as it would
    for a user.
    """
    tab.goto(f"{server}/{name}{query}")
    tab.wait_for_selector(target)
    settle(tab)
    if tab.get_by_text("Page not found").count():
        tab.reload()
        tab.wait_for_selector(target)
        settle(tab)
    assert tab.get_by_text("Page not found").count() == 0


def choose_source(tab, source: str) -> None:
    settle(tab)
    tab.locator('[data-testid="stSidebar"]').get_by_text(source, exact=True).click()
    settle(tab)


def assert_no_error(tab, where: str) -> None:
    errors = tab.locator('[data-testid="stException"], [data-testid="stAlertContentError"]')
    assert errors.count() == 0, f"{where}: {errors.first.inner_text()}"


def test_every_page_renders_its_plots(server, page):
    for name in PAGES:
        target = '[data-testid="stDataFrame"]' if name == "facts" else ".js-plotly-plot"
        open_page(page, server, name, "?sample=cat", target)
        assert_no_error(page, name)
        picker = page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').filter(has_text="Sample image")
        assert "cat" in picker.inner_text() + picker.locator("input").first.input_value()  # deep link
        if name != "facts":
            assert page.locator(".js-plotly-plot").count() >= 1
        page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_cnn_page_with_untrained_weights(server, page):
    open_page(page, server, "cnn", "?sample=cat", target='[data-testid="stAlertContentWarning"]')
    page.get_by_text("Use untrained (random) CNN weights").click()
    page.wait_for_selector(".js-plotly-plot")
    settle(page)
    assert_no_error(page, "cnn")
    assert page.locator(".js-plotly-plot").count() >= 4
    page.screenshot(path=str(SHOTS / "cnn.png"), full_page=True)


def test_upload_and_slider_change_the_view(server, page):
    open_page(page, server, "attention")
    choose_source(page, "Upload")
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(SAMPLES / "rocket.jpg"))
    page.wait_for_selector(".js-plotly-plot")
    settle(page)
    assert_no_error(page, "attention after upload")
    page.wait_for_selector("text=layer 11, mean of heads")
    thumb = page.locator('[data-testid="stSlider"]').filter(has=page.get_by_text("Layer", exact=True)) \
        .locator('input[type="range"]').first
    thumb.focus()
    for _ in range(3):
        thumb.press("ArrowLeft")
    page.wait_for_selector("text=layer 8, mean of heads")
    settle(page)
    assert_no_error(page, "attention after slider")
    # Click a patch of the image: it becomes the query token.
    box = page.locator(".js-plotly-plot").first.locator(".nsewdrag").first.bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.4)
    page.wait_for_selector("text=/query patch \\(\\d+, \\d+\\)/")
    settle(page)
    assert_no_error(page, "attention after clicking a patch")
    page.screenshot(path=str(SHOTS / "attention-upload-layer8.png"), full_page=True)


def test_bad_upload_shows_a_message_and_the_app_recovers(server, page):
    open_page(page, server, "walkthrough")
    choose_source(page, "Upload")
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(
        files=[{"name": "holiday.jpg", "mimeType": "image/jpeg", "buffer": b"this is not a photo" * 10}])
    page.wait_for_selector('[data-testid="stAlertContentError"]')
    assert "not an image" in page.locator('[data-testid="stAlertContentError"]').first.inner_text()
    page.screenshot(path=str(SHOTS / "bad-upload.png"), full_page=True)
    choose_source(page, "Sample")
    page.wait_for_selector(".js-plotly-plot")
    settle(page)
    assert_no_error(page, "after returning to a sample")


# ----------------------------------------------------------------------------- a classroom
SESSIONS = 8
RSS_BOUND_MIB = 2048
ERROR = '[data-testid="stException"], [data-testid="stAlertContentError"]'
PLOT_OR_ERROR = f".js-plotly-plot, {ERROR}"
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
            errors = tab.locator('[data-testid="stException"], [data-testid="stAlertContentError"]')
            assert await errors.count() == 0, f"session {i}, {where}: {await errors.first.inner_text()}"
            await tab.wait_for_selector(f"text={ids[i]}")  # its own image ...
            for j, other in enumerate(ids):  # ... and nobody else's
                if j != i:
                    assert await tab.get_by_text(other).count() == 0, f"session {i} shows session {j}'s image"

        await tab.goto(f"{server}/walkthrough")
        await tab.wait_for_selector(".js-plotly-plot")
        await settle()
        if await tab.get_by_text("Page not found").count():
            await tab.reload()
            await tab.wait_for_selector(".js-plotly-plot")
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
        for title, target in [("Attention", ".js-plotly-plot"), ("Attention distance", ".js-plotly-plot"),
                              ("Model facts", '[data-testid="stDataFrame"]'), ("Walk-through", ".js-plotly-plot")]:
            await side.get_by_role("link", name=re.compile(title + "$")).click()
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
