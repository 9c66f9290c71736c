"""Browser latency of the vitviz dashboard: real Chromium (Playwright) against a real `streamlit run`.

    python bench/ui.py [--repeats 5] [--weights-dir DIR] [--diagnose]

Every number is the time from the user's action (key press / click, taken in the page with
``performance.now()`` by a capture-phase listener) until every chart on the page has stopped
changing: the page is polled every ~15 ms for a signature of all ``.js-plotly-plot`` elements
(their count, the identity of each one's ``data`` and ``layout`` objects, each title, and how many
``plotly_afterplot`` events they fired), of the pictures that are figures (the Attention map
component and the heads: each title, which picture each ``img`` shows and whether it has loaded)
plus Streamlit's status widget; the end time is the last change of that signature once it has then
stayed unchanged for 150 ms with the status widget gone, every picture loaded (and the action's
expected result - e.g. a title "layer N" - on the page). The 150 ms quiet window
is not counted. Medians of ``--repeats`` repetitions after a warm-up.

Measurements: ``ui_widget_ms`` (Attention page, "Layer" slider ±1, no forward pass),
``ui_rollout_ms`` ("Start layer" slider ±1), ``ui_page_ms`` (sidebar navigation Attention →
Embedding filters → Position embeddings → …), ``ui_new_image_ms`` (another bundled sample in
"Sample image": a forward pass; cat is the warm-up, then up to 5 samples not seen before by this
server) and ``ui_cold_ms`` (one measurement: a fresh server, from launching ``streamlit run app/serve.py`` until
``/?sample=cat`` shows its charts stable).

The phases are taken from Streamlit's websocket, recorded in the page (binary ForwardMsgs, parsed
here with Streamlit's protobufs): action → rerun request sent (client), request → ``script_finished``
received (server: script run + transfer), last frame → charts stable (browser: React + Plotly),
with the bytes received and the main-thread long tasks in the window.
"""
from __future__ import annotations

import argparse
import base64
import contextlib
import os
import re
import statistics
import sys
import time
from pathlib import Path

from stserver import READY, REPO, Server, parse
SAMPLES = ["astronaut", "cat", "coffee", "flower", "rocket", "temple"]
PAGES = [("Attention", "attention"), ("Embedding filters", "filters"), ("Position embeddings", "position")]
QUIET_MS = 150
TIMEOUT_MS = 90_000
VIEWPORT = {"width": 1440, "height": 900}

# Installed before any page script: records websocket traffic and plotly render events in page time.
INIT_JS = r"""
(() => {
  window.__vv = {recv: [], sent: [], armed: false, t0: null, afterplot: 0, lastAfterplot: 0, longtasks: []};
  const Native = window.WebSocket;
  function Wrapped(url, protocols) {
    const ws = protocols === undefined ? new Native(url) : new Native(url, protocols);
    ws.addEventListener('message', (ev) => {
      const t = performance.now();
      const d = ev.data;
      if (d instanceof ArrayBuffer) window.__vv.recv.push({t, n: d.byteLength, b: new Uint8Array(d)});
      else if (d instanceof Blob) window.__vv.recv.push({t, n: d.size, b: null});
      else window.__vv.recv.push({t, n: String(d).length, b: null});
    });
    const send = ws.send.bind(ws);
    ws.send = (data) => {
      const n = data && (data.byteLength !== undefined ? data.byteLength : (data.size !== undefined ? data.size : String(data).length));
      window.__vv.sent.push({t: performance.now(), n});
      return send(data);
    };
    return ws;
  }
  Wrapped.prototype = Native.prototype;
  for (const k of ['CONNECTING', 'OPEN', 'CLOSING', 'CLOSED']) Wrapped[k] = Native[k];
  window.WebSocket = Wrapped;
  const arm = (ev) => { if (window.__vv.armed) { window.__vv.t0 = performance.now(); window.__vv.armed = false; } };
  for (const type of ['keydown', 'pointerdown', 'mousedown', 'click']) window.addEventListener(type, arm, true);
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) window.__vv.longtasks.push({t: e.startTime, d: e.duration});
    }).observe({entryTypes: ['longtask']});
  } catch (e) {}
})();
"""

