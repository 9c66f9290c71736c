"""The full token × token attention matrix of one layer and head as one linked, self-contained HTML view.

Numpy in, bytes or an HTML string out; no Streamlit here (the dashboard's Matrix page shows the string
in an iframe, a notebook can ``IPython.display.HTML`` it, a script can write it to a file).

Why not a heatmap: a plotly heatmap of a ``T × T`` matrix sends every value as JSON plus per-cell hover
data, and browsers run out of memory from about 257 tokens (DINOv2 ViT-S/14 at 224 px, 1 + 16×16). Here
the matrix travels as one PNG of ``T × T`` pixels (viridis, drawn nearest-neighbour into a canvas) and
its values as one base64 float16 array for the hover readout: 1370 tokens (518 px) are 3.75 MB of values
and one image, and the browser holds one decoded bitmap, not a plot.

Conventions: row ``q`` is the query token, column ``k`` the key token, ``matrix[q, k]`` the share of
q's attention on k (rows of a single head sum to 1). Tokens are timm's order — prefix tokens (``cls``,
``dist``, ``reg0`` …) then patches row-major — named by :func:`token_names`. The colour scale is
:data:`vitviz.figures.plots.SEQUENTIAL` (viridis) over ``[0, max]`` (linear) or over ``[max·10^−decades, max]``
in log10 (log; smaller values take the lowest colour) — see :func:`colour_scale`.
"""
from __future__ import annotations

import base64
import html
import io
import json
from dataclasses import asdict, dataclass
from typing import Optional, Sequence, Union

import numpy as np

from vitviz.figures.plots import HIGHLIGHT, MARK, SEQUENTIAL, colour_lut, photo

LOG_DECADES = 5  # log scale: max·1e-5 … max; DINOv2 ViT-S/14 layer 11: ~2 % of the entries lie below


def token_names(prefix_names: Sequence[str], grid: Sequence[int]) -> list[str]:
    """Names of the ``T`` tokens in sequence order: the prefix tokens, then ``"(row, col)"`` row-major.

    ``token_names(("cls", "reg0"), (2, 3))`` gives
    ``["cls", "reg0", "(0, 0)", "(0, 1)", "(0, 2)", "(1, 0)", "(1, 1)", "(1, 2)"]``.
    """
    gh, gw = int(grid[0]), int(grid[1])
    return [*map(str, prefix_names), *(f"({r}, {c})" for r in range(gh) for c in range(gw))]


def layer_matrix(attn: np.ndarray, layer: int, head: Optional[int] = None) -> np.ndarray:
    """``(T, T)`` float32 attention of one layer: head ``head``, or the mean over heads when None.

    ``attn`` is one image's ``(layers, heads, T, T)`` (float16 from the app's cache is widened here).
    """
    attn = np.asarray(attn)
    if attn.ndim != 4 or attn.shape[-1] != attn.shape[-2]:
        raise ValueError(f"attention must be (layers, heads, T, T), got {attn.shape}")
    if not 0 <= layer < attn.shape[0]:
        raise IndexError(f"layer {layer} is out of range 0–{attn.shape[0] - 1}")
    if head is None:
        return attn[layer].astype(np.float32).mean(axis=0)
    if not 0 <= head < attn.shape[1]:
        raise IndexError(f"head {head} is out of range 0–{attn.shape[1] - 1}")
    return attn[layer, head].astype(np.float32)


@dataclass(frozen=True)
class ColourScale:
    """How values map to the 256 viridis colours: ``lo`` → colour 0, ``hi`` → colour 255.

    ``log``: ``index = round(255 · (log10 v − log10 lo) / (log10 hi − log10 lo))``, values ≤ ``lo``
    (zeros included) at 0; linear: ``index = round(255 · (v − lo) / (hi − lo))``.
    """

    lo: float
    hi: float
    log: bool

    def index(self, values: np.ndarray) -> np.ndarray:
        """Colour index 0–255 (uint8) of every value."""
        v = np.asarray(values, dtype=np.float64)
        if self.hi <= self.lo:
            return np.zeros(v.shape, dtype=np.uint8)
        if self.log:
            a, b = np.log10(self.lo), np.log10(self.hi)
            x = (np.log10(np.clip(v, self.lo, self.hi)) - a) / (b - a)
        else:
            x = (np.clip(v, self.lo, self.hi) - self.lo) / (self.hi - self.lo)
        return np.round(x * 255).astype(np.uint8)


