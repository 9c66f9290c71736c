"""The browser tests' harness (conftest imports its fixtures, so every test module has them): Debian's
chromium, ``streamlit run app/serve.py`` on a free localhost port, and the fixtures ``server`` (one server per
test module), ``browser`` (one chromium per module) and ``fresh`` (a tab in a new browser context per call)."""
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
SHOTS = REPO / "artifacts" / "screenshots"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-sync",
                 "--disable-background-networking", "--disable-component-update"]
PRESENTER = {"width": 1280, "height": 720}
NORMAL = {"width": 1440, "height": 900}
SERVER_PIDS: dict[str, int] = {}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(weights_dir, log: Path, extra_env: dict | None = None):
    """`streamlit run app/serve.py` (README's command) on a free localhost port; returns (process, url) once it
    answers its health check."""
    return start_server_on(weights_dir, log, free_port(), extra_env)


def start_server_on(weights_dir, log: Path, port: int, extra_env: dict | None = None):
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is missing: apt-get install chromium (.ci/run does this)")
    env = {**os.environ, "VITVIZ_WEIGHTS_DIR": str(weights_dir), "HF_HUB_OFFLINE": "1", **(extra_env or {})}
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app/serve.py", "--server.port", str(port),
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
def browser(server):
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture()
def fresh(browser):
    """``fresh(viewport)``: a tab in a new browser context (no cookies, no session), closed after the test."""
    contexts = []

    def make(viewport=NORMAL, **kwargs):
        ctx = browser.new_context(viewport=viewport, **kwargs)
        contexts.append(ctx)
        tab = ctx.new_page()
        tab.set_default_timeout(90_000)
        return tab

    yield make
    for ctx in contexts:
        ctx.close()