# Polls the charts' signature until it has not changed for QUIET ms with the status widget gone and
# `want` (regex per figure title / page heading) satisfied. Resolves with the time of the last change.
WAIT_JS = r"""
async ([quiet, timeout, want]) => {
  const ids = window.__vvIds || (window.__vvIds = new WeakMap());
  let next = window.__vvNext || 1;
  const id = (o) => { if (o === null || o === undefined || typeof o !== 'object') return 0;
                      if (!ids.has(o)) { ids.set(o, next++); window.__vvNext = next; } return ids.get(o); };
  const titleOf = (el) => { const t = el.layout && el.layout.title;
                            return typeof t === 'string' ? t : (t && t.text) || ''; };
  const snap = () => {
    // Not the hidden empty chart a session's first run draws to start loading plotly (frame.preload_plotly).
    const plots = Array.from(document.querySelectorAll('.js-plotly-plot')).filter((el) => !el.closest('.st-key-vv-plotly-preload'));
    for (const el of plots) {
      if (!el.__vvHooked && typeof el.on === 'function') {
        el.__vvHooked = true;
        el.on('plotly_afterplot', () => { window.__vv.afterplot++; window.__vv.lastAfterplot = performance.now(); });
      }
    }
    const sw = document.querySelector('[data-testid="stStatusWidget"]');
    const status = !!sw && !/changed/i.test(sw.textContent || '');  // running, not "Source file changed"
    const stale = document.querySelectorAll('[data-stale="true"]').length;
    // Pictures (the Attention map component, the heads): which picture each shows and whether it has loaded.
    const maps = Array.from(document.querySelectorAll('.vv-map'));
    const mapTitle = (m) => (m.querySelector('.vv-map-title') || {}).textContent || '';
    const pictures = Array.from(document.querySelectorAll('.vv-map img, .vv-heads img'));
    const loaded = pictures.every((img) => img.complete && img.naturalWidth > 0);
    const titles = plots.map(titleOf).concat(maps.map(mapTitle));
    const h1 = (document.querySelector('h1') || {}).textContent || '';
    const sig = plots.length + '#' + plots.map((el) => id(el) + ':' + id(el.data) + ':' + id(el.layout) + ':' +
                titleOf(el)).join('|') + '#' + maps.map(mapTitle).join('|') + '#' +
                pictures.map((img) => img.src.length + img.src.slice(-16) + ':' + img.complete).join('|') + '#' +
                window.__vv.afterplot + '#' + status + '#' + stale;
    return {sig, status, stale, titles, h1, n: plots.length + maps.length, loaded};
  };
  const ok = (s) => {
    if (s.status || s.stale || s.n === 0 || !s.loaded) return false;
    if (want.text && !((document.querySelector('[data-testid="stMain"]') || document.body).textContent || '').includes(want.text)) return false;
    if (want.title && !s.titles.some((t) => new RegExp(want.title).test(t))) return false;
    if (want.h1 && !new RegExp(want.h1).test(s.h1)) return false;
    if (want.minPlots && s.n < want.minPlots) return false;
    return true;
  };
  const start = performance.now();
  let last = snap(), lastChange = start;
  while (true) {
    await new Promise((r) => setTimeout(r, 15));
    const now = performance.now();
    const s = snap();
    if (s.sig !== last.sig) { last = s; lastChange = now; continue; }
    if (ok(s) && now - lastChange >= quiet) return {tEnd: lastChange, n: s.n, titles: s.titles, h1: s.h1};
    if (now - start > timeout) return {timeout: true, n: s.n, titles: s.titles, h1: s.h1, status: s.status};
  }
}
"""

TAKE_JS = r"""
() => {
  const v = window.__vv;
  const b64 = (u8) => { let s = ''; for (let i = 0; i < u8.length; i += 0x8000)
                          s += String.fromCharCode.apply(null, u8.subarray(i, i + 0x8000)); return btoa(s); };
  const out = {recv: v.recv.map((m) => ({t: m.t, n: m.n, b: m.b ? b64(m.b.length <= 65536 ? m.b : m.b.subarray(0, 4096)) : null})),
               sent: v.sent.slice(), t0: v.t0, longtasks: v.longtasks.slice(), lastAfterplot: v.lastAfterplot};
  v.recv = []; v.sent = []; v.longtasks = []; v.t0 = null;
  return out;
}
"""


