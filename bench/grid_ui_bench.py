"""Grid UI benchmark: the fundraising grid in Chromium at 5,000 and 10,000 investors x 40 columns.

What it measures
    For each grid size, in a fresh browser context each run (no cache, the
    token already in sessionStorage under "crm.token" through an init script,
    so no sign-in is timed), with a 1440x900 viewport:
      - rows: from the start of page.goto("/?view=<first view>") until the
        first row's Investor cell is in #grid (the page, its modules, /me,
        the grid's API calls and Tabulator's first render all included);
      - first interactive rows (the goal): from the same start until a
        double-click on that cell, sent as soon as it exists, has opened
        its editor (.cell-editor in #grid). Playwright's double-click first
        waits until the cell is visible, stable for two animation frames and
        hit by the pointer, so a main thread still busy loading or rendering
        is counted. The editor is closed with Escape (nothing is saved);
      - all rows: from the same start until the count in the toolbar shows
        every row ("10000 investors") and #grid is not aria-busy (the grid
        marks itself busy while it adds pages of rows after the first);
      - remote edit: a second user's set_cell (POST /api/fundraising/ops,
        one op, on the Investor cell of row 1 (frozen, so always drawn: the
        grid draws only the columns in view), a new value each time) until
        that cell's text in the page is the new value. Both ends are timed
        in the page with performance.now(): the POST is sent by fetch() from
        the page with the second user's token (it is that user's session,
        not the page's, so the grid treats it as someone else's edit), and
        a MutationObserver on #grid sees the text change (before the next
        paint). The path measured: the server applies the op, wakes the
        event stream, the page parses the event and updates the row;
      - scrolling: (a) jump: the table body's scrollTop set to its
        scrollHeight, until the row numbered N (the last) is rendered;
        (b) smooth: from the top, 240 animation frames that each scroll
        down 100 px (24,000 px, ~670 rows); reported are the median and
        p95 frame interval and the frames whose viewport centre hit no
        rendered row (blank).
    The goal: the median of "first interactive rows" <= 1.5 s at 10,000.

How
    The grids are built as bench/grid_bench.py builds them (its functions are
    imported): a real server (backend/server.py) per size as a subprocess over
    a temporary CRM_DATA_DIR, rate limits raised, automatic backups off; the
    admin registers, one ops request adds the 30 columns (10 funds, 5
    formulas, 15 others; 40 in all), then rows go in as batches of 1,000
    add_row ops. A member ("peer") is added through the admin API for the
    remote edits. With --baseline DIR the built data directory is copied
    (server stopped first) and a second server runs over the copy with
    CRM_FRONTEND_DIR=DIR, so two front ends are measured side by side on the
    same data; the cases (size x front end) rotate within every round.
    Chromium is Debian's /usr/bin/chromium, headless, as in tests/browser.
    Every figure is a median over the runs (each run: one page load, then
    --remote remote edits, then the two scroll checks).

Usage
    .venv/bin/python bench/grid_ui_bench.py [--sizes 5000 10000] [--runs 5] [--remote 4] [--json out.json]
    .venv/bin/python bench/grid_ui_bench.py --baseline /tmp/before/frontend   # this tree vs another front end
    .venv/bin/python bench/grid_ui_bench.py --sizes 1000 --runs 1             # smoke run
    A --baseline directory must hold its own node_modules (the server refuses
    symlinks that leave its root), e.g.:
      cp -r frontend /tmp/before/ && git show HEAD:frontend/pages/grid.js > /tmp/before/frontend/pages/grid.js
    Exit status 0 when the goal is met at the largest size (this tree's front end), 1 otherwise.
"""
import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import benchlib  # noqa: E402
import grid_bench as gb  # noqa: E402
from benchlib import ROOT, machine  # noqa: E402
from benchlib import median as med  # noqa: E402

from playwright.sync_api import sync_playwright  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
GOAL_INTERACTIVE_S = 1.5
SMOOTH_FRAMES, SMOOTH_STEP = 240, 100   # 24,000 px: ~670 rows of 36 px
VIEWPORT = {"width": 1440, "height": 900}
PEER_PASSWORD = "peer password 1234"


