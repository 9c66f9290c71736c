"""A lecture hall: N students open the dashboard's link at once (or over S seconds), each asking for a
view no one else asked for, then all move the "Layer" slider at once.

    python bench/hall.py [--n 30] [--spread 0] [--sizes 196-252] [--uploads [FRACTION]]
                         [--replicas 1] [--cache-bytes 512M] [--batch N] [--runs 1]
                         [--py-spy FILE] [--bound-mib MIB] [--weights-dir DIR]

Each student is a real Streamlit session over Streamlit's websocket protocol (``bench/stsession.py``:
the front end's messages, no browser, no JavaScript or pictures fetched): it opens
``/attention?sample=S&size=P`` (student i: sample ``i mod 6``, size ``sizes[(i div 6) mod len]``),
or, for an uploading student, ``/attention`` (224 px), switches "Image source" to Upload and
uploads a picture of its own (a bundled sample, cropped and rotated by its number, 640 px JPEG)
through Streamlit's upload endpoint. **First page**: from its first request (``GET /``) to the
``script_finished`` of the run that shows its view (for an upload, the run after the upload).
**Step**: once every student has its first page, all of them move "Layer" by one at the same moment;
the time from the widget message to the fragment's ``script_finished``. A student fails when a run
shows an exception or an error box, the Layer slider is missing, the step does not land on the new
layer, or nothing comes back within 120 s; a link whose size the sidebar refuses (over the cache
budget's per-analysis share) gets the default size with a notice, and is counted apart.

The server (``streamlit run app/serve.py``, README's command, with ``MALLOC_ARENA_MAX=2``) is started
here on 127.0.0.1 and warmed up before the students arrive; its memory is read from ``/proc``:
``VmHWM``, the kernel's own high-water mark of resident memory. With ``--replicas K``, K servers sit
behind nginx (``bench/proxy.py``, README's recipe: sticky sessions on a route cookie) and the
memory is the sum of the replicas' peaks; the run also checks that every browser's requests went to
one replica and that more than one replica served.

Each run also prints the server's CPU seconds (steadier than wall time on a shared machine), the
batched forwards its log reports (``--batch``), and, with ``--cache-bytes``, the peak RSS against the
bound the README states: the warmed-up server plus ``VITVIZ_CACHE_BYTES`` plus ``--session-mib`` (3 MiB) for
every student, the part an open session keeps itself (its page's pictures, Streamlit's copies of its
messages, its image); without the sessions' part the line says so too.

The last line: ``hall_n=… hall_first_p50_ms=… hall_first_p95_ms=… hall_step_p95_ms=… hall_failed=…
hall_rss_mib=…`` (medians over ``--runs``, each on fresh servers).
"""
from __future__ import annotations

import argparse
import asyncio
import io
import math
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from stserver import READY, REPO, Server, free_port, proc_cpu_seconds
from stsession import Session, SessionError

SAMPLES = ["astronaut", "cat", "coffee", "flower", "rocket", "temple"]
PATCH = 14  # DINOv2 ViT-S/14: sizes are multiples of its patch
NATIVE = 224
STEP_LABEL = "Layer"
TIMEOUT = 120.0


@dataclass
class Student:
    index: int
    arrive: float  # seconds after the start of the run
    sample: str
    size: int
    upload: bool
    first_s: Optional[float] = None
    step_s: Optional[float] = None
    error: str = ""
    fell_back: bool = False  # the link's size was refused (over the cache budget's per-analysis share)
    route: str = ""
    session: Optional[Session] = field(default=None, repr=False)


def parse_sizes(text: Optional[str], n: int) -> list[int]:
    """``"196-252"`` (every multiple of the patch between), ``"112,224,336"``, or None: the fewest sizes
    around 224 that give every student a view of their own (6 samples per size), 56–448 px."""
    if text:
        if "-" in text:
            lo, hi = (int(v) for v in text.split("-", 1))
            return list(range(math.ceil(lo / PATCH) * PATCH, hi + 1, PATCH))
        return [int(v) for v in text.split(",")]
    sizes = [NATIVE]
    k = 1
    while len(sizes) * len(SAMPLES) < n and (NATIVE - k * PATCH >= 4 * PATCH or NATIVE + k * PATCH <= 2 * NATIVE):
        sizes += [s for s in (NATIVE - k * PATCH, NATIVE + k * PATCH) if 4 * PATCH <= s <= 2 * NATIVE]
        k += 1
    return sorted(sizes)