class Probe:
    """One Chromium page and its measurements."""

    def __init__(self, browser, base: str):
        self.base = base
        self.context = browser.new_context(viewport=VIEWPORT)
        self.context.add_init_script(INIT_JS)
        self.page = self.context.new_page()
        self.page.set_default_timeout(TIMEOUT_MS)
        self.rows: dict[str, list[dict]] = {}

    def wait(self, want: dict) -> dict:
        res = self.page.evaluate(WAIT_JS, [QUIET_MS, TIMEOUT_MS, want])
        if res.get("timeout"):
            raise RuntimeError(f"charts not stable within {TIMEOUT_MS} ms (want {want}): {res}")
        return res

    def arm(self) -> None:
        self.page.evaluate("() => { window.__vv.t0 = null; window.__vv.armed = true; }")

    def take(self) -> dict:
        return self.page.evaluate(TAKE_JS)

    def goto(self, path: str, want: dict) -> float:
        """Full navigation; returns ms from navigationStart to charts stable."""
        self.page.goto(self.base + path)
        res = self.wait(want)
        self.take()
        return res["tEnd"]

    def measure(self, name: str, act, want: dict, record: bool = True) -> float:
        """`act()` must call self.arm() right before its final input event."""
        self.take()
        act()
        res = self.wait(want)
        data = self.take()
        t0 = data["t0"]
        if t0 is None:
            raise RuntimeError(f"{name}: the action's input event was not seen in the page")
        row = phases(t0, res["tEnd"], data)
        if record:
            self.rows.setdefault(name, []).append(row)
        return row["total"]

    # --- actions -------------------------------------------------------------------------------
    def slider_input(self, label: str):
        box = self.page.locator('[data-testid="stSlider"]').filter(
            has=self.page.locator('[data-testid="stWidgetLabel"]', has_text=re.compile(rf"^{re.escape(label)}$")))
        return box.locator('input[type="range"]').first

    def slider_value(self, label: str) -> int:
        inp = self.slider_input(label)
        return int(float(inp.input_value()))

    def slider_max(self, label: str) -> int:
        return int(float(self.slider_input(label).get_attribute("max")))

    def nudge(self, label: str, key: str) -> None:
        inp = self.slider_input(label)
        inp.focus()
        self.arm()
        self.page.keyboard.press(key)

    def choose(self, label: str, option: str) -> None:
        box = self.page.locator('[data-testid="stSelectbox"]').filter(
            has=self.page.locator('[data-testid="stWidgetLabel"]', has_text=re.compile(rf"^{re.escape(label)}$")))
        field = box.first.locator('input[role="combobox"]')
        field.click()
        field.fill(option)  # the list filters as one types; Enter picks the (single) match
        self.page.get_by_role("option", name=option, exact=True).wait_for(timeout=15_000)
        self.arm()
        self.page.keyboard.press("Enter")

    def nav(self, title: str) -> None:
        link = self.page.locator('[data-testid="stSidebarNav"] a').filter(has_text=title).first
        self.arm()
        link.click()


def phases(t0: float, t_end: float, data: dict) -> dict:
    """Split action → stable into client (to rerun request), server (to script_finished), browser (rest)."""
    sent = [m for m in data["sent"] if m["t"] >= t0 - 1]
    recv = [m for m in data["recv"] if m["t"] >= t0 - 1]
    parsed = [parse(base64.b64decode(m["b"]) if m["b"] else None) for m in recv]
    kinds = [k for k, _ in parsed]
    profiles = [msg.page_profile for k, msg in parsed if k == "page_profile" and msg is not None]
    exec_ms = sum(pp.exec_time for pp in profiles) / 1000 if profiles else float("nan")
    cmds: dict[str, float] = {}
    for pp in profiles:
        for c in pp.commands:
            cmds[c.name] = cmds.get(c.name, 0.0) + c.time / 1000
    big = sorted(((m["n"], k) for m, k in zip(recv, kinds)), reverse=True)[:3]
    t_req = sent[0]["t"] if sent else t0
    done = [m["t"] for m, k in zip(recv, kinds) if k == "script_finished"]
    t_done = done[-1] if done else (recv[-1]["t"] if recv else t_req)
    t_first = next((m["t"] for m, k in zip(recv, kinds) if k == "delta"), t_done)
    long = sum(lt["d"] for lt in data["longtasks"] if t0 <= lt["t"] <= t_end)
    return {"total": t_end - t0, "client": t_req - t0, "server": t_done - t_req, "first_delta": t_first - t_req,
            "browser": t_end - t_done, "bytes": sum(m["n"] for m in recv),
            "deltas": sum(k == "delta" for k in kinds), "longtask": long, "exec": exec_ms,
            "runs": len(profiles), "cmds": cmds, "big": big,
            "afterplot": data["lastAfterplot"] - t_done if data["lastAfterplot"] >= t_done else 0.0}


