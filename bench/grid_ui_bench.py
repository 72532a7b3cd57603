"""Grid UI benchmark: the fundraising grid in Chromium, on the LAN and over a slow link, up to 100,000 investors x 40 columns.

What it measures
    Cases are a grid size x a link (--links lan slow) x a front end (this
    tree's, and --baseline's). Each run of a case is one fresh browser context
    (an empty HTTP cache; the token already in sessionStorage under
    "crm.token" through an init script, so no sign-in is timed; 1440x900),
    whose page visits the grid twice:
      - cold: the first visit, on the empty cache;
      - warm: a second navigation in the same page (the cache the first left);
        --no-warm skips it.
    For each visit, from the start of page.goto("/?view=<every row>"):
      - rows: until the first row's Investor cell is in #grid;
      - first interactive rows (the goals): until a double-click on that cell,
        sent as soon as it exists, has opened its editor (.cell-editor).
        Playwright's double-click first waits until the cell is visible,
        stable for two animation frames and hit by the pointer, so a main
        thread still busy loading or rendering is counted. Escape closes it;
      - all rows: until the toolbar counts every row and #grid is no longer
        aria-busy (the grid marks itself busy while it adds pages of rows);
      - the wire (CDP Network events on the page's session): requests made,
        how many were revalidated (304) and how many served from the cache,
        bytes on the wire (Network.loadingFinished encodedDataLength: headers
        and body as received, compressed if it was) in all and for the
        GET /api/fundraising/rows responses.
    Then, on the page of the last visit:
      - remote edit: a second browser page, in its own context under the
        same link, holding a same-origin document (/api/ready, with CSP
        bypassed for that page only so it may fetch), sends one set_cell
        (POST /api/fundraising/ops) with the peer user's token on row 1's
        Investor cell (frozen, so always drawn), a new value each time. Timed
        from just before that fetch() to the moment the first page's
        MutationObserver sees the cell's new text. The two pages' clocks are
        one: each takes performance.timeOrigin + performance.now() (epoch ms,
        the same system clock, both renderers on this machine). "POST ms" is
        the peer's fetch until its answer.
        RTT: the link's emulated latency, 300 ms, is one round trip: Chromium
        adds it once per request, between the request and its response's
        headers, and holds the bytes of a response already open (the event
        stream) to the throughput only. Goal: seen <= RTT + 200 ms = 500 ms.
        The emulated path is the peer's POST (its answer waits the 300 ms,
        but the server has the request at once) and then the event's bytes
        down the open stream; on a real link the request also takes half a
        round trip to arrive and the event half a round trip to come back:
        RTT + server + the event's transfer, which is what the goal allows
        for. So over the emulation, "seen" is the server's and the browsers'
        part, and seen + RTT is what a real 300 ms link would show: both are
        printed;
      - on the LAN, scrolling: (a) jump: the table body's scrollTop set to its
        scrollHeight, until the last row is rendered; (b) smooth: from the
        top, 240 animation frames that each scroll down 100 px (24,000 px);
        the median and p95 frame interval and the frames whose viewport
        centre hit no rendered row (blank);
      - on the LAN, tab memory with only that page open: the largest
        renderer process's RSS from /proc (the renderer pids from CDP
        SystemInfo.getProcessInfo; the page's renderer is the large one, a
        spare renderer is a few tens of MB), the JS heap (Performance.getMetrics
        JSHeapUsedSize / Total) and the DOM node count, after all rows and
        scrolling, and again after the large-range operations;
      - on the LAN at the --ops-sizes, the large-range operations of
        bench/grid_ui_large.py (select N rows x 10 columns, copy, paste, fill
        down; N = --range-rows, at most a third of the grid).
    Goals (the issue's table): 10,000 slow cold first interactive <= 3 s;
    slow all rows <= 15 s; bytes for all rows <= 2 MiB; slow warm first
    interactive <= 2 s; remote edit slow <= RTT + 200 ms; LAN first
    interactive <= 1.5 s at 10,000, <= 2 s at 100,000; scroll frame p95
    <= 50 ms and tab memory <= 1 GiB at 100,000.

How
    The grids are built as bench/grid_bench.py builds them (its build_grid is
    imported; bench/grid_ui_data.py): a real server (backend/server.py) per
    size as a subprocess over a temporary CRM_DATA_DIR, rate limits raised,
    automatic backups off; the admin registers, one ops request adds the 30
    columns (10 funds, 5 formulas, 15 others; 40 in all), rows go in as
    batches of 1,000 add_row ops, a member ("peer") is invited for the remote
    edits, and an unfiltered view is saved. --data-cache DIR keeps each built
    data directory and reuses it (100,000 rows take minutes to build; the
    tokens kept with it last a day). One server per size and front end, over
    a copy of that data (--baseline DIR: CRM_FRONTEND_DIR=DIR over another
    copy), so two front ends are measured side by side on the same data; the
    cases rotate within every round. Chromium is Debian's /usr/bin/chromium,
    headless, as in tests/browser. Each figure is a median over --runs runs;
    one unmeasured LAN load per server first.

Usage
    .venv/bin/python bench/grid_ui_bench.py [--sizes 10000] [--links lan slow] [--runs 3] [--json out.json]
    .venv/bin/python bench/grid_ui_bench.py --sizes 100000 --links lan --data-cache /tmp/grid-ui-cache
    .venv/bin/python bench/grid_ui_bench.py --baseline /tmp/before/frontend   # this tree vs another front end
    .venv/bin/python bench/grid_ui_bench.py --smoke                           # 1,000 rows, both links, one run, ops on
    A --baseline directory must hold its own node_modules (the server refuses
    symlinks that leave its root), e.g.:
      cp -r frontend /tmp/before/ && git show HEAD:frontend/pages/grid.js > /tmp/before/frontend/pages/grid.js
    Exit status 0 when every goal measured for this tree's front end is met and no run had a problem, 1 otherwise.
"""
import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import benchlib  # noqa: E402
import grid_ui_cdp as cdp  # noqa: E402
import grid_ui_data as data  # noqa: E402
import grid_ui_js as js  # noqa: E402
import grid_ui_large as large  # noqa: E402
from benchlib import ROOT, machine  # noqa: E402
from benchlib import median as med  # noqa: E402