class UIServer(gb.Server):
    """grid_bench's server, with the front end directory chosen and optionally over an existing data directory."""

    def __init__(self, label: str, backend: Path, frontend: Path, data_dir: Path = None):
        # Appending to the log: a copied data directory already holds the builder's.
        super().__init__(label, backend, data_dir=data_dir, prefix=f"crm-grid-ui-bench-{label}-", log_mode="ab",
                         frontend=frontend)


def add_peer(server: UIServer) -> str:
    """A member through the invite flow; returns their token."""
    doc = server.ok("POST", "/api/admin/users", {"username": "peer", "role": "member", "email": "peer@fund.example"},
                    expect=201)["data"]
    admin_token, server.token = server.token, None
    try:
        peer = server.ok("POST", "/api/auth/accept-invite", {"token": doc["invite"]["token"], "password": PEER_PASSWORD})
    finally:
        server.token = admin_token
    return peer["data"]["token"]


class Case:
    """One grid size under one front end: its server and what was measured."""

    def __init__(self, size: int, variant: str, server: UIServer, meta: dict):
        self.size, self.variant, self.server, self.meta = size, variant, server, meta
        self.samples = {k: [] for k in ("rows_s", "interactive_s", "all_s", "remote_ms", "post_ms", "jump_ms",
                                        "frame_p50_ms", "frame_p95_ms", "blank_frames", "state_ms", "rows_api_ms",
                                        "t_me", "t_data", "t_rows", "t_editor")}
        self.problems = []


# Marks, in page time (ms since navigation start): the first row in #grid and the first open editor.
MARKS_INIT = """(() => {
  const marks = window.__gridUiBench = {};
  new MutationObserver(() => {
    if (!marks.rows && document.querySelector('#grid .tabulator-row')) marks.rows = performance.now();
    if (!marks.editor && document.querySelector('#grid .cell-editor')) marks.editor = performance.now();
  }).observe(document, { subtree: true, childList: true });
})();"""

# The page-side measurements, each one function run by page.evaluate.
ALL_ROWS_JS = """(n) => (document.querySelector('.count')?.textContent || '').startsWith(n + ' ')
  && document.querySelector('#grid')?.getAttribute('aria-busy') !== 'true'"""

REMOTE_EDIT_JS = """async ([token, body, field, value]) => {
  const grid = document.querySelector('#grid');
  const cellOf = () => {
    for (const row of grid.querySelectorAll('.tabulator-table > .tabulator-row')) {
      if (row.querySelector('.row-number')?.textContent === '1') return row.querySelector(`.tabulator-cell[tabulator-field="${field}"]`);
    }
    return null;
  };
  let seenAt = null;
  const seen = new Promise((resolve) => {
    const observer = new MutationObserver(() => {
      if (cellOf()?.textContent === value) { seenAt = performance.now(); observer.disconnect(); resolve(); }
    });
    observer.observe(grid, { childList: true, characterData: true, subtree: true });
    setTimeout(() => { observer.disconnect(); resolve(); }, 10000);
  });
  const t0 = performance.now();
  const response = await fetch('/api/fundraising/ops', { method: 'POST', body: JSON.stringify(body),
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` } });
  const posted = performance.now();
  const doc = await response.json();
  await seen;
  return { status: response.status, version: doc.data?.version, post_ms: posted - t0, seen_ms: seenAt === null ? null : seenAt - t0 };
}"""

JUMP_JS = """async (total) => {
  const holder = document.querySelector('#grid .tabulator-tableholder');
  const t0 = performance.now();
  holder.scrollTop = holder.scrollHeight;
  return new Promise((resolve) => {
    const check = () => {
      const nums = holder.querySelectorAll('.tabulator-row .row-number');
      if ([...nums].some((n) => n.textContent === String(total))) resolve(performance.now() - t0);
      else if (performance.now() - t0 > 10000) resolve(null);
      else requestAnimationFrame(check);
    };
    requestAnimationFrame(check);
  });
}"""