def layer_title(n: int) -> dict:
    return {"title": rf"layer {n}(?!\d)"}


def med(rows: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in rows)


def run(args) -> int:
    from playwright.sync_api import sync_playwright

    weights = Path(args.weights_dir).resolve()
    load_before = os.getloadavg()[0]
    results: dict[str, float] = {}
    servers: list[Server] = []
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=args.chromium, headless=True,
                                         args=["--no-sandbox", "--disable-dev-shm-usage"])
            try:
                # ---- cold: fresh server, launch → first page stable (one measurement) ------------
                cold = Server(weights, args.profile)
                servers.append(cold)
                probe = Probe(browser, cold.url)
                cold.wait_healthy()
                t_healthy = time.monotonic()
                probe.page.goto(cold.url + "/?sample=cat")
                res = probe.wait({"minPlots": 1})
                stable_at = time.monotonic() - (probe.page.evaluate("performance.now()") - res["tEnd"]) / 1000
                results["ui_cold_ms"] = (stable_at - cold.launched) * 1000
                cold_health = (t_healthy - cold.launched) * 1000
                probe.context.close()
                cold.stop()
                servers.remove(cold)

                # ---- the first page after the server's own warm-up has finished (app/serve.py logs
                # READY): what a lecturer who starts the server a minute before class sees -------------
                warmed = Server(weights, args.profile)
                servers.append(warmed)
                warmed.wait_for_log(READY)
                t_warm = time.monotonic()
                probe = Probe(browser, warmed.url)
                t_request = time.monotonic()
                probe.page.goto(warmed.url + "/?sample=cat")
                res = probe.wait({"minPlots": 1})
                stable_at = time.monotonic() - (probe.page.evaluate("performance.now()") - res["tEnd"]) / 1000
                results["ui_warmed_first_page_ms"] = (stable_at - t_request) * 1000
                warm_up = (t_warm - warmed.launched) * 1000
                probe.context.close()
                warmed.stop()
                servers.remove(warmed)

                # ---- warm server: widget, rollout, new image, page switch ---------------------------
                server = Server(weights, args.profile)
                servers.append(server)
                server.wait_healthy()
                probe = Probe(browser, server.url)
                probe.goto("/attention?sample=cat", {"title": "layer", "h1": "^Attention"})

                for label, name, want in (("Layer", "ui_widget_ms", layer_title),
                                          ("Start layer", "ui_rollout_ms", lambda n: {"title": rf"from layer {n}(?!\d)"})):
                    for i in range(args.repeats + 1):  # first one is the warm-up
                        # Layer walks down from the last layer, Start layer up from 0: each step a new value
                        v = probe.slider_value(label)
                        down = v > 0 if name == "ui_widget_ms" else v >= probe.slider_max(label)
                        key, new = ("ArrowLeft", v - 1) if down else ("ArrowRight", v + 1)
                        probe.measure(name, lambda: probe.nudge(label, key), want(new), record=i > 0)

                # new image: cat (already shown) was the warm-up; then samples this server has not seen
                fresh = [s for s in SAMPLES if s != "cat"][: max(1, min(args.repeats, 5))]
                for sample in fresh:
                    probe.measure("ui_new_image_ms", lambda: probe.choose("Sample image", sample),
                                  {"h1": "^Attention", "title": "layer", "text": f"image: sample: {sample}"})
                    assert sample in probe.page.url, probe.page.url

                cycle = PAGES[1:] + PAGES[:1]
                for i in range(len(PAGES) + args.repeats):  # first lap is the warm-up
                    title, _ = cycle[i % len(cycle)]
                    probe.measure("ui_page_ms", lambda: probe.nav(title), {"h1": f"^{re.escape(title)}"},
                                  record=i >= len(PAGES))
                probe.context.close()
            finally:
                browser.close()
    finally:
        for s in servers:
            s.stop()

    rows = probe.rows
    for name in ("ui_widget_ms", "ui_rollout_ms", "ui_page_ms", "ui_new_image_ms"):
        results[name] = med(rows[name], "total")

    targets = {"ui_widget_ms": 250, "ui_rollout_ms": 300, "ui_page_ms": 500, "ui_new_image_ms": 1500,
               "ui_cold_ms": 8000}
    cpu = _cpu_name()
    print(f"vitviz UI latency: Chromium {VIEWPORT['width']}×{VIEWPORT['height']} headless, {os.cpu_count()} CPUs "
          f"({cpu}), quiet window {QUIET_MS} ms, medians of {args.repeats} (new image: {len(rows['ui_new_image_ms'])})")
    head = f"{'measurement':<17}{'median':>8}{'min':>7}{'max':>7}{'target':>8}  {'client':>7}{'server':>8}" \
           f"{'1st δ':>7}{'browser':>8}{'KiB recv':>9}{'longtask':>9}{'exec':>7}"
    print(head)
    print("-" * len(head))
    for name in ("ui_widget_ms", "ui_rollout_ms", "ui_page_ms", "ui_new_image_ms"):
        r = rows[name]
        tot = [x["total"] for x in r]
        print(f"{name:<17}{med(r, 'total'):>8.0f}{min(tot):>7.0f}{max(tot):>7.0f}{targets[name]:>8}  "
              f"{med(r, 'client'):>7.0f}{med(r, 'server'):>8.0f}{med(r, 'first_delta'):>7.0f}{med(r, 'browser'):>8.0f}"
              f"{med(r, 'bytes') / 1024:>9.0f}{med(r, 'longtask'):>9.0f}{med(r, 'exec'):>7.0f}")
    print(f"{'ui_cold_ms':<17}{results['ui_cold_ms']:>8.0f}{'':>14}{targets['ui_cold_ms']:>8}  "
          f"(one measurement; server healthy after {cold_health:.0f} ms)")
    if args.verbose:
        for name, r in rows.items():
            for x in r:
                print(name, {k: (round(v) if isinstance(v, float) and v == v else v) for k, v in x.items()
                             if k not in ("cmds", "big")})
                print("   largest frames (bytes, kind):", x["big"])
                if x["cmds"]:
                    top = sorted(x["cmds"].items(), key=lambda kv: -kv[1])[:6]
                    print("   st commands (ms):", ", ".join(f"{k} {v:.0f}" for k, v in top))
    print(f"1-min load average: {load_before:.2f} before, {os.getloadavg()[0]:.2f} after (other processes share "
          f"these {os.cpu_count()} CPUs: a load over {os.cpu_count()} inflates every number)")
    missed = [n for n, t in targets.items() if results[n] > t]
    print("targets missed: " + (", ".join(missed) if missed else "none"))
    print(f"ui_warmed_first_page_ms={results['ui_warmed_first_page_ms']:.0f} (after a warm-up of {warm_up:.0f} ms "
          f"from launch: {READY})")
    print(f"ui_cold_ms={results['ui_cold_ms']:.0f}")
    print(" ".join(f"{n}={results[n]:.0f}" for n in ("ui_widget_ms", "ui_rollout_ms", "ui_page_ms", "ui_new_image_ms")))
    return 0


def _cpu_name() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return "unknown CPU"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--weights-dir", default=os.environ.get("VITVIZ_WEIGHTS_DIR", str(REPO.parent / "shared" / "weights")))
    p.add_argument("--chromium", default="/usr/bin/chromium")
    p.add_argument("--verbose", action="store_true", help="print every repetition's phases")
    p.add_argument("--profile", action="store_true",
                   help="turn on Streamlit's page_profile messages: script exec time and time per st command")
    args = p.parse_args(argv)
    if args.repeats < 1:
        p.error("--repeats must be ≥ 1")
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
