"""Over slow links: gzip levels on real grid bodies, and the app shell's load over an emulated slow link.

What it measures
    compression (--part gzip, or all): a real 10,000-investor x 40-column
        grid (built as bench/grid_bench.py builds it) is read once as
        GET /api/fundraising/state (every row, the SPA's first load before
        paging) and GET /api/fundraising/rows?limit=1000 (one page). Each
        body is then compressed in this process with zlib levels 1, 6 and 9
        (gzip container), --runs times each, rotated: reported are the
        median milliseconds, the compressed size and the ratio to level 6.
        With the server of this tree, the same two GETs are then timed end to
        end with and without `Accept-Encoding: gzip` (median of --runs, over
        the loopback: the server's CPU, not the link).
    shell (--part shell, or all): the app shell over Chromium's own network
        emulation (DevTools protocol Network.emulateNetworkConditions:
        300 ms latency, 250,000 B/s down, 125,000 B/s up): in a fresh
        browser context (cold cache), page.goto("/") with the token already
        in sessionStorage, until the grid's toolbar count is shown (the
        grid page mounted and its first rows in, over a small grid of
        --shell-rows rows so the shell dominates); then a second navigation
        in the same context (warm cache). Counted from the CDP Network
        events of each load: requests, those answered 304 (revalidations),
        those served from the browser's cache without asking, and bytes on
        the wire (encodedDataLength). With --baseline TREE (a checkout with
        its own backend/ and frontend/, node_modules included) the same is
        measured side by side against that tree's server; cases alternate.

Usage
    .venv/bin/python bench/transfer_bench.py                       # both parts
    .venv/bin/python bench/transfer_bench.py --part gzip --rows 10000 --runs 5
    .venv/bin/python bench/transfer_bench.py --part shell --runs 5 --baseline /tmp/before
"""
import argparse
import json
import shutil
import sys
import tempfile
import time
import zlib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import benchlib  # noqa: E402
import grid_bench as gb  # noqa: E402
from benchlib import ROOT, machine, median  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
SLOW = {"offline": False, "latency": 300, "downloadThroughput": 250_000, "uploadThroughput": 125_000}
LEVELS = (1, 3, 4, 5, 6, 9)


def gzip(body: bytes, level: int) -> bytes:
    packer = zlib.compressobj(level, zlib.DEFLATED, 31)
    return packer.compress(body) + packer.flush()


def timed_get(server, path, gzip_ok: bool) -> tuple:
    """(seconds, bytes on the wire) of one GET over the server's keep-alive connection."""
    import http.client
    if server.conn is None:
        server.conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=600)
    headers = {"Authorization": f"Bearer {server.token}"}
    if gzip_ok:
        headers["Accept-Encoding"] = "gzip"
    t0 = time.perf_counter()
    server.conn.request("GET", path, headers=headers)
    resp = server.conn.getresponse()
    payload = resp.read()
    took = time.perf_counter() - t0
    if resp.status != 200:
        raise RuntimeError(f"GET {path} answered {resp.status}")
    return took, len(payload), resp.getheader("Content-Encoding") or "identity"


def part_gzip(args) -> None:
    server = gb.Server("gzip", ROOT / "backend")
    try:
        server.wait_ready()
        server.register()
        server.no_auto_backups()
        print(f"building the {args.rows:,}-row grid (40 columns) ...", flush=True)
        gb.build_grid(server, args.rows, 1000, 7)
        bodies = {}
        for name, path in (("state (all rows)", "/api/fundraising/state"), ("rows page (1,000)", "/api/fundraising/rows?limit=1000")):
            status, body, _ = server.request("GET", path)
            if status != 200:
                raise RuntimeError(f"GET {path} answered {status}")
            bodies[name] = (path, body)
        print("\nzlib in this process (gzip container), median of", args.runs, "runs each, levels rotated")
        rows = []
        for name, (_, body) in bodies.items():
            times = {level: [] for level in LEVELS}
            sizes = {}
            for _ in range(args.runs):
                for level in LEVELS:
                    t0 = time.perf_counter()
                    out = gzip(body, level)
                    times[level].append((time.perf_counter() - t0) * 1000)
                    sizes[level] = len(out)
            for level in LEVELS:
                rows.append((name, f"{len(body) / 1e6:.2f} MB", str(level), f"{median(times[level]):.0f}",
                             f"{median(times[level]) / median(times[6]):.2f}", f"{sizes[level] / 1e6:.3f} MB",
                             f"{len(body) / sizes[level]:.1f}x", f"{sizes[level] / sizes[6]:.2f}"))
        benchlib.print_table(("body", "identity", "level", "ms", "ms / level 6", "gzip", "smaller", "size / level 6"),
                             rows, left=(0,))
        print("\nend to end through the server over the loopback, median of", args.runs, "runs, cases alternating")
        rows = []
        for name, (path, _) in bodies.items():
            samples = {True: [], False: []}
            info = {}
            for _ in range(args.runs):
                for gzip_ok in (False, True):
                    took, size, coding = timed_get(server, path, gzip_ok)
                    samples[gzip_ok].append(took * 1000)
                    info[gzip_ok] = (size, coding)
            for gzip_ok in (False, True):
                size, coding = info[gzip_ok]
                link_s = size / SLOW["downloadThroughput"]
                rows.append((name, coding, f"{median(samples[gzip_ok]):.0f}", f"{size / 1e6:.3f} MB", f"{link_s:.1f}"))
        benchlib.print_table(("body", "sent as", "ms", "on the wire", "s at 2 Mbit/s"), rows, left=(0, 1))
    finally:
        server.stop()


