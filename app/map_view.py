"""A map drawn over the image as one picture (the Attention, Explanations and Compare pages, through
``widgets.show_map``), with a hover read-out and click-to-pick, as a Streamlit component
(``st.components.v2``, in the page's DOM, no iframe).

The keyboard reaches the same: Tab focuses the map, the arrow keys move a patch cursor with the
read-out (announced to screen readers), Enter or Space picks the patch, Escape leaves.

Why not a plotly chart: Streamlit gives a chart a new identity whenever its figure changes, so the
browser rebuilt the whole chart (SVG per patch for the click targets, colour bar, image load) on
every layer-slider step. This component keeps its DOM and swaps one JPEG (``bench/ui.py``).
The picture comes from :func:`vitviz.figures.map_pictures.map_picture`; the values travel beside it for
the read-out (and for tests), the downloads carry them too.
"""
from __future__ import annotations

from typing import Optional, Sequence

import numpy as np
import streamlit as st

from vitviz.figures.map_pictures import colour_stops

_CSS = """
.vv-map { margin: 0; }
.vv-map-title { font-size: 17px; font-weight: 600; line-height: 1.3; margin: 0 0 8px; }
.vv-map-stage { position: relative; margin: 0 auto; max-width: 100%; }
.vv-map-img { display: block; width: 100%; height: auto; }
.vv-map-img:focus-visible { outline: 3px solid #1565C0; outline-offset: 2px; }
.vv-map-cursor { position: absolute; pointer-events: none; border: 2px solid #fff; outline: 2px solid #1565C0;
  box-sizing: border-box; }
.vv-map-tip { position: absolute; pointer-events: none; background: rgba(255, 255, 255, 0.95); color: #222;
  border: 1px solid #888; border-radius: 3px; padding: 2px 6px; font-size: 13px; white-space: pre; z-index: 2; }
.vv-map-bar { margin: 8px auto 0; font-size: 13px; }
.vv-map-grad { height: 12px; border-radius: 2px; }
.vv-map-ticks { display: flex; justify-content: space-between; line-height: 1.4; }
"""