SMOOTH_JS = """async ([frames, step]) => {
  const holder = document.querySelector('#grid .tabulator-tableholder');
  holder.scrollTop = 0;
  await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
  const box = holder.getBoundingClientRect();
  const x = box.left + Math.min(300, box.width / 2), y = box.top + box.height / 2;
  const gaps = [];
  let blank = 0, last = null;
  await new Promise((resolve) => {
    let n = 0;
    const tick = (now) => {
      if (last !== null) gaps.push(now - last);
      last = now;
      if (!document.elementFromPoint(x, y)?.closest('.tabulator-row')) blank += 1;
      if (++n > frames) return resolve();
      holder.scrollTop += step;
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  });
  gaps.sort((a, b) => a - b);
  const pick = (p) => gaps[Math.min(gaps.length - 1, Math.floor(p * gaps.length))];
  return { p50: pick(0.5), p95: pick(0.95), max: gaps[gaps.length - 1], blank, scrolled: holder.scrollTop };
}"""

RESOURCES_JS = """() => {
  const pick = (part) => performance.getEntriesByType('resource').filter((e) => e.name.includes(part));
  const state = pick('/api/fundraising/state');
  const rows = pick('/api/fundraising/rows');
  const me = pick('/api/auth/me');
  const marks = window.__gridUiBench || {};
  return { state_ms: state.length ? state[0].responseEnd - state[0].startTime : 0,
           state_bytes: state.length ? state[0].encodedBodySize : 0,
           rows_ms: rows.length ? Math.max(...rows.map((e) => e.responseEnd)) - Math.min(...rows.map((e) => e.startTime)) : 0,
           rows_requests: rows.length,
           // page time: the app's first request (its modules are loaded), all grid data in, rows drawn, editor open
           t_me: me.length ? me[0].startTime : 0,
           t_data: Math.max(...[...state, ...rows].map((e) => e.responseEnd), 0),
           t_rows: marks.rows || 0, t_editor: marks.editor || 0 };
}"""


def one_run(browser, case: Case, run: int, remote: int, seq: list) -> None:
    server, meta = case.server, case.meta
    context = browser.new_context(base_url=server.url, viewport=VIEWPORT)
    context.add_init_script(script=f"sessionStorage.setItem('crm.token', {json.dumps(server.token)})")
    context.add_init_script(script=MARKS_INIT)
    context.set_default_timeout(60_000)
    page = context.new_page()
    page.on("pageerror", lambda e: case.problems.append(f"page error: {e}"))
    page.on("console", lambda m: m.type == "error" and case.problems.append(f"console: {m.text}"))
    first_cell = f"#grid .tabulator-row .tabulator-cell[tabulator-field='{meta['investor']}']"
    try:
        t0 = time.perf_counter()
        page.goto(f"/?view={meta['view_id']}", wait_until="commit")  # the view every row shows in
        page.wait_for_selector(first_cell)
        case.samples["rows_s"].append(time.perf_counter() - t0)
        page.locator(first_cell).first.dblclick()
        page.wait_for_selector("#grid .cell-editor")
        case.samples["interactive_s"].append(time.perf_counter() - t0)
        page.keyboard.press("Escape")
        page.wait_for_function(ALL_ROWS_JS, arg=case.size, polling="raf")
        case.samples["all_s"].append(time.perf_counter() - t0)
        res = page.evaluate(RESOURCES_JS)
        for key in ("t_me", "t_data", "t_rows", "t_editor"):
            case.samples[key].append(res[key])
        case.samples["state_ms"].append(res["state_ms"])
        case.samples["rows_api_ms"].append(res["rows_ms"])
        case.meta["state_bytes"] = res["state_bytes"]
        case.meta["rows_requests"] = res["rows_requests"]
        page.locator("#grid .tabulator-row .row-number", has_text="1").first.wait_for()
        page.locator(".live[data-live='live']").wait_for()
        for _ in range(remote):
            seq[0] += 1
            value = f"Remote edit {seq[0]} ({case.variant} {case.size})"
            body = {"base_version": meta["version"], "ops": [
                {"op": "set_cell", "row_id": meta["first_row"], "column_id": meta["investor"], "value": value}]}
            got = page.evaluate(REMOTE_EDIT_JS, [meta["peer_token"], body, meta["investor"], value])
            if got["status"] != 200 or got["seen_ms"] is None:
                case.problems.append(f"remote edit: HTTP {got['status']}, seen {got['seen_ms']}")
                continue
            meta["version"] = got["version"]
            case.samples["remote_ms"].append(got["seen_ms"])
            case.samples["post_ms"].append(got["post_ms"])
        jump = page.evaluate(JUMP_JS, case.size)
        if jump is None:
            case.problems.append("the last row never rendered after the jump to the bottom")
        else:
            case.samples["jump_ms"].append(jump)
        smooth = page.evaluate(SMOOTH_JS, [SMOOTH_FRAMES, SMOOTH_STEP])
        case.samples["frame_p50_ms"].append(smooth["p50"])
        case.samples["frame_p95_ms"].append(smooth["p95"])
        case.samples["blank_frames"].append(smooth["blank"])
    except Exception:
        print(f"run failed: {case.problems[-5:]}; page text: {page.locator('body').inner_text()[:300]!r}", file=sys.stderr)
        raise
    finally:
        context.close()


