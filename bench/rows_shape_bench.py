"""The two shapes of GET /api/fundraising/rows side by side: full (rows as objects) and compact (arrays).

What it measures, on one 10,000 x 40 grid (built as bench/grid_bench.py builds it):
  - bytes: every page of one listing as the SPA asks for them (a first page of
    TIMING.firstPage rows, then pages of TIMING.pageSize, pinned to the first
    page's version), summed, raw and as gzip -6 would send each response;
  - browser: Chromium (Debian's, headless) reads the same pages, fetched
    beforehand as text, and turns them into Tabulator row objects the way the
    SPA does (frontend/widgets/rowpages.js: `rowsOf`; the full shape's rows
    are its cells objects with the id added): JSON.parse alone, then
    JSON.parse plus conversion, for the whole 10,000-row page set, the shapes
    alternating within each round;
  - server: the whole listing over HTTP (every page, one keep-alive
    connection, the snapshot built: the full shape's rows are encoded once per
    snapshot and kept, the compact pages are encoded at each request), and in
    this process, over the same database, encoding every row once in each
    shape, and the bytes each shape keeps per snapshot.

Usage
    .venv/bin/python bench/rows_shape_bench.py [--rows 10000] [--rounds 7] [--keep DIR | --data-dir DIR]
    --keep leaves the built data directory at DIR (with bench-meta.json) for
    later runs; --data-dir reuses one (no build).
"""
import argparse
import gzip
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import benchlib  # noqa: E402
import grid_bench as gb  # noqa: E402
from benchlib import BACKEND, ROOT, machine  # noqa: E402

sys.path.insert(0, str(BACKEND))
from crm.db import connect  # noqa: E402
from crm.fundraising import compact, live, store  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"]
FIRST_PAGE, PAGE_SIZE = 100, 1000  # frontend/config.js TIMING.firstPage / pageSize
SHAPES = ("full", "compact")

READ_JS = """async ([texts, shape]) => {
  const { rowsOf } = await import('/widgets/rowpages.js');
  const t0 = performance.now();
  const pages = texts[shape].map((t) => JSON.parse(t));
  const t1 = performance.now();
  const rows = pages.map(rowsOf);
  const t2 = performance.now();
  window.__keep = rows;  // so that nothing is optimised away
  return { parse_ms: t1 - t0, convert_ms: t2 - t1, total_ms: t2 - t0, rows: rows.reduce((n, r) => n + r.length, 0) };
}"""

FETCH_JS = """async ([token, urls]) => {
  const texts = {};
  for (const [shape, list] of Object.entries(urls)) {
    texts[shape] = [];
    for (const url of list) texts[shape].push(await (await fetch(url, { headers: { Authorization: 'Bearer ' + token } })).text());
  }
  window.__texts = texts;
  return Object.fromEntries(Object.entries(texts).map(([s, t]) => [s, t.length]));
}"""


def listing_urls(view_id, total, version, shape) -> list:
    offsets = [(0, FIRST_PAGE)] + [(o, PAGE_SIZE) for o in range(FIRST_PAGE, total, PAGE_SIZE)]
    tail = "" if shape == "full" else "&shape=compact"
    return [f"/api/fundraising/rows?view_id={view_id}&offset={o}&limit={n}&version={version}{tail}" for o, n in offsets]


def build(rows: int, keep: Path = None) -> tuple:
    server = gb.Server("rows-shape", BACKEND, data_dir=keep, prefix="crm-rows-shape-bench-")
    try:
        server.wait_ready()
        server.register()
        server.no_auto_backups()
        print(f"building the {rows:,}-row grid ...", flush=True)
        gb.build_grid(server, rows, 1000, 7)
        view_id = server.ok("POST", "/api/fundraising/views", {"name": "Every row", "shared": True, "config": {"frozen": 1}},
                            expect=201)["data"]["id"]
        meta = {"token": server.token, "view_id": view_id}
        (server.data_dir / "bench-meta.json").write_text(json.dumps(meta))
    finally:
        server.stop()
    return server.data_dir, meta


def wire_bytes(server, urls) -> dict:
    raw = zipped = 0
    for url in urls:
        status, payload, _ = server.request("GET", url)
        assert status == 200, payload[:300]
        raw += len(payload)
        zipped += len(gzip.compress(payload, compresslevel=6))
    return {"raw": raw, "gzip": zipped}


def listing_seconds(server, urls) -> float:
    t0 = time.perf_counter()
    for url in urls:
        status, _, _ = server.request("GET", url)
        assert status == 200
    return time.perf_counter() - t0


def encode_in_process(data_dir: Path, rounds: int) -> dict:
    """Seconds to encode every row once in each shape (the compact one as the SPA's pages cut them), and
    the bytes a snapshot keeps for it (the full shape: each row's JSON, objects' overhead included)."""
    conn = connect(data_dir / "crm.db")
    try:
        columns = store.load_columns(conn)
        rows = store.load_rows(conn, columns)
    finally:
        conn.close()
    cuts = [(0, FIRST_PAGE)] + [(o, PAGE_SIZE) for o in range(FIRST_PAGE, len(rows), PAGE_SIZE)]
    times = {"full": [], "compact": []}
    for n in range(rounds):
        for s in (SHAPES if n % 2 == 0 else SHAPES[::-1]):
            t0 = time.perf_counter()
            if s == "full":
                full = [live.encode(r) for r in rows]
            else:
                layout = compact.Layout(columns)
                for o, size in cuts:
                    layout.page_json(rows[o:o + size])
            times[s].append(time.perf_counter() - t0)
    kept = {"full": sum(sys.getsizeof(b) for b in full), "compact": 0}
    return {"encode_s": {s: statistics.median(t) for s, t in times.items()}, "kept_bytes": kept, "rows": len(rows),
            "row_arrays_bytes": row_arrays_bytes(columns, rows, cuts)}