# Called on every run with the new data; builds its DOM once, then only updates it.
_JS = """
export default function (component) {
  const { data, setTriggerValue, parentElement } = component;
  let root = parentElement.querySelector('.vv-map');
  if (!root) {
    root = document.createElement('figure');
    root.className = 'vv-map';
    root.innerHTML = '<figcaption class="vv-map-title"></figcaption><div class="vv-map-stage">' +
      '<img class="vv-map-img" draggable="false" tabindex="0"><div class="vv-map-cursor" hidden></div>' +
      '<div class="vv-map-tip" role="status" aria-live="polite" hidden></div></div>' +
      '<div class="vv-map-bar" aria-hidden="true"><div class="vv-map-grad"></div>' +
      '<div class="vv-map-ticks"><span></span><span></span><span></span></div></div>';
    parentElement.appendChild(root);
  }
  root.vvData = data;
  root.vvPick = setTriggerValue;
  const title = root.querySelector('.vv-map-title');
  title.replaceChildren(...data.title.split('<br>').flatMap((line, i) => i ? [document.createElement('br'), line] : [line]));
  const img = root.querySelector('.vv-map-img');
  if (img.getAttribute('src') !== data.src) img.src = data.src;
  img.alt = data.alt;
  img.width = data.size[1];
  img.height = data.size[0];
  const width = data.max_height ? `min(100%, ${Math.round(data.max_height * data.size[1] / data.size[0])}px)` : '100%';
  root.querySelector('.vv-map-stage').style.width = width;
  root.querySelector('.vv-map-bar').style.width = width;
  root.querySelector('.vv-map-grad').style.background = `linear-gradient(to right, ${data.stops})`;
  const ticks = root.querySelectorAll('.vv-map-ticks span');
  [ticks[0].textContent, ticks[1].textContent, ticks[2].textContent] = ['0', data.value_name, data.top];
  img.style.cursor = data.click_label ? 'crosshair' : 'default';
  const tip = root.querySelector('.vv-map-tip'), cursor = root.querySelector('.vv-map-cursor');
  root.vvTip = () => {  // the read-out of the patch under the pointer (or keyboard cursor), from the latest data
    const d = root.vvData, r = Math.min(root.vvAt[0], d.values.length - 1), c = Math.min(root.vvAt[1], d.values[0].length - 1);
    const marked = d.marked.some(([a, b]) => a === r && b === c) ? ` — ${d.marked_label}` : '';
    tip.textContent = `${d.patch_label} (${r}, ${c})${marked}\\n${d.value_name} ${d.values[r][c].toPrecision(4)}` +
      (d.click_label ? `\\n${d.click_label}` : '');
  };
  if (root.vvAt && !tip.hidden) root.vvTip();
  if (root.vvWired) return;
  root.vvWired = true;
  const cell = (e) => {
    const d = root.vvData, box = img.getBoundingClientRect(), gh = d.values.length, gw = d.values[0].length;
    const r = Math.min(gh - 1, Math.max(0, Math.floor((e.clientY - box.top) / box.height * gh)));
    const c = Math.min(gw - 1, Math.max(0, Math.floor((e.clientX - box.left) / box.width * gw)));
    return [r, c, d, box];
  };
  const show = (x, y, box) => {  // the read-out beside (x, y) px of the picture, on the side with room
    root.vvTip();
    tip.hidden = false;
    tip.style.left = `${x < box.width / 2 ? x + 12 : x - tip.offsetWidth - 12}px`;
    tip.style.top = `${y < box.height / 2 ? y + 12 : y - tip.offsetHeight - 12}px`;
  };
  img.addEventListener('pointermove', (e) => {
    const [r, c, , box] = cell(e);
    root.vvAt = [r, c];
    cursor.hidden = true;
    show(e.clientX - box.left, e.clientY - box.top, box);
  });
  // A tap (touch, pen) is no hover: the read-out shows the tapped patch for a moment, then goes; it used to
  // stay, and the focus a tap gives the picture put it on the patch of an earlier cursor instead.
  img.addEventListener('pointerdown', (e) => { root.vvByPointer = true; root.vvTouch = e.pointerType !== 'mouse'; });
  img.addEventListener('pointerleave', (e) => {
    if (e.pointerType !== 'mouse' || document.activeElement !== img) tip.hidden = true;
  });
  img.addEventListener('click', (e) => {
    const [r, c, d, box] = cell(e);
    if (root.vvTouch) {
      root.vvAt = [r, c];
      cursor.hidden = true;
      show(e.clientX - box.left, e.clientY - box.top, box);
      clearTimeout(root.vvTipTimer);
      root.vvTipTimer = setTimeout(() => { tip.hidden = true; }, 2500);
    }
    if (d.click_label) root.vvPick('patch', r * d.values[0].length + c);
  });
  const moveTo = (r, c) => {  // keyboard: a cursor on patch (r, c) and its read-out
    const d = root.vvData, box = img.getBoundingClientRect(), gh = d.values.length, gw = d.values[0].length;
    root.vvAt = [Math.min(gh - 1, Math.max(0, r)), Math.min(gw - 1, Math.max(0, c))];
    const w = box.width / gw, h = box.height / gh;
    Object.assign(cursor.style, {left: `${root.vvAt[1] * w}px`, top: `${root.vvAt[0] * h}px`,
                                 width: `${w}px`, height: `${h}px`});
    cursor.hidden = false;
    show((root.vvAt[1] + 0.5) * w, (root.vvAt[0] + 0.5) * h, box);
  };
  img.addEventListener('focus', () => {
    if (root.vvByPointer) { root.vvByPointer = false; return; }  // focus from a click or tap: no keyboard cursor
    const d = root.vvData;
    const [r, c] = root.vvAt || [Math.floor(d.values.length / 2), Math.floor(d.values[0].length / 2)];
    moveTo(r, c);
  });
  img.addEventListener('blur', () => { tip.hidden = true; cursor.hidden = true; root.vvByPointer = false; });
  img.addEventListener('keydown', (e) => {
    root.vvByPointer = false;
    const step = {ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1]}[e.key];
    const [r, c] = root.vvAt || [0, 0];
    if (step) {
      e.preventDefault();
      moveTo(r + step[0], c + step[1]);
    } else if ((e.key === 'Enter' || e.key === ' ') && root.vvData.click_label) {
      e.preventDefault();
      root.vvPick('patch', r * root.vvData.values[0].length + c);
    } else if (e.key === 'Escape') {
      img.blur();
    }
  });
}
"""

_COMPONENT = st.components.v2.component("vitviz.map", css=_CSS, js=_JS, isolate_styles=False)


def map_view(key: str, picture: str, grid_map: np.ndarray, size: Sequence[int], *, title: str, top: float,
             value_name: str, alt: str, marked: Sequence[tuple[int, int]] = (), marked_label: str = "",
             patch_label: str = "patch", click_label: str = "", max_height: Optional[int] = None) -> Optional[int]:
    """Show ``picture`` (a data URI of an image ``size`` = (height, width) px showing ``grid_map``) with
    ``title``, a colour bar ``0 … top`` named ``value_name`` and a read-out of ``grid_map`` on hover.

    With a ``click_label`` (the read-out's hint) a click picks a patch: returns the patch ``r·gw + c``
    the user clicked, in the run that click started; otherwise None.
    ``max_height`` (px) caps the picture's height (presenter mode); ``alt`` is its text alternative.
    """
    data = {"src": picture, "values": np.asarray(grid_map, dtype=float).tolist(), "size": [int(s) for s in size[:2]],
            "title": title, "top": f"{top:.3g}", "value_name": value_name, "alt": alt, "stops": colour_stops(),
            "marked": [[int(r), int(c)] for r, c in marked], "marked_label": marked_label, "patch_label": patch_label,
            "click_label": click_label, "max_height": max_height}
    result = _COMPONENT(key=key, data=data, on_patch_change=lambda: None)
    return getattr(result, "patch", None)
