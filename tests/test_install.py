"""`pip install` gives the library, the CLI, the samples and the dashboard, usable from any directory.

The wheel is built from this checkout and installed into a fresh virtual environment outside it; the
dependencies (torch, timm, streamlit …) come from this environment's site-packages through a ``.pth``
line, so nothing is downloaded, while ``vitviz`` and ``vitviz_dashboard`` can only come from the wheel.
"""
import os
import subprocess
import sys
import time
import urllib.request
import zipfile
from pathlib import Path

import pytest

from conftest import REPO
from test_browser import CHROMIUM, CHROMIUM_ARGS, free_port

REAL = "vit_small_patch14_dinov2.imgfocus"


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(the wheel, the fresh environment's bin folder, a working directory outside the repository)."""
    root = tmp_path_factory.mktemp("install")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(root / "dist"), str(REPO)],
                   check=True, capture_output=True, cwd=root)
    wheel = next((root / "dist").glob("vitviz-*.whl"))
    env_dir = root / "env"
    subprocess.run([sys.executable, "-m", "venv", str(env_dir)], check=True)
    py = env_dir / "bin" / "python"
    site = subprocess.run([py, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          check=True, capture_output=True, text=True).stdout.strip()
    deps = [p for p in sys.path if p.endswith("site-packages") and Path(p).is_dir()]
    Path(site, "vitviz_test_deps.pth").write_text("\n".join(deps) + "\n")
    subprocess.run([py, "-m", "pip", "install", "-q", "--no-deps", str(wheel)], check=True, capture_output=True)
    elsewhere = root / "elsewhere"
    elsewhere.mkdir()
    return wheel, env_dir / "bin", elsewhere


def clean_env(weights_dir) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return {**env, "VITVIZ_WEIGHTS_DIR": str(weights_dir), "HF_HUB_OFFLINE": "1"}


def test_the_wheel_holds_the_library_the_samples_and_the_dashboard(installed):
    wheel, _, _ = installed
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {"vitviz/cli/main.py", "vitviz/samples/cat.jpg", "vitviz/samples/README.md", "vitviz_dashboard/serve.py",
            "vitviz_dashboard/vitviz_app.py", "vitviz_dashboard/views/attention.py",
            "vitviz_dashboard/config.toml", "vitviz/text/locales/imagenet_ko.txt", "vitviz/text/locales/README.md",
            "vitviz/text/locales/en/LC_MESSAGES/vitviz.po", "vitviz/text/locales/ko/LC_MESSAGES/vitviz.po",
            "vitviz/text/locales/vitviz.pot"} <= names
    assert not any(n.startswith(("tests/", "bench/", "app/")) for n in names)


def test_the_installed_cli_runs_paper_on_the_bundled_samples_from_another_directory(installed, weights_dir):
    _, bin_dir, elsewhere = installed
    where = subprocess.run([bin_dir / "python", "-c", "import vitviz, vitviz_dashboard; print(vitviz.__file__); "
                            "print(vitviz_dashboard.__file__)"], cwd=elsewhere, check=True, capture_output=True,
                           text=True, env=clean_env(weights_dir)).stdout.split()
    assert all(str(bin_dir.parent) in p for p in where), where  # the wheel's copy, not the checkout
    out = elsewhere / "paper-out"
    run = subprocess.run([bin_dir / "vitviz", "paper", "--model", REAL, "--out", str(out)], cwd=elsewhere,
                         capture_output=True, text=True, env=clean_env(weights_dir), timeout=600)
    assert run.returncode == 0, run.stderr[-2000:]
    report = next(out.rglob("*.html")).read_text(encoding="utf-8")
    for sample in ("astronaut", "cat", "coffee", "flower", "rocket", "temple"):
        assert sample in report


@pytest.mark.browser
def test_vitviz_serve_from_another_directory_renders_the_attention_page(installed, weights_dir, tmp_path):
    from playwright.sync_api import sync_playwright

    _, bin_dir, elsewhere = installed
    port = free_port()
    log = tmp_path / "serve.log"
    with open(log, "w") as out:
        proc = subprocess.Popen([bin_dir / "vitviz", "serve", "--server.port", str(port), "--server.address",
                                 "127.0.0.1"], cwd=elsewhere, env=clean_env(weights_dir), stdout=out,
                                stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                    break
            except OSError:
                time.sleep(0.5)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
            tab = browser.new_page(viewport={"width": 1440, "height": 900})
            tab.goto(f"{url}/attention?sample=cat")
            tab.wait_for_selector(".vv-map-img", timeout=120_000)
            assert tab.locator("h1").first.inner_text().startswith("Attention")
            assert tab.locator('[data-testid="stAlertContentError"], [data-testid="stException"]').count() == 0
            browser.close()
        text = log.read_text()
        assert "vitviz: warmed up" in text  # the package's server script with its warm-up
    finally:
        proc.terminate()
        proc.wait(timeout=15)
    # the package's config.toml reached Streamlit (no file watcher; the upload limit)
    assert "Watching" not in text
