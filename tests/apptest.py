"""Helpers shared by the AppTest files: start the dashboard on a link, switch pages, read figures back.

The app caches attention as float16 (display maps), so maps computed from it agree with float32 to
~1e-3 relative: compare with :data:`F16`.
"""
import base64
import json

import numpy as np
from streamlit.testing.v1 import AppTest

from conftest import REPO

APP = str(REPO / "app" / "vitviz_app.py")  # AppTest.from_file needs an absolute path
REAL = "vit_small_patch14_dinov2.imgfocus"
TINY = "vit_tiny_patch16_224.augreg_in21k_ft_in1k"
CNN = "mobilenetv2_100.tv_in1k_int8"
F16 = dict(rtol=2e-3, atol=3e-5)  # maps computed from the cache's float16 attention (subnormal below 6e-5)


def new_app(weights_dir, monkeypatch, **query) -> AppTest:
    """The dashboard opened on a link (``sample=cat`` unless given), offline, after its first run."""
    monkeypatch.setenv("VITVIZ_WEIGHTS_DIR", str(weights_dir))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    at = AppTest.from_file(APP, default_timeout=180)
    for key, value in {"sample": "cat", **query}.items():
        at.query_params[key] = value
    at.run()
    assert not at.exception, at.exception
    return at


def open_page(at: AppTest, name: str) -> AppTest:
    at.switch_page(f"views/{name}.py").run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    return at


PRELOAD_CHART = "vv_plotly_preload_chart"  # frame.preload_plotly: hidden, empty, first run only


def figures(at: AppTest) -> list[dict]:
    """The page's plotly figures (not the hidden chart that starts the browser loading plotly)."""
    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")
            if not chart.proto.id.endswith(PRELOAD_CHART)]


def map_components(at: AppTest) -> list:
    """The page's map components (app/map_view.py), not the sidebar's Copy link button (app/copy_link.py)."""
    return [c for c in at.get("bidi_component") if not c.proto.id.endswith("vv-copy-link")]


def map_data(at: AppTest, key: str = "attention-map") -> dict:
    """What a map component (``key``) shows: picture, values, title … (see app/map_view.py)."""
    return json.loads(next(c for c in at.get("bidi_component") if c.proto.id.endswith(key)).proto.json)


def heads_html_of(at: AppTest) -> str:
    """The Attention page's heads figure (HTML, see vitviz.figures.map_pictures.heads_html)."""
    return next(h.proto.body for h in at.get("html") if 'class="vv-heads"' in h.proto.body)


def arr(value) -> np.ndarray:
    """Plotly ≥ 6 sends numeric arrays as base64 typed arrays ({"dtype", "bdata", "shape"})."""
    if isinstance(value, dict) and "bdata" in value:
        out = np.frombuffer(base64.b64decode(value["bdata"]), dtype=np.dtype(value["dtype"]))
        shape = value.get("shape")
        return out.reshape([int(n) for n in str(shape).split(",")]) if shape else out
    return np.array(value, dtype=float)


def heatmap(fig: dict) -> np.ndarray:
    return arr(next(t for t in fig["data"] if t["type"] == "heatmap")["z"])


def title_of(fig: dict) -> str:
    return (fig["layout"].get("title") or {}).get("text") or ""