# ---------------------------------------------------------------- the shell over a slow link

class Load:
    """What one page load asked for, from CDP Network events."""

    def __init__(self, cdp):
        self.requests, self.finished, self.cached = {}, {}, set()
        cdp.on("Network.requestWillBeSent", lambda e: self.requests.setdefault(e["requestId"], e["request"]["url"]))
        cdp.on("Network.responseReceived", self._response)
        cdp.on("Network.loadingFinished", lambda e: self.finished.__setitem__(e["requestId"], e["encodedDataLength"]))
        cdp.on("Network.requestServedFromCache", lambda e: self.cached.add(e["requestId"]))
        self.status = {}

    def _response(self, event):
        self.status[event["requestId"]] = event["response"]["status"]
        if event["response"].get("fromDiskCache") or event["response"].get("fromMemoryCache"):
            self.cached.add(event["requestId"])

    def reset(self):
        self.requests.clear(), self.finished.clear(), self.cached.clear(), self.status.clear()

    def summary(self) -> dict:
        # Requests the server answered; an SSE stream never finishes, so it counts without bytes.
        asked = [rid for rid in self.requests if rid not in self.cached]
        return {"requests": len(asked), "revalidated": sum(1 for rid in asked if self.status.get(rid) == 304),
                "from_cache": len(self.cached),
                "kb": sum(self.finished.get(rid, 0) for rid in asked) / 1000}


def shell_server(label, tree: Path, data_dir: Path):
    server = gb.Server(label, tree / "backend", data_dir=data_dir, log_mode="ab", frontend=tree / "frontend")
    server.wait_ready()
    return server


def one_load(page, load, base) -> dict:
    load.reset()
    t0 = time.perf_counter()
    page.goto(base + "/", wait_until="commit")
    page.wait_for_function("() => !!document.querySelector('#grid .tabulator-row')", timeout=120_000)
    took = time.perf_counter() - t0
    page.wait_for_load_state("load")
    out = load.summary()
    out["s"] = took
    return out


def part_shell(args) -> None:
    from playwright.sync_api import sync_playwright
    trees = {"this tree": ROOT}
    if args.baseline:
        trees["baseline"] = Path(args.baseline).resolve()
    builder = gb.Server("shell-build", ROOT / "backend")
    try:
        builder.wait_ready()
        builder.register()
        builder.no_auto_backups()
        gb.build_grid(builder, args.shell_rows, 1000, 11)
        token = builder.token
    finally:
        builder.stop()
    servers = {}
    for i, (name, tree) in enumerate(trees.items()):
        data_dir = builder.data_dir
        if i:
            data_dir = Path(tempfile.mkdtemp(prefix="crm-transfer-bench-"))
            shutil.copytree(builder.data_dir, data_dir, dirs_exist_ok=True)
        servers[name] = shell_server(name, tree, data_dir)
    samples = {(name, kind): [] for name in trees for kind in ("cold", "warm")}
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
            for run in range(args.runs):
                for name, server in servers.items():
                    context = browser.new_context(viewport={"width": 1440, "height": 900})
                    context.add_init_script(f"sessionStorage.setItem('crm.token', {json.dumps(token)})")
                    page = context.new_page()
                    errors = []
                    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
                    cdp = context.new_cdp_session(page)
                    cdp.send("Network.enable")
                    cdp.send("Network.emulateNetworkConditions", SLOW)
                    load = Load(cdp)
                    for kind in ("cold", "warm"):
                        samples[(name, kind)].append(one_load(page, load, server.url))
                    context.close()
                    if errors:
                        raise RuntimeError(f"{name}: console errors: {errors[:3]}")
            browser.close()
    finally:
        for server in servers.values():
            server.stop()
    rows = []
    for (name, kind), runs in samples.items():
        rows.append((name, kind, str(len(runs)), f"{median([r['s'] for r in runs]):.2f}",
                     f"{median([r['requests'] for r in runs]):.0f}", f"{median([r['revalidated'] for r in runs]):.0f}",
                     f"{median([r['from_cache'] for r in runs]):.0f}", f"{median([r['kb'] for r in runs]):.0f}"))
    print(f"\nthe app shell to the grid's first row ({args.shell_rows} rows), 300 ms latency, 2 Mbit/s down, 1 Mbit/s up; medians")
    benchlib.print_table(("tree", "cache", "N", "first row s", "requests", "304s", "from cache", "kB on the wire"),
                         rows, left=(0, 1))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--part", choices=("all", "gzip", "shell"), default="all")
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--shell-rows", type=int, default=50)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--baseline", help="another checkout (backend/ and frontend/ with node_modules) to compare the shell with")
    args = parser.parse_args(argv)
    print(json.dumps(machine()))
    if args.part in ("all", "gzip"):
        part_gzip(args)
    if args.part in ("all", "shell"):
        part_shell(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