def row_arrays_bytes(columns, rows, cuts) -> dict:
    """The encoding measured against column by column and not kept: the same values, each row one array."""
    layout, raw, zipped = compact.Layout(columns), 0, 0
    for o, size in cuts:
        page = rows[o:o + size]
        body = json.dumps([[r[f] for f in compact.FIELDS] + [r["cells"].get(i) for i in layout.ids] for r in page],
                          separators=(",", ":")).encode()
        raw += len(body)
        zipped += len(gzip.compress(body, compresslevel=6))
    return {"raw": raw, "gzip": zipped}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=10_000)
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--keep", type=Path, help="build into this directory and leave it there")
    ap.add_argument("--data-dir", type=Path, help="a directory --keep left: no build")
    args = ap.parse_args(argv)
    if args.data_dir:
        data_dir, meta = args.data_dir, json.loads((args.data_dir / "bench-meta.json").read_text())
    else:
        if args.keep:
            args.keep.mkdir(parents=True, exist_ok=True)
        data_dir, meta = build(args.rows, args.keep)
    server = gb.Server("rows-shape", BACKEND, data_dir=data_dir, log_mode="ab")
    results = {"machine": machine()}
    try:
        server.wait_ready()
        server.token = meta["token"]
        first = server.ok("GET", f"/api/fundraising/rows?view_id={meta['view_id']}&limit=1")
        total, version = first["total"], first["version"]
        urls = {s: listing_urls(meta["view_id"], total, version, s) for s in SHAPES}
        results["bytes"] = {s: wire_bytes(server, urls[s]) for s in SHAPES}  # also warms both shapes' encodings
        http_s = {s: [] for s in SHAPES}
        for n in range(args.rounds):
            for s in (SHAPES if n % 2 == 0 else SHAPES[::-1]):
                http_s[s].append(listing_seconds(server, urls[s]))
        results["listing_s"] = {s: statistics.median(v) for s, v in http_s.items()}
        results["browser"] = browser_read(server, meta["token"], urls, args.rounds)
        results["total_rows"], results["pages"] = total, len(urls["full"])
    finally:
        server.stop()
    results["in_process"] = encode_in_process(data_dir, args.rounds)
    report(results)
    return 0


def browser_read(server, token, urls, rounds) -> dict:
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page()
            page.goto(server.url + "/")
            page.evaluate(FETCH_JS, [token, {s: [server.url + u for u in urls[s]] for s in SHAPES}])
            samples = {s: [] for s in SHAPES}
            for n in range(rounds + 1):
                for s in (SHAPES if n % 2 == 0 else SHAPES[::-1]):
                    got = page.evaluate("async (shape) => (" + READ_JS + ")([window.__texts, shape])", s)
                    if n:  # the first round warms the JIT
                        samples[s].append(got)
                    page.evaluate("() => { window.__keep = null; }")
        finally:
            browser.close()
    return {s: {k: statistics.median(x[k] for x in v) for k in ("parse_ms", "convert_ms", "total_ms", "rows")}
            for s, v in samples.items()}


def report(r) -> None:
    mib = 1024 * 1024
    full, small = r["bytes"]["full"], r["bytes"]["compact"]
    print(f"\n{r['total_rows']:,} rows x 40 columns, {r['pages']} pages; {r['machine']}")
    head = ["case", "full", "compact", "compact / full"]
    rows = [
        ["bytes on the wire, raw (MiB)", f"{full['raw'] / mib:.2f}", f"{small['raw'] / mib:.2f}", f"{small['raw'] / full['raw']:.2f}"],
        ["bytes gzip -6 (MiB)", f"{full['gzip'] / mib:.2f}", f"{small['gzip'] / mib:.2f}", f"{small['gzip'] / full['gzip']:.2f}"],
    ]
    arrays = r["in_process"]["row_arrays_bytes"]
    rows.append(["  row arrays instead, gzip -6 (MiB)", "", f"{arrays['gzip'] / mib:.2f}", f"{arrays['gzip'] / full['gzip']:.2f}"])
    b = r["browser"]
    for key, label in (("parse_ms", "browser JSON.parse (ms)"), ("convert_ms", "browser to row objects (ms)"),
                       ("total_ms", "browser parse + convert (ms)")):
        rows.append([label, f"{b['full'][key]:.0f}", f"{b['compact'][key]:.0f}", f"{b['compact'][key] / b['full'][key]:.2f}"])
    ls, ip = r["listing_s"], r["in_process"]
    rows.append(["server: whole listing, warm (ms)", f"{ls['full'] * 1000:.0f}", f"{ls['compact'] * 1000:.0f}",
                 f"{ls['compact'] / ls['full']:.2f}"])
    rows.append(["server: encode every row once (ms)", f"{ip['encode_s']['full'] * 1000:.0f}",
                 f"{ip['encode_s']['compact'] * 1000:.0f}", f"{ip['encode_s']['compact'] / ip['encode_s']['full']:.2f}"])
    rows.append(["server: kept per snapshot (MiB)", f"{ip['kept_bytes']['full'] / mib:.1f}",
                 f"{ip['kept_bytes']['compact'] / mib:.1f}", f"{ip['kept_bytes']['compact'] / ip['kept_bytes']['full']:.2f}"])
    benchlib.print_table(head, rows)
    print(json.dumps(r, indent=1))


if __name__ == "__main__":
    sys.exit(main())