def prepare(size: int, label: str, frontends: dict, backend: Path, seed: int) -> list:
    """Build a grid of `size` rows, then one server per front end over it (copies); returns the cases."""
    builder = UIServer(f"{label}-build", backend, frontends["this tree"])
    try:
        builder.wait_ready()
        builder.register()
        builder.no_auto_backups()
        print(f"building the {size:,}-row grid (40 columns) through the API ...", flush=True)
        built = gb.build_grid(builder, size, 1000, seed)
        print(f"  built in {built['timings']['total_s']:.1f} s", flush=True)
        peer = add_peer(builder)
        # An unfiltered view (the default "All investors" hides the ~5% graveyard rows): every row is loaded.
        view_id = builder.ok("POST", "/api/fundraising/views", {"name": "Every row (bench)", "shared": True,
                                                                "config": {"frozen": 1}}, expect=201)["data"]["id"]
        first = builder.ok("GET", f"/api/fundraising/rows?view_id={view_id}&limit=1")
        if first["total"] != size:
            raise RuntimeError(f"the bench view shows {first['total']} of {size} rows")
        meta = {"view_id": view_id, "first_row": first["data"][0]["id"], "version": first["version"],
                "investor": built["ids"]["Investor"], "peer_token": peer}
        token = builder.token
    finally:
        if builder.stop() not in (0, None):
            print(builder.log_tail(), file=sys.stderr)
    cases = []
    for i, (variant, frontend) in enumerate(frontends.items()):
        data_dir = builder.data_dir
        if i:
            data_dir = Path(tempfile.mkdtemp(prefix=f"crm-grid-ui-bench-{label}-{i}-"))
            shutil.copytree(builder.data_dir, data_dir, dirs_exist_ok=True)
        server = UIServer(f"{label}-{variant}", backend, frontend, data_dir)
        server.wait_ready()
        server.token = token
        server.ok("GET", "/api/fundraising/state")  # builds the live snapshot before anything is timed
        cases.append(Case(size, variant, server, dict(meta)))
    return cases