from playwright.sync_api import sync_playwright  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
SMOOTH_FRAMES, SMOOTH_STEP = 240, 100   # 24,000 px: ~670 rows of 36 px
VIEWPORT = {"width": 1440, "height": 900}
RTT_MS = cdp.SLOW["latency"]
LOAD_TIMEOUT_MS = 900_000               # all rows of 10,000 over 2 Mbit/s uncompressed: ~80 s; at 100,000 more
GIB = 2**30
VISITS = ("cold", "warm")
PER_VISIT = ("rows_s", "interactive_s", "all_s", "requests", "revalidated", "from_cache", "bytes", "rows_bytes",
             "rows_requests", "t_me", "t_data", "t_rows", "t_editor")
OTHER = ("remote_ms", "post_ms", "jump_ms", "frame_p50_ms", "frame_p95_ms", "blank_frames",
         "rss", "rss_after_ops", "js_heap", "js_heap_after_ops", "dom_nodes",
         "select_ms", "copy_ms", "copy_mib", "paste_ms", "paste_frame_ms", "paste_saved_ms", "fill_ms", "fill_saved_ms")


class Case:
    """One grid size, over one link, under one front end: its server and what was measured."""

    def __init__(self, size: int, link: str, variant: str, server, meta: dict, ops: bool):
        self.size, self.link, self.variant, self.server, self.meta, self.ops = size, link, variant, server, meta, ops
        self.samples = {f"{v}.{k}": [] for v in VISITS for k in PER_VISIT}
        self.samples.update({k: [] for k in OTHER})
        self.problems = []

    @property
    def name(self) -> str:
        return f"{self.size:,} {self.link} {self.variant}"

    def m(self, key: str) -> float:
        return med([x for x in self.samples[key] if x is not None])