def plan(n: int, spread: float, sizes: list[int], uploads: float) -> list[Student]:
    """Student i arrives at ``i·spread/n`` s; every ``1/uploads``-th student uploads."""
    every = round(1 / uploads) if uploads > 0 else 0
    students = []
    for i in range(n):
        upload = bool(every) and i % every == 0
        # An uploader's view is its own picture at the model's size: the sidebar drops a link's size
        # when "Upload" is chosen (no image, no size picker, so the size widget and its URL value go).
        size = NATIVE if upload else sizes[(i // len(SAMPLES)) % len(sizes)]
        students.append(Student(i, i * spread / n if spread else 0.0, SAMPLES[i % len(SAMPLES)], size, upload))
    return students


def upload_picture(index: int, side: int = 640) -> bytes:
    """A JPEG no one else uploads: sample ``index mod 6``, rotated ``3·index`` degrees, cropped by ``index`` px."""
    from PIL import Image

    sample = REPO / "vitviz" / "samples" / f"{SAMPLES[index % len(SAMPLES)]}.jpg"  # vitviz.inputs.images.SAMPLES
    with Image.open(sample) as im:
        im = im.convert("RGB").rotate(3 * index, expand=False)
        w, h = im.size
        im = im.crop((index % 50, index % 37, w - (index % 23), h - (index % 29)))
        im.thumbnail((side, side))
        out = io.BytesIO()
        im.save(out, "JPEG", quality=88)
    return out.getvalue()


async def visit(st: Student, base: str, t_start: float, all_first: asyncio.Event, arrived: list[int],
                step_go: asyncio.Event, step_done: list[int], n: int) -> None:
    """One student: arrive, open their view, wait for everyone, step the Layer slider once."""
    await asyncio.sleep(max(0.0, t_start + st.arrive - time.perf_counter()))
    s = Session(base)
    st.session = s
    try:
        t0 = time.perf_counter()
        await s.fetch_cookies()
        st.route = s.cookies.get("vv_route", "")
        query = "" if st.upload else f"sample={st.sample}&size={st.size}"
        run = await s.open("attention", query, TIMEOUT)
        if st.upload:
            check(run)
            source = next(w for w in s.widgets.values() if w.kind == "radio" and "Upload" in list(w.proto.options))
            run = await s.change(source.proto.label, TIMEOUT, string_value="Upload")
            check(run, need_slider=False)
            uploader = next(label for label, w in s.widgets.items() if w.kind == "file_uploader")
            run = await s.upload(uploader, f"student{st.index}.jpg", upload_picture(st.index), "image/jpeg", TIMEOUT)
        check(run)
        if st.size != NATIVE and f"size={st.size}" not in s.query_string:
            # the sidebar refused the size (over the per-analysis budget) and showed its notice: a view
            # the app chose to serve differently, counted apart from failures
            st.fell_back = True
        st.first_s = time.perf_counter() - t0
    except Exception as exc:  # noqa: BLE001 - a failed student is a result, not a crash of the benchmark
        st.error = f"first page: {type(exc).__name__}: {exc}"
    finally:
        arrived[0] += 1
        if arrived[0] == n:
            all_first.set()
    await step_go.wait()
    try:
        if st.first_s is not None:
            slider = s.widgets[STEP_LABEL].proto
            value = int(slider.value[0])
            new = value - 1 if value > slider.min else value + 1
            run = await s.change(STEP_LABEL, TIMEOUT, double_array_value=[float(new)])
            check(run)
            got = int(s.widgets[STEP_LABEL].proto.value[0])
            if got != new:
                raise SessionError(f"stepped the layer to {new}, the page shows {got}")
            st.step_s = run.seconds
    except Exception as exc:  # noqa: BLE001
        st.error = st.error or f"step: {type(exc).__name__}: {exc}"
    finally:
        step_done[0] += 1


def check(run, need_slider: bool = True) -> None:
    if run.errors:
        raise SessionError("; ".join(run.errors[:2]))
    if run.status not in ("ok", "fragment ok"):
        raise SessionError(f"script finished: {run.status}")
    if need_slider and STEP_LABEL not in run.labels:
        raise SessionError(f"no {STEP_LABEL!r} slider on the page")


async def drive(students: list[Student], base: str) -> None:
    n = len(students)
    all_first, step_go = asyncio.Event(), asyncio.Event()
    arrived, step_done = [0], [0]
    t_start = time.perf_counter() + 0.2
    tasks = [asyncio.create_task(visit(st, base, t_start, all_first, arrived, step_go, step_done, n))
             for st in students]
    await all_first.wait()
    await asyncio.sleep(0.5)  # a breath after the last first page: the step starts from a quiet server
    step_go.set()
    await asyncio.wait_for(asyncio.gather(*tasks), TIMEOUT + 30)
    await asyncio.gather(*(st.session.close() for st in students if st.session is not None), return_exceptions=True)


def start_py_spy(out: str, pid: int, gil: bool = False) -> subprocess.Popen:
    """``py-spy record`` of the server (every thread, idle ones left out) into ``out`` as collapsed stacks;
    ``gil``: only the thread holding the interpreter lock at each sample (what keeps the others waiting)."""
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    proc = subprocess.Popen([spy, "record", "--pid", str(pid), "--output", out, "--format", "raw", "--rate", "100",
                             "--threads", "--nonblocking", *(["--gil"] if gil else [])],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1.0)  # attached before the first student arrives
    return proc


def stop_py_spy(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGINT)  # py-spy writes its file on SIGINT
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


def parse_bytes(text: str) -> int:
    """``512M``, ``2G``, ``1048576`` → bytes (the grammar of ``VITVIZ_CACHE_BYTES``, app/caches.cache_budget)."""
    text = text.strip().upper()
    scale = {"K": 1024, "M": 1024 ** 2, "G": 1024 ** 3}.get(text[-1:], 1)
    return int(float(text.rstrip("KMG")) * scale)


def pct(values: list[float], q: float) -> float:
    """Nearest-rank percentile (``q`` in 0–100) of ``values``; nan when empty."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def one_run(args, sizes: list[int], weights: Path) -> dict:
    from proxy import Nginx

    env = {"MALLOC_ARENA_MAX": "2"}
    if args.cache_bytes:
        env["VITVIZ_CACHE_BYTES"] = args.cache_bytes
    if args.batch:
        env["VITVIZ_BATCH"] = str(args.batch)
    servers = [Server(weights, env=env) for _ in range(args.replicas)]
    proxy = None
    try:
        for server in servers:  # one after the other: two warm-ups at once would share 2 cores
            server.wait_for_log(READY)
        base = servers[0].url
        if args.replicas > 1:
            proxy = Nginx(free_port(), [s.port for s in servers])
            base = proxy.url
        warm = [s.memory_mib()[0] for s in servers]
        students = plan(args.n, args.spread, sizes, args.uploads)
        load_before = os.getloadavg()[0]
        spy = start_py_spy(args.py_spy, servers[0].proc.pid, args.py_spy_gil) if args.py_spy else None
        cpu0 = sum(proc_cpu_seconds(s.proc.pid) for s in servers)
        client0 = time.process_time()
        t0 = time.perf_counter()
        try:
            asyncio.run(drive(students, base))
        finally:
            wall = time.perf_counter() - t0
            cpu = sum(proc_cpu_seconds(s.proc.pid) for s in servers) - cpu0
            client_cpu = time.process_time() - client0
            if spy is not None:
                stop_py_spy(spy)
        time.sleep(1.0)
        mem = [s.memory_mib() for s in servers]
        batches = [int(m) for s in servers for m in re.findall(r"batched forward: (\d+) images", s.log_text())]
        routes = proxy.routes() if proxy else {}
        for s in servers:
            if s.proc.poll() is not None:
                raise RuntimeError(f"a server exited during the run:\n{s.tail()}")
    finally:
        if proxy is not None:
            proxy.stop()
        for s in servers:
            s.stop()
    first = [st.first_s * 1000 for st in students if st.first_s is not None]
    step = [st.step_s * 1000 for st in students if st.step_s is not None]
    failed = [st for st in students if st.error]
    return {"first": first, "step": step, "failed": failed, "warm": sum(warm), "end": sum(m[0] for m in mem),
            "peak": sum(m[1] for m in mem), "peaks": [m[1] for m in mem], "wall": wall, "load": load_before,
            "routes": routes, "students": students, "batches": batches,
            "cpu": cpu, "client_cpu": client_cpu}


def report(i: int, r: dict, args) -> None:
    print(f"run {i + 1}: {args.n} students, {'at once' if not args.spread else f'over {args.spread:g} s'}, "
          f"{len(r['failed'])} failed, {r['wall']:.1f} s wall, server CPU {r['cpu']:.1f} s, this client's CPU "
          f"{r['client_cpu']:.1f} s, 1-min load {r['load']:.2f} before")
    for name in ("first", "step"):
        v = r[name]
        print(f"  {name + ' page' if name == 'first' else 'slider step':<12} p50 {pct(v, 50):7.0f} ms  "
              f"p95 {pct(v, 95):7.0f} ms  max {max(v, default=float('nan')):7.0f} ms  (n={len(v)})")
    peaks = " + ".join(f"{p:.0f}" for p in r["peaks"])
    b = r["batches"]
    print(f"  batched forwards: {len(b)}, {sum(b)} images in them, largest {max(b, default=0)} (the rest ran alone)")
    print(f"  server RSS: {r['warm']:.0f} MiB warmed up, peak {r['peak']:.0f} MiB ({peaks}), "
          f"{r['end']:.0f} MiB after the sessions closed")
    if args.replicas > 1:
        routes = r["routes"]
        split = [len(v) for v in routes.values()]
        used = set().union(*routes.values()) if routes else set()
        print(f"  nginx: {len(routes)} route cookies, each on {max(split, default=0)} replica(s) at most "
              f"({'sticky' if split and max(split) == 1 else 'NOT sticky'}); replicas used: {len(used)}")
        r["sticky"] = bool(split) and max(split) == 1 and len(used) == args.replicas
    fell = [st for st in r["students"] if st.fell_back]
    if fell:
        print(f"  {len(fell)} links asked for a size over the per-analysis budget (largest {max(st.size for st in fell)} px) "
              f"and got the default size with a notice")
    for st in r["failed"][:5]:
        print(f"  failed: student {st.index} ({st.sample if not st.upload else 'upload'}, {st.size} px): {st.error}")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=30, help="students (default 30)")
    p.add_argument("--spread", type=float, default=0.0, help="arrivals evenly over S seconds (default 0: at once)")
    p.add_argument("--sizes", help="input sizes: '196-252' (multiples of 14), '112,224,336'; default: enough "
                                   "sizes around 224 px for a view per student")
    p.add_argument("--uploads", type=float, nargs="?", const=1.0, default=0.0,
                   help="fraction of students who upload a picture of their own (flag alone: all)")
    p.add_argument("--replicas", type=int, default=1, help="servers behind nginx (default 1: no proxy)")
    p.add_argument("--cache-bytes", help="VITVIZ_CACHE_BYTES for the server(s), e.g. 256M")
    p.add_argument("--batch", type=int, help="VITVIZ_BATCH for the server(s): images per batched forward (1: off; "
                                              "unset: the server's default, 1 on the CPU, 8 on a GPU)")
    p.add_argument("--session-mib", type=float, default=3.0,
                   help="what the README states an open session keeps itself, in the bound (default 3 MiB)")
    p.add_argument("--bound-mib", type=float,
                   help="print the peak RSS against this bound (default with --cache-bytes: the warmed-up RSS "
                        "+ the cache budget, per replica)")
    p.add_argument("--py-spy", metavar="FILE", help="record the (first) server with py-spy while the students run: "
                                                    "collapsed stacks in FILE (pip install py-spy)")
    p.add_argument("--py-spy-gil", action="store_true", help="with --py-spy: sample only the thread that holds the "
                                                            "interpreter lock (py-spy --gil)")
    p.add_argument("--runs", type=int, default=1, help="repeat on fresh servers; the last line gives medians")
    p.add_argument("--weights-dir", default=os.environ.get("VITVIZ_WEIGHTS_DIR", str(REPO.parent / "shared" / "weights")))
    args = p.parse_args(argv)
    if not 1 <= args.n <= 500:
        p.error("--n must be 1–500")
    if not 1 <= args.replicas <= 8:
        p.error("--replicas must be 1–8")
    if not 0 <= args.uploads <= 1:
        p.error("--uploads must be a fraction 0–1")
    if not 1 <= args.runs <= 5 or args.spread < 0 or args.spread > 600:
        p.error("--runs must be 1–5 and --spread 0–600")
    try:
        sizes = parse_sizes(args.sizes, args.n)
        if args.cache_bytes:
            parse_bytes(args.cache_bytes)
    except ValueError:
        p.error("--sizes takes '196-252' or '112,224,336'; --cache-bytes takes e.g. 256M, 2G")
    if not sizes or any(size < 4 * PATCH or size % PATCH for size in sizes):
        p.error(f"input sizes must be multiples of {PATCH} from {4 * PATCH} px: {sizes}")
    weights = Path(args.weights_dir).resolve()
    print(f"vitviz hall: {args.n} students, sizes {sizes[0]}–{sizes[-1]} px ({len(sizes)}), uploads "
          f"{args.uploads:.0%}, {args.replicas} replica(s), VITVIZ_CACHE_BYTES={args.cache_bytes or 'default'}, "
          f"{os.cpu_count()} CPUs (shared with other work: timings are noisy)")
    results = []
    for i in range(args.runs):
        r = one_run(args, sizes, weights)
        report(i, r, args)
        results.append(r)
    med = {
        "first_p50": statistics.median(pct(r["first"], 50) for r in results),
        "first_p95": statistics.median(pct(r["first"], 95) for r in results),
        "step_p95": statistics.median(pct(r["step"], 95) for r in results),
        "failed": statistics.median(len(r["failed"]) for r in results),
        "rss": statistics.median(r["peak"] for r in results),
    }
    bound, caches = args.bound_mib, None
    if bound is None and args.cache_bytes:
        caches = statistics.median(r["warm"] for r in results) + args.replicas * parse_bytes(args.cache_bytes) / 2**20
        bound = caches + args.n * args.session_mib
    if bound is not None:
        verdict = "within" if med["rss"] <= bound else "OVER"
        what = (f"warmed-up RSS + VITVIZ_CACHE_BYTES + {args.n} sessions x {args.session_mib:g} MiB"
                if caches is not None else "--bound-mib")
        print(f"peak RSS {med['rss']:.0f} MiB vs bound {bound:.0f} MiB ({what}): {verdict}")
        if caches is not None:
            print(f"  (the caches' part alone: {caches:.0f} MiB; the sessions' part is the rest)")
    if args.replicas > 1:
        print("sticky sessions: " + ("yes, every browser on one replica, all replicas used"
                                     if all(r.get("sticky") for r in results) else "NO"))
    print(f"hall_n={args.n} hall_first_p50_ms={med['first_p50']:.0f} hall_first_p95_ms={med['first_p95']:.0f} "
          f"hall_step_p95_ms={med['step_p95']:.0f} hall_failed={med['failed']:g} hall_rss_mib={med['rss']:.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