def colour_scale(matrix: np.ndarray, *, log: bool = False, decades: int = LOG_DECADES) -> ColourScale:
    """The scale of :func:`matrix_rgb`: linear ``[0, max]``, or log10 over ``[max·10^−decades, max]``.

    A matrix with maximum 0.4 gets ``ColourScale(0.0, 0.4, False)``, or with ``log=True``
    ``ColourScale(4e-6, 0.4, True)`` (5 decades). An all-zero matrix maps everything to colour 0.
    """
    hi = float(np.max(matrix)) if np.size(matrix) else 0.0
    if log:
        hi = hi if hi > 0 else 1.0
        return ColourScale(hi * 10.0 ** -decades, hi, True)
    return ColourScale(0.0, hi, False)


def matrix_rgb(matrix: np.ndarray, scale: Optional[ColourScale] = None, *, log: bool = False) -> np.ndarray:
    """``(T, T)`` values → ``(T, T, 3)`` uint8 viridis colours: pixel ``[q, k]`` is ``matrix[q, k]``'s colour.

    Colours are :data:`VIRIDIS` ``[scale.index(v)]``, so a larger value never gets an earlier colour.
    """
    scale = scale or colour_scale(matrix, log=log)
    return VIRIDIS[scale.index(matrix)]


def png_bytes(rgb: np.ndarray) -> bytes:
    """An ``(H, W, 3)`` uint8 image as PNG bytes (lossless: a decoder gives back exactly ``rgb``)."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(rgb, dtype=np.uint8)).save(buffer, format="PNG", compress_level=6)
    return buffer.getvalue()


VIRIDIS: np.ndarray = colour_lut(SEQUENTIAL)  # (256, 3) uint8, dark blue → yellow


@dataclass(frozen=True)
class MatrixLabels:
    """Every text the view shows, so the app can pass them translated (defaults: English).

    ``readout`` is shown as ``"{query} (3, 4) → {key} cls: 0.0123"``; ``alt`` is the figure in words
    for screen readers; ``keys_hint`` the help line under the figure.
    """

    title: str = "Attention matrix"
    query: str = "query"
    key: str = "key"
    rows: str = "rows: query tokens ↓"
    columns: str = "columns: key tokens →"
    matrix_label: str = ("Attention matrix, queries as rows and keys as columns. Arrow keys move the "
                         "crosshair; the readout below says which tokens and the attention share.")
    image_label: str = "Network input with the patch grid; point at a patch to make it the query."
    scale: str = "colour: attention share"
    scale_log: str = "log scale"
    scale_linear: str = "linear scale"
    keys_hint: str = ("Point at the matrix or focus it and use the arrow keys (Shift: 10 tokens). Orange: the "
                      "query's row and patch; magenta, dashed: the key's column and patch. Point at the image "
                      "to pick the query patch.")
    alt: str = ""


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _number(value: float) -> str:
    return f"{value:.3g}" if value == 0 or abs(value) >= 1e-3 else f"{value:.2e}"


def matrix_html(matrix: np.ndarray, display: np.ndarray, grid: Sequence[int], patch_size: Sequence[int],
                prefix_names: Sequence[str], labels: MatrixLabels = MatrixLabels(), *, log: bool = False,
                size: int = 520, image_size: int = 340) -> str:
    """A standalone HTML document: the ``T × T`` matrix and the network input, linked by the pointer.

    Hovering matrix cell ``(q, k)`` frames query patch q on the image in solid orange and key patch k
    in dashed magenta, outlines row q and column k of the matrix, colours the image with row q (the
    query's attention over the patches, same scale) and writes ``"query (r, c) → key (r, c): p"``
    (prefix tokens by name) into a live region. The matrix canvas is focusable: arrow keys move the
    crosshair (Shift: 10 tokens). Pointing at the image makes that patch the query.

    Args:
        matrix: ``(T, T)`` attention of one layer and head, T = prefix + gh·gw.
        display: ``(H, W, 3)`` uint8 network input (H = gh·ph, W = gw·pw).
        grid, patch_size, prefix_names: the token layout (``TokenLayout`` fields).
        labels: every visible text (pass translations).
        log: log10 colour scale over :data:`LOG_DECADES` decades below the maximum (else linear from 0).
        size: largest CSS size of the matrix in px (smaller on narrow screens); image_size likewise.

    The document loads nothing: the matrix PNG, the photo (JPEG) and the values (float16,
    little-endian) are data inside it; the script is inline. ``data-png`` / ``data-values`` on the
    ``#vv-matrix`` element hold them as base64 for readers other than the script (tests).
    """
    matrix = np.asarray(matrix, dtype=np.float32)
    gh, gw = int(grid[0]), int(grid[1])
    prefix = [str(n) for n in prefix_names]
    tokens = len(prefix) + gh * gw
    if matrix.shape != (tokens, tokens):
        raise ValueError(f"matrix must be ({tokens}, {tokens}) for {len(prefix)} prefix tokens and a {gh}×{gw} "
                         f"grid, got {matrix.shape}")
    scale = colour_scale(matrix, log=log)
    png = _b64(png_bytes(matrix_rgb(matrix, scale)))
    values = _b64(matrix.astype("<f2").tobytes())
    picture, _ = photo(display, max_side=2 * image_size)
    bar = _b64(png_bytes(VIRIDIS[None, :, :].repeat(8, axis=0)))
    config = {
        "T": tokens, "prefix": prefix, "gh": gh, "gw": gw, "ph": int(patch_size[0]), "pw": int(patch_size[1]),
        "H": int(display.shape[0]), "W": int(display.shape[1]), "size": int(size), "imageSize": int(image_size),
        "lut": ["#%02x%02x%02x" % tuple(int(c) for c in rgb) for rgb in VIRIDIS],
        "scale": {"lo": scale.lo, "hi": scale.hi, "log": scale.log},
        "query": HIGHLIGHT, "key": MARK, "labels": asdict(labels),
    }
    e = html.escape
    lo, hi = (_number(scale.lo), _number(scale.hi))
    return _TEMPLATE.format(
        config=json.dumps(config).replace("</", "<\\/"), png=png, values=values, photo=picture, bar=bar,
        title=e(labels.title), rows=e(labels.rows), columns=e(labels.columns), matrix_label=e(labels.matrix_label),
        image_label=e(labels.image_label), scale_text=e(f"{labels.scale} ({labels.scale_log if log else labels.scale_linear})"),
        lo=e(lo), hi=e(hi), hint=e(labels.keys_hint), alt=e(labels.alt), T=tokens, script=_SCRIPT)


def decode_values(text: str, tokens: int) -> np.ndarray:
    """The ``(T, T)`` float32 matrix from :func:`matrix_html`'s ``data-values`` (base64 little-endian float16)."""
    return np.frombuffer(base64.b64decode(text), dtype="<f2").reshape(tokens, tokens).astype(np.float32)


def read_view(document: str) -> dict[str, Union[np.ndarray, int]]:
    """What a :func:`matrix_html` document carries: ``png`` (``(T, T, 3)`` uint8), ``values`` (``(T, T)``), ``T``."""
    import re

    from PIL import Image

    def attribute(name: str, pattern: str) -> str:
        found = re.search(f'data-{name}="({pattern})"', document)
        if found is None:
            raise ValueError(f"not a matrix view: no data-{name} attribute")
        return found.group(1)

    tokens = int(attribute("tokens", r"\d+"))
    png = attribute("png", r"[A-Za-z0-9+/=]+")
    values = attribute("values", r"[A-Za-z0-9+/=]*")
    rgb = np.asarray(Image.open(io.BytesIO(base64.b64decode(png))).convert("RGB"))
    return {"png": rgb, "values": decode_values(values, tokens), "T": tokens}


_TEMPLATE = """<!doctype html>
<html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<style>
  :root {{ color-scheme: light dark; --fg: #31333f; --muted: #5f6270; }}
  @media (prefers-color-scheme: dark) {{ :root {{ --fg: #fafafa; --muted: #b8bac2; }} }}
  html, body {{ margin: 0; padding: 0; background: transparent; color: var(--fg);
    font: 14px/1.4 "Source Sans Pro", "Source Sans 3", system-ui, sans-serif; }}
  .vv-title {{ font-size: 17px; font-weight: 600; margin: 0 0 6px; }}
  .vv-row {{ display: flex; flex-wrap: wrap; gap: 16px 24px; align-items: flex-start; }}
  figure {{ margin: 0; }}
  .vv-stack {{ position: relative; line-height: 0; }}
  .vv-stack canvas {{ position: absolute; left: 0; top: 0; width: 100%; height: 100%; }}
  #vv-matrix {{ image-rendering: pixelated; }}
  #vv-matrix-over:focus-visible {{ outline: 2px dashed var(--fg); outline-offset: 3px; }}
  #vv-matrix-over, #vv-image-over {{ cursor: crosshair; }}
  .vv-axis {{ color: var(--muted); font-size: 13px; margin: 2px 0; }}
  .vv-bar {{ display: flex; flex-wrap: wrap; align-items: center; gap: 2px 6px; font-size: 13px; color: var(--muted);
    margin-top: 6px; }}
  .vv-ramp {{ display: inline-flex; align-items: center; gap: 6px; white-space: nowrap; }}
  .vv-bar img {{ width: 160px; height: 10px; image-rendering: pixelated; }}
  #vv-readout {{ font-variant-numeric: tabular-nums; font-weight: 600; min-height: 1.4em; margin: 0 0 4px; }}
  .vv-hint {{ color: var(--muted); font-size: 13px; margin: 2px 0; max-width: 880px; }}
  .vv-sr {{ position: absolute; width: 1px; height: 1px; overflow: hidden; clip-path: inset(50%); white-space: nowrap; }}
</style></head>
<body>
<div class="vv-title">{title}</div>
<p id="vv-readout" aria-live="polite"></p>
<div class="vv-row" id="vv-root">
  <figure>
    <div class="vv-axis">{columns} · {rows}</div>
    <div class="vv-stack" id="vv-matrix-box">
      <canvas id="vv-matrix" width="{T}" height="{T}" role="img" aria-label="{matrix_label}" data-tokens="{T}"
              data-png="{png}" data-values="{values}"></canvas>
      <canvas id="vv-matrix-over" tabindex="0" role="application" aria-label="{matrix_label}"
              aria-describedby="vv-readout"></canvas>
    </div>
    <div class="vv-bar"><span>{scale_text}</span><span class="vv-ramp"><span>{lo}</span><img alt=""
      src="data:image/png;base64,{bar}"><span>{hi}</span></span></div>
  </figure>
  <figure>
    <div class="vv-stack" id="vv-image-box">
      <canvas id="vv-image" role="img" aria-label="{image_label}"></canvas>
      <canvas id="vv-image-over"></canvas>
    </div>
  </figure>
</div>
<p class="vv-hint">{hint}</p>
<p class="vv-sr">{alt}</p>
<img id="vv-photo" alt="" hidden src="{photo}">
<script>
const VV = {config};
{script}
</script>
</body></html>
"""

# The view's behaviour. Coordinates: the matrix box is S css px square, cell (q, k) spans
# [k·S/T, (k+1)·S/T) × [q·S/T, …); the image box is W·f × H·f css px, patch (r, c) spans
# [c·pw·f, (c+1)·pw·f) × [r·ph·f, …). Overlays are redrawn; the matrix bitmap is drawn once.
_SCRIPT = r"""
(function () {
  const T = VV.T, P = VV.prefix.length, L = VV.labels;
  const mat = document.getElementById('vv-matrix'), over = document.getElementById('vv-matrix-over');
  const img = document.getElementById('vv-image'), imgOver = document.getElementById('vv-image-over');
  const readout = document.getElementById('vv-readout');
  const raw = atob(mat.dataset.values), bytes = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
  const values = new Uint16Array(bytes.buffer);  // float16, little-endian
  function half(h) {
    const s = h & 0x8000 ? -1 : 1, e = (h >> 10) & 0x1f, f = h & 0x3ff;
    if (e === 0) return s * f * Math.pow(2, -24);
    if (e === 31) return f ? NaN : s * Infinity;
    return s * (1 + f / 1024) * Math.pow(2, e - 15);
  }
  const value = (q, k) => half(values[q * T + k]);
  const sc = VV.scale, la = Math.log10(sc.lo), lb = Math.log10(sc.hi);
  function colour(v) {
    let x;
    if (sc.hi <= sc.lo) x = 0;
    else if (sc.log) x = (Math.log10(Math.min(Math.max(v, sc.lo), sc.hi)) - la) / (lb - la);
    else x = (Math.min(Math.max(v, sc.lo), sc.hi) - sc.lo) / (sc.hi - sc.lo);
    return VV.lut[Math.round(x * 255)];
  }
  function name(i) {
    if (i < P) return VV.prefix[i];
    const j = i - P;
    return '(' + Math.floor(j / VV.gw) + ', ' + (j % VV.gw) + ')';
  }
  function fmt(v) { return v === 0 || Math.abs(v) >= 1e-3 ? v.toPrecision(3) : v.toExponential(2); }
  let q = 0, k = 0, S = VV.size, f = 1;
  let best = -1; for (let j = 0; j < T; j++) { const v = value(0, j); if (v > best) { best = v; k = j; } }
  const dpr = () => window.devicePixelRatio || 1;

  function layout() {
    const width = Math.max(160, document.documentElement.clientWidth - 4);
    S = Math.min(VV.size, width);
    const box = document.getElementById('vv-matrix-box');
    box.style.width = box.style.height = S + 'px';
    over.width = over.height = Math.round(S * dpr());
    f = Math.min(VV.imageSize, width) / Math.max(VV.W, VV.H);
    const ibox = document.getElementById('vv-image-box');
    ibox.style.width = (VV.W * f) + 'px'; ibox.style.height = (VV.H * f) + 'px';
    imgOver.width = img.width = Math.round(VV.W * f * dpr());
    imgOver.height = img.height = Math.round(VV.H * f * dpr());
    drawImage(); draw();
  }
  const photo = document.getElementById('vv-photo');
  function drawImage() {
    if (!photo.complete) return;
    const c = img.getContext('2d'), r = dpr();
    c.imageSmoothingEnabled = true;
    c.drawImage(photo, 0, 0, img.width, img.height);
  }
  function frame(c, x, y, w, h, colour, dashed) {  // dashed: 0 solid, 1 long dashes, 2 short (small patches)
    c.setLineDash([]); c.lineWidth = 4; c.strokeStyle = 'rgba(0,0,0,0.75)'; c.strokeRect(x, y, w, h);
    c.lineWidth = 2.5; c.strokeStyle = colour; c.setLineDash(dashed === 2 ? [3, 2] : dashed ? [5, 3] : []);
    c.strokeRect(x, y, w, h);
    c.setLineDash([]);
  }
  function draw() {
    const r = dpr(), c = over.getContext('2d'), cell = S * r / T;
    c.clearRect(0, 0, over.width, over.height);
    c.fillStyle = 'rgba(255,255,255,0.18)';
    c.fillRect(0, q * cell, over.width, cell); c.fillRect(k * cell, 0, cell, over.height);
    const band = Math.max(cell, 3 * r);
    frame(c, 0.5, q * cell + cell / 2 - band / 2, over.width - 1, band, VV.query, 0);
    frame(c, k * cell + cell / 2 - band / 2, 0.5, band, over.height - 1, VV.key, 1);
    const ic = imgOver.getContext('2d'), pw = VV.pw * f * r, ph = VV.ph * f * r;
    ic.clearRect(0, 0, imgOver.width, imgOver.height);
    ic.globalAlpha = 0.55;
    for (let j = 0; j < VV.gh * VV.gw; j++) {
      ic.fillStyle = colour(value(q, P + j));
      ic.fillRect((j % VV.gw) * pw, Math.floor(j / VV.gw) * ph, pw, ph);
    }
    ic.globalAlpha = 1;
    ic.strokeStyle = 'rgba(255,255,255,0.35)'; ic.lineWidth = 1; ic.beginPath();
    for (let x = 0; x <= VV.gw; x++) { ic.moveTo(x * pw, 0); ic.lineTo(x * pw, imgOver.height); }
    for (let y = 0; y <= VV.gh; y++) { ic.moveTo(0, y * ph); ic.lineTo(imgOver.width, y * ph); }
    ic.stroke();
    if (q >= P) { const j = q - P; frame(ic, (j % VV.gw) * pw, Math.floor(j / VV.gw) * ph, pw, ph, VV.query, 0); }
    if (k >= P) {
      const j = k - P, d = Math.min(2 * r, pw / 5);
      frame(ic, (j % VV.gw) * pw + d, Math.floor(j / VV.gw) * ph + d, pw - 2 * d, ph - 2 * d, VV.key, pw < 14 * r ? 2 : 1);
    }
    readout.textContent = L.query + ' ' + name(q) + ' \u2192 ' + L.key + ' ' + name(k) + ': ' + fmt(value(q, k));
    document.body.dataset.query = q; document.body.dataset.key = k;
  }
  let pending = false;
  function schedule() { if (!pending) { pending = true; requestAnimationFrame(() => { pending = false; draw(); }); } }
  // pointermove: mouse and pen; pointerdown as well, so a tap on a touch screen picks a cell (a swipe still scrolls)
  const onMatrix = (ev) => {
    const b = over.getBoundingClientRect();
    const nk = Math.min(T - 1, Math.max(0, Math.floor((ev.clientX - b.left) / b.width * T)));
    const nq = Math.min(T - 1, Math.max(0, Math.floor((ev.clientY - b.top) / b.height * T)));
    if (nq !== q || nk !== k) { q = nq; k = nk; schedule(); }
  };
  over.addEventListener('pointermove', onMatrix); over.addEventListener('pointerdown', onMatrix);
  const onImage = (ev) => {
    const b = imgOver.getBoundingClientRect();
    const c = Math.min(VV.gw - 1, Math.max(0, Math.floor((ev.clientX - b.left) / b.width * VV.gw)));
    const rr = Math.min(VV.gh - 1, Math.max(0, Math.floor((ev.clientY - b.top) / b.height * VV.gh)));
    const nq = P + rr * VV.gw + c;
    if (nq !== q) { q = nq; schedule(); }
  };
  imgOver.addEventListener('pointermove', onImage); imgOver.addEventListener('pointerdown', onImage);
  over.addEventListener('keydown', (ev) => {
    const step = ev.shiftKey ? 10 : 1;
    const moves = { ArrowLeft: [0, -step], ArrowRight: [0, step], ArrowUp: [-step, 0], ArrowDown: [step, 0],
                    Home: [0, -T], End: [0, T], PageUp: [-10, 0], PageDown: [10, 0] };
    const m = moves[ev.key];
    if (!m) return;
    ev.preventDefault();
    q = Math.min(T - 1, Math.max(0, q + m[0])); k = Math.min(T - 1, Math.max(0, k + m[1]));
    draw();
  });
  const png = new Image();
  png.onload = () => {
    const c = mat.getContext('2d');
    c.imageSmoothingEnabled = false;
    c.drawImage(png, 0, 0);
    const finish = () => { layout(); window.vvDrawn = performance.now(); document.body.dataset.drawn = '1'; };
    if (photo.complete) finish(); else photo.onload = finish;
  };
  png.src = 'data:image/png;base64,' + mat.dataset.png;
  window.addEventListener('resize', layout);
})();
"""