def new_page(browser, case: Case, link: str, console: bool = True, **options):
    """A page in a fresh context under `link`, its CDP session (Network on) and the problems it reports
    (page errors; console errors unless `console` is False: the peer's JSON document asks for a /favicon.ico)."""
    context = browser.new_context(base_url=case.server.url, viewport=VIEWPORT, **options)
    context.set_default_timeout(120_000)
    page = context.new_page()
    session = context.new_cdp_session(page)
    cdp.link(session, link)
    page.on("pageerror", lambda e: case.problems.append(f"page error: {e}"))
    if console:
        page.on("console", lambda m: m.type == "error" and case.problems.append(f"console: {m.text[:300]}"))
        # which request it was: the console names only the error (the URL up to its query, never a token)
        page.on("requestfailed", lambda r: None if left_behind(r) else case.problems.append(
            f"request failed: {r.method} {r.url.split('?')[0]} ({r.failure})"))
    return context, page, session


def left_behind(request) -> bool:
    """The event stream, cancelled by the browser as the page it served goes (the warm visit's reload):
    a stream never ends by itself, so this is how each one closes, not a failure."""
    return request.url.split("?")[0].endswith("/api/fundraising/events") and "ERR_ABORTED" in (request.failure or "")


def visit(page, netlog, case: Case, visit_name: str) -> None:
    """One navigation to the grid: first rows, the editor open, all rows in, and its wire figures."""
    meta, s = case.meta, case.samples
    first_cell = f"#grid .tabulator-row .tabulator-cell[tabulator-field='{meta['investor']}']"
    netlog.reset()
    t0 = time.perf_counter()
    page.goto(f"/?view={meta['view_id']}", wait_until="commit")
    page.wait_for_selector(first_cell, timeout=LOAD_TIMEOUT_MS)
    s[f"{visit_name}.rows_s"].append(time.perf_counter() - t0)
    page.locator(first_cell).first.dblclick()
    page.wait_for_selector("#grid .cell-editor")
    s[f"{visit_name}.interactive_s"].append(time.perf_counter() - t0)
    page.keyboard.press("Escape")
    page.wait_for_function(js.ALL_ROWS, arg=case.size, polling="raf", timeout=LOAD_TIMEOUT_MS)
    s[f"{visit_name}.all_s"].append(time.perf_counter() - t0)
    res = page.evaluate(js.RESOURCES)
    for key in ("t_me", "t_data", "t_rows", "t_editor"):
        s[f"{visit_name}.{key}"].append(res[key])
    for key, value in netlog.summary().items():
        s[f"{visit_name}.{key}"].append(value)


def remote_edits(browser, page, case: Case, n: int, seq: list) -> None:
    """n set_cells from the peer's own page under the same link; each until the first page shows it."""
    meta = case.meta
    context, peer, _ = new_page(browser, case, case.link, console=False, bypass_csp=True)
    try:
        peer.goto("/api/ready")
        page.locator("#grid .tabulator-row .row-number", has_text="1").first.wait_for()
        page.locator(".live[data-live='live']").wait_for()
        for _ in range(n):
            seq[0] += 1
            value = f"Remote edit {seq[0]} ({case.link} {case.variant} {case.size})"
            page.evaluate(js.WATCH_CELL, [meta["investor"], value])
            for _attempt in range(2):  # a 409 (the grid moved on: a paste, a fill) is sent again on its version
                body = {"base_version": meta["version"], "ops": [
                    {"op": "set_cell", "row_id": meta["first_row"], "column_id": meta["investor"], "value": value}]}
                got = peer.evaluate(js.PEER_SET_CELL, [meta["peer_token"], body])
                if got["version"]:
                    meta["version"] = got["version"]
                if got["status"] != 409:
                    break
            seen = page.evaluate(js.SEEN)
            if got["status"] != 200 or seen is None:
                case.problems.append(f"remote edit: HTTP {got['status']}, seen {seen}")
                continue
            case.samples["remote_ms"].append(seen - got["t0"])
            case.samples["post_ms"].append(got["post_ms"])
    finally:
        context.close()