def print_table(cases) -> None:
    head = ("size", "front end", "N", "rows s", "interactive s", "all rows s", "remote edit ms", "(POST ms)",
            "jump to end ms", "frame p50/p95 ms", "blank frames", "goal", "result")
    body = []
    for c in cases:
        s = c.samples
        goal = c.size == max(x.size for x in cases)
        body.append((f"{c.size:,}", c.variant, str(len(s["interactive_s"])), f"{med(s['rows_s']):.2f}",
                     f"{med(s['interactive_s']):.2f}", f"{med(s['all_s']):.2f}", f"{med(s['remote_ms']):.0f}",
                     f"{med(s['post_ms']):.0f}", f"{med(s['jump_ms']):.0f}",
                     f"{med(s['frame_p50_ms']):.1f} / {med(s['frame_p95_ms']):.1f}", f"{med(s['blank_frames']):.0f}",
                     f"<= {GOAL_INTERACTIVE_S:g} s" if goal else "-",
                     ("pass" if med(s["interactive_s"]) <= GOAL_INTERACTIVE_S else "FAIL") if goal else "-"))
    benchlib.print_table(head, body, left=(1, 11))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[5000, 10_000])
    parser.add_argument("--runs", type=int, default=5, help="page loads per size and front end")
    parser.add_argument("--remote", type=int, default=4, help="remote edits per page load")
    parser.add_argument("--frontend", type=Path, default=ROOT / "frontend", help="the front end to measure (default: this tree's)")
    parser.add_argument("--baseline", type=Path, help="another front end directory, measured side by side on the same data")
    parser.add_argument("--backend", type=Path, default=benchlib.BACKEND)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", metavar="PATH")
    args = parser.parse_args(argv)
    info = machine()
    print(f"machine: {info['nproc']} CPUs, {info['cpu']}, Python {info['python']}; "
          f"load average at start {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    frontends = {"this tree": args.frontend.resolve()}
    if args.baseline:
        frontends["baseline"] = args.baseline.resolve()
    cases = []
    failed = True
    loads = []
    try:
        for i, size in enumerate(args.sizes):
            cases += prepare(size, f"s{size}", frontends, args.backend.resolve(), args.seed + 100 * i)
        print(f"measuring {args.runs} runs of {len(cases)} cases (rotating order), {args.remote} remote edits per run ...",
              flush=True)
        seq = [0]
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
            try:
                # One unmeasured load per case: the server's and Chromium's first-use costs.
                for case in cases:
                    one_run(browser, case, -1, 0, seq)
                    for values in case.samples.values():
                        values.clear()
                for run in range(args.runs):
                    k = run % len(cases)
                    for case in cases[k:] + cases[:k]:
                        one_run(browser, case, run, args.remote, seq)
                    loads.append(os.getloadavg()[0])
                    print(f"  run {run + 1}/{args.runs} done (load {loads[-1]:.2f})", flush=True)
            finally:
                browser.close()
        print()
        print_table(cases)
        for c in cases:
            print(f"{c.size:,} {c.variant}: GET state {med(c.samples['state_ms']):.0f} ms "
                  f"({c.meta.get('state_bytes', 0) / 2**20:.1f} MiB), {c.meta.get('rows_requests', 0)} GET rows "
                  f"in {med(c.samples['rows_api_ms']):.0f} ms (first start to last end); "
                  f"interactive per run {', '.join(f'{x:.2f}' for x in c.samples['interactive_s'])}")
            m = {k: med(c.samples[k]) for k in ("t_me", "t_data", "t_rows", "t_editor")}
            print(f"  in page time (medians): modules loaded, /me sent {m['t_me']:.0f} ms; grid data in {m['t_data']:.0f} ms; "
                  f"rows drawn {m['t_rows']:.0f} ms; editor open {m['t_editor']:.0f} ms")
            for problem in sorted(set(c.problems)):
                print(f"  PROBLEM: {problem}")
        print(f"load average (1 min) after each run: {', '.join(f'{x:.2f}' for x in loads)}")
        largest = [c for c in cases if c.size == max(args.sizes) and c.variant == "this tree"][0]
        ok = med(largest.samples["interactive_s"]) <= GOAL_INTERACTIVE_S and not any(c.problems for c in cases)
        print("goal: " + ("met" if ok else "MISSED"))
        if args.json:
            Path(args.json).write_text(json.dumps({
                "machine": info, "runs": args.runs, "remote": args.remote, "load_average": loads,
                "cases": [{"size": c.size, "front_end": c.variant, "samples": c.samples,
                           "medians": {k: med(v) for k, v in c.samples.items()}, "problems": c.problems}
                          for c in cases]}, indent=2) + "\n")
            print(f"wrote {args.json}")
        failed = False
        return 0 if ok else 1
    finally:
        for case in cases:
            code = case.server.stop()
            if code not in (0, None) or failed:
                print(f"{case.server.label} exited with {code}; its log:\n{case.server.log_tail()}", file=sys.stderr)
            shutil.rmtree(case.server.data_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