def scrolling(page, case: Case) -> None:
    jump = page.evaluate(js.JUMP, case.size)
    if jump is None:
        case.problems.append("the last row never rendered after the jump to the bottom")
    else:
        case.samples["jump_ms"].append(jump)
    smooth = page.evaluate(js.SMOOTH, [SMOOTH_FRAMES, SMOOTH_STEP])
    case.samples["frame_p50_ms"].append(smooth["p50"])
    case.samples["frame_p95_ms"].append(smooth["p95"])
    case.samples["blank_frames"].append(smooth["blank"])


def one_run(browser, browser_session, case: Case, args, seq: list, warmup: bool = False) -> None:
    context, page, session = new_page(browser, case, case.link)
    context.add_init_script(script=f"sessionStorage.setItem('crm.token', {json.dumps(case.server.token)})")
    context.add_init_script(script=js.MARKS_INIT)
    netlog = cdp.NetLog(session)
    bad_ops = []
    page.on("response", lambda r: "/api/fundraising/ops" in r.url and r.status >= 400 and bad_ops.append(r.status))
    try:
        visit(page, netlog, case, "cold")
        if warmup:
            return
        if args.warm:
            visit(page, netlog, case, "warm")
        remote_edits(browser, page, case, args.remote, seq)
        if case.link != "lan":
            return
        scrolling(page, case)
        mem = cdp.tab_memory(browser_session, session)
        case.samples["rss"].append(mem["renderer_rss"])
        case.samples["js_heap"].append(mem["js_heap_used"])
        case.samples["dom_nodes"].append(mem["dom_nodes"])
        if case.ops:
            large.run(page, case.size, min(args.range_rows, (case.size - 2) // 3), case.meta["investor"],
                      case.samples, case.problems)
            mem = cdp.tab_memory(browser_session, session)
            case.samples["rss_after_ops"].append(mem["renderer_rss"])
            case.samples["js_heap_after_ops"].append(mem["js_heap_used"])
        if bad_ops:
            case.problems.append(f"ops answered {sorted(set(bad_ops))}")
    except Exception:
        print(f"run failed ({case.name}): {case.problems[-5:]}; page state: {page.evaluate(js.FAILURE_STATE)}; "
              f"page text: {page.locator('body').inner_text()[:300]!r}", file=sys.stderr)
        raise
    finally:
        context.close()


def prepare(size: int, frontends: dict, args) -> list:
    """A grid of `size` rows (built or from the cache), then one server per front end over a copy: the cases."""
    label = f"s{size}"
    built_dir, meta = data.grid(size, label, args.backend.resolve(), frontends["this tree"], args.seed, args.data_cache)
    cases = []
    for i, (variant, frontend) in enumerate(frontends.items()):
        data_dir = data.copy(built_dir, f"{label}-{i}") if i else built_dir
        server = data.UIServer(f"{label}-{variant}", args.backend.resolve(), frontend, data_dir)
        server.wait_ready(timeout=180)
        server.token = meta["token"]
        server.ok("GET", "/api/fundraising/rows?limit=1")  # builds the live snapshot before anything is timed
        own = dict(meta)  # one per server (the grid version moves with its edits), shared by its links
        for link in args.links:
            cases.append(Case(size, link, variant, server, own, size in args.ops_sizes))
    return cases


def goals(case: Case) -> list:
    """(what, figure, goal, met) for this case: the issue's table."""
    out = []

    def goal(what, value, limit, text):
        if value == value:  # not NaN: measured
            out.append((what, value, text, value <= limit))
    if case.link == "slow" and case.size == 10_000:
        goal("slow cold: first interactive", case.m("cold.interactive_s"), 3, "<= 3 s")
        goal("slow warm: first interactive", case.m("warm.interactive_s"), 2, "<= 2 s")
        goal("slow: all rows in", case.m("cold.all_s"), 15, "<= 15 s")
        goal("remote edit seen (+ RTT)", case.m("remote_ms") + RTT_MS, RTT_MS + 200, f"<= {RTT_MS + 200} ms")
    if case.size == 10_000:
        goal("bytes for all rows (MiB)", case.m("cold.rows_bytes") / 2**20, 2, "<= 2 MiB")
    if case.link == "lan" and case.size in (10_000, 100_000):
        limit = 1.5 if case.size == 10_000 else 2
        goal("LAN cold: first interactive", case.m("cold.interactive_s"), limit, f"<= {limit:g} s")
    if case.link == "lan" and case.size == 100_000:
        goal("scroll frame p95 ms", case.m("frame_p95_ms"), 50, "<= 50 ms")
        goal("tab memory GiB", max(case.m("rss"), case.m("rss_after_ops") if case.samples["rss_after_ops"] else 0) / GIB,
             1, "<= 1 GiB")
    return out


def print_tables(cases) -> None:
    head = ("size", "link", "front end", "visit", "N", "rows s", "interactive s", "all rows s", "requests", "304", "cache",
            "MiB on wire", "rows MiB", "rows reqs")
    body = []
    for c in cases:
        for v in VISITS:
            if not c.samples[f"{v}.interactive_s"]:
                continue
            m = lambda k: c.m(f"{v}.{k}")  # noqa: E731
            body.append((f"{c.size:,}", c.link, c.variant, v, str(len(c.samples[f"{v}.interactive_s"])), f"{m('rows_s'):.2f}",
                         f"{m('interactive_s'):.2f}", f"{m('all_s'):.2f}", f"{m('requests'):.0f}", f"{m('revalidated'):.0f}",
                         f"{m('from_cache'):.0f}", f"{m('bytes') / 2**20:.2f}", f"{m('rows_bytes') / 2**20:.2f}",
                         f"{m('rows_requests'):.0f}"))
    benchlib.print_table(head, body, left=(1, 2, 3))
    print()
    head = ("size", "link", "front end", "remote seen ms", "(+RTT)", "POST ms", "jump ms", "frame p50/p95 ms", "blank",
            "renderer RSS MiB", "JS heap MiB", "DOM nodes", "RSS after ops MiB")
    body = []
    for c in cases:
        mib = lambda k: f"{c.m(k) / 2**20:.0f}" if c.samples[k] else "-"  # noqa: E731
        lan = c.link == "lan"
        body.append((f"{c.size:,}", c.link, c.variant, f"{c.m('remote_ms'):.0f}",
                     f"{c.m('remote_ms') + (RTT_MS if c.link == 'slow' else 0):.0f}", f"{c.m('post_ms'):.0f}",
                     f"{c.m('jump_ms'):.0f}" if lan else "-",
                     f"{c.m('frame_p50_ms'):.1f} / {c.m('frame_p95_ms'):.1f}" if lan else "-",
                     f"{c.m('blank_frames'):.0f}" if lan else "-", mib("rss"), mib("js_heap"),
                     f"{c.m('dom_nodes'):.0f}" if c.samples["dom_nodes"] else "-", mib("rss_after_ops")))
    benchlib.print_table(head, body, left=(1, 2))
    ops = [c for c in cases if c.samples["select_ms"]]
    if ops:
        print()
        head = ("size", "front end", "select ms", "copy ms", "copy MiB", "paste ms", "paste +frames ms", "paste saved ms",
                "fill ms", "fill saved ms")
        benchlib.print_table(head, [(f"{c.size:,}", c.variant, *(f"{c.m(k):.0f}" for k in (
            "select_ms", "copy_ms")), f"{c.m('copy_mib'):.2f}", *(f"{c.m(k):.0f}" for k in (
                "paste_ms", "paste_frame_ms", "paste_saved_ms", "fill_ms", "fill_saved_ms"))) for c in ops], left=(1,))


def report(cases) -> bool:
    """The tables, each case's goals and problems; True when every goal of this tree's front end is met."""
    print()
    print_tables(cases)
    ok = True
    for c in cases:
        print(f"{c.name}: cold interactive per run {', '.join(f'{x:.2f}' for x in c.samples['cold.interactive_s'])}; "
              f"in page time (medians): /me sent {c.m('cold.t_me'):.0f} ms, grid data in {c.m('cold.t_data'):.0f} ms, "
              f"rows drawn {c.m('cold.t_rows'):.0f} ms, editor open {c.m('cold.t_editor'):.0f} ms")
        for what, value, text, met in goals(c):
            print(f"  goal {what}: {value:.2f} ({text}) {'met' if met else 'MISSED'}")
            ok = ok and (met or c.variant != "this tree")
        for problem in sorted(set(c.problems)):
            print(f"  PROBLEM: {problem}")
            ok = False
    return ok


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000])
    parser.add_argument("--links", nargs="+", choices=cdp.LINKS, default=list(cdp.LINKS))
    parser.add_argument("--runs", type=int, default=3, help="runs (a fresh context: cold visit, then warm) per case")
    parser.add_argument("--remote", type=int, default=3, help="remote edits per run")
    parser.add_argument("--no-warm", dest="warm", action="store_false", help="no second (warm cache) visit")
    parser.add_argument("--ops-sizes", type=int, nargs="*", default=[100_000], help="sizes at which the large-range "
                        "operations run (LAN)")
    parser.add_argument("--range-rows", type=int, default=5000, help="rows of the selected / copied / pasted / filled range")
    parser.add_argument("--data-cache", type=Path, help="keep built grids here and reuse them")
    parser.add_argument("--smoke", action="store_true", help="1,000 rows, both links, one run, the range operations on 300 rows")
    parser.add_argument("--frontend", type=Path, default=ROOT / "frontend", help="the front end to measure (default: this tree's)")
    parser.add_argument("--baseline", type=Path, help="another front end directory, measured side by side on the same data")
    parser.add_argument("--backend", type=Path, default=benchlib.BACKEND)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", metavar="PATH")
    args = parser.parse_args(argv)
    if args.smoke:
        args.sizes, args.runs, args.remote, args.ops_sizes, args.range_rows = [1000], 1, 2, [1000], 300
    info = machine()
    print(f"machine: {info['nproc']} CPUs, {info['cpu']}, Python {info['python']}; "
          f"load average at start {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    frontends = {"this tree": args.frontend.resolve()}
    if args.baseline:
        frontends["baseline"] = args.baseline.resolve()
    cases, loads, failed = [], [], True
    try:
        for size in args.sizes:
            cases += prepare(size, frontends, args)
        print(f"measuring {args.runs} runs of {len(cases)} cases (rotating order), {args.remote} remote edits per run ...",
              flush=True)
        seq = [0]
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
            browser_session = browser.new_browser_cdp_session()
            try:
                # One unmeasured LAN load per server: the server's and Chromium's first-use costs.
                for case in {id(c.server): c for c in cases}.values():
                    one_run(browser, browser_session, Case(case.size, "lan", case.variant, case.server, case.meta, False),
                            args, seq, warmup=True)
                for run in range(args.runs):
                    k = run % len(cases)
                    for case in cases[k:] + cases[:k]:
                        one_run(browser, browser_session, case, args, seq)
                    loads.append(os.getloadavg()[0])
                    print(f"  run {run + 1}/{args.runs} done (load {loads[-1]:.2f})", flush=True)
            finally:
                browser.close()
        ok = report(cases)
        print(f"load average (1 min) after each run: {', '.join(f'{x:.2f}' for x in loads)}")
        print("goals: " + ("met" if ok else "MISSED (or a problem)"))
        if args.json:
            Path(args.json).write_text(json.dumps({
                "machine": info, "runs": args.runs, "remote": args.remote, "load_average": loads, "slow_link": cdp.SLOW,
                "cases": [{"size": c.size, "link": c.link, "front_end": c.variant, "samples": c.samples,
                           "medians": {k: c.m(k) for k in c.samples}, "problems": c.problems,
                           "goals": [{"what": g[0], "value": g[1], "goal": g[2], "met": g[3]} for g in goals(c)]}
                          for c in cases]}, indent=2) + "\n")
            print(f"wrote {args.json}")
        failed = False
        return 0 if ok else 1
    finally:
        for server in {id(c.server): c.server for c in cases}.values():
            code = server.stop()
            if code not in (0, None) or failed:
                print(f"{server.label} exited with {code}; its log:\n{server.log_tail()}", file=sys.stderr)
            shutil.rmtree(server.data_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
