"""Airtable CSV import benchmark: preview and commit of a 10,000-row x 30-column export.

What it measures
    The issue's goals for a 10,000-row x 30-column Airtable export:
      - POST /api/fundraising/import/preview (the CSV as text/csv): <= 2 s;
      - POST /api/fundraising/import/commit  ({csv, mapping}, the mapping being
        each column's `suggested` from the preview) into an empty grid: <= 5 s,
        and it must create one row per CSV row;
    and, as extra rows without a goal, the same file imported again into the
    same server (previewed again, since its columns now exist, then committed):
    the idempotent re-import, which must report 0 created, 0 updated.

How
    The CSV is generated once per run with a seeded RNG, shaped like an Airtable
    export: UTF-8 with a byte-order mark, CRLF line ends, 30 columns: Name
    (unique, so it works as the key), Company, Primary Contact ("Name <email>"),
    Status, Lead Source, Owner, Notes (some quoted and multi-line), Follow Up
    (M/D/YYYY), Graveyard and Longshot ("checked" or empty), Fund I..Fund VI
    ("$1,234,567.00", ~30% filled), Tags (multi-select, some items quoted
    because they hold a comma), Probability ("25%"), Website, IR Email, Last
    Contacted (date with time, "3/14/2025 2:05pm"), Region and Investor Type
    (a few values), Target Allocation and Min Check (currency), AUM ($M) and
    Meetings (numbers), Next Step, Source Detail and Phone (text).

    Every round starts the real server (backend/server.py) as a subprocess over
    a fresh temporary CRM_DATA_DIR (so the grid is empty and the commit always
    creates every row), rate limits raised, logging at WARNING; the first admin
    registers for a token. Then, one request at a time over one keep-alive
    connection: the preview (timed), the commit built from the preview's
    suggestions (timed), GET /api/fundraising/state to check the rows landed
    (untimed), then the re-import as a user would do it: the same file
    previewed again (timed, an extra row: now every header maps to an
    existing column) and committed with those suggestions (timed). Time is the client's wall
    clock around request + full response (HTTP, token check, JSON both ways,
    the pre_import backup the commit takes); bodies are encoded before the clock
    starts. "srv CPU" is the server process's CPU time for the request (from
    /proc, 10 ms ticks). The server is stopped and its directory removed after
    each round.

    Checks (the run fails otherwise): the preview reports every row and no
    problem cell; the commit creates exactly --rows rows, updates none and skips
    none; the grid then holds --rows rows and the Fund I total equals the CSV's;
    the re-import creating 0 and updating 0 is the last row's goal (reported,
    not fatal, so the times still print).

Usage
    .venv/bin/python bench/import_bench.py [--rounds 3] [--json out.json]
    .venv/bin/python bench/import_bench.py --rows 1000 --rounds 1       # smoke run
    .venv/bin/python bench/import_bench.py --write-csv /tmp/export.csv  # also keep the generated file
    .venv/bin/python bench/import_bench.py --backend /tmp/other-checkout/backend   # compare another tree
    Exit status 0 when both time goals are met (on the median) and every re-import created and
    updated nothing, 1 otherwise.
"""
import argparse
import csv
import io
import json
import os
import random
import shutil
import statistics
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import benchlib  # noqa: E402
from benchlib import BACKEND, cpu_seconds, machine  # noqa: E402

DEFAULT_BODY_LIMIT = 10 * 1024 * 1024   # CRM_MAX_BODY_BYTES's default
GOAL_PREVIEW_S = 2.0
GOAL_COMMIT_S = 5.0

FIRST_NAMES = """
James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William Barbara Richard Susan Joseph
Jessica Thomas Sarah Charles Karen Christopher Lisa Daniel Nancy Matthew Betty Anthony Margaret Mark Sandra
Priya Arjun Wei Mei Hiroshi Yuki Sven Ingrid Lars Astrid Pierre Camille Mateo Lucia Diego Sofia Omar Fatima
Kwame Amara Chidi Ngozi Dmitri Olga Tomasz Agnieszka Giulia Marco Aoife Cian Siobhan Ravi Anjali Kenji Sakura
""".split()
LAST_NAMES = """
Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez Gonzalez Wilson
Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris Sanchez Clark Ramirez Lewis
Okafor Adeyemi Mensah Nakamura Tanaka Suzuki Kowalski Nowak Rossi Russo Muller Schneider Dubois Moreau
Lindqvist Johansson Nielsen Ivanov Petrov Kaur Singh Sharma Gupta Wang Zhang Liu Park Choi Byrne Walsh Costa
""".split()
ORG_WORDS = """
Summit Harbor Granite Cedar Beacon Meridian Northstar Bluewater Ironwood Keystone Evergreen Horizon Atlas Crescent
Pinnacle Sterling Redwood Silverline Oakridge Lakeshore Riverbend Highland Westbrook Eastgate Foxglove Juniper
Sequoia Aspen Willow Falcon Osprey Heron Kestrel Lantern Compass Anchor Bridgewater Fairview Stonebridge Copperleaf
""".split()
ORG_SUFFIXES = ["Capital", "Partners", "Family Office", "Ventures", "Foundation", "Endowment", "Asset Management",
                "Holdings", "Wealth", "Investments", "Advisors", "Group", "Trust", "Fund of Funds"]
# Airtable's own spellings; "Intro call" is not one of the grid's default Status options (added on commit).
STATUSES = (("Not contacted", 30), ("Intro call", 10), ("Contacted", 20), ("Meeting", 15), ("Diligence", 8),
            ("Soft commit", 5), ("Committed", 7), ("Passed", 5))
LEAD_SOURCES = ["Referral", "Conference", "LinkedIn", "Website", "Cold outreach", "Existing LP", "Advisor intro"]
OWNERS = ["Alex Chen", "Maria Lopez", "Sam Patel", "Jordan Smith", "Taylor Nguyen", "Chris Okafor"]
PHRASES = ["Discussed the fund strategy and target sectors.", "Asked for the latest quarterly letter.",
           "Sent over the deck and the track record summary.", "Interested in a co-invest allocation.",
           "Wants to revisit after their investment committee meets.", "Needs the DDQ and audited financials.",
           "Talked through fees and carry; no objections.", "Introduced us to their CIO, \"very keen\".",
           "Timing is tight this year; maybe next close.", "Asked about ESG reporting and climate exposure."]
FUNDS = ["Fund I", "Fund II", "Fund III", "Fund IV", "Fund V", "Fund VI"]
AMOUNTS = [250_000, 500_000, 750_000, 1_000_000, 1_234_567, 2_000_000, 2_500_000, 5_000_000, 10_000_000, 25_000_000]
TAGS = ["warm", "cold", "hot", "anchor", "emerging", "tech", "healthcare", "climate", "fintech",
        "Co-invest, direct", "Europe, Nordics"]   # the last two hold a comma: Airtable quotes them
REGIONS = ["North America", "Europe", "Asia", "Middle East", "Latin America", "Africa", "Oceania"]
INVESTOR_TYPES = ["Family office", "Fund of funds", "Endowment", "Foundation", "Pension", "Corporate", "Individual"]
NEXT_STEPS = ["Send DDQ", "Schedule IC call", "Share data room", "Follow up after IC", "Intro to partner",
              "Send side letter draft", "Book site visit", "Confirm allocation", "Send quarterly letter"]
SOURCE_DETAILS = ["Met at SuperReturn", "Intro from an existing LP", "Inbound via website", "Placement agent list",
                  "Alumni network", "Co-investor on a deal", "Advisory board referral"]

HEADER = ["Name", "Company", "Primary Contact", "Status", "Lead Source", "Owner", "Notes", "Follow Up", "Graveyard",
          "Longshot", *FUNDS, "Tags", "Probability", "Website", "IR Email", "Last Contacted", "Region", "Investor Type",
          "Target Allocation", "Min Check", "AUM ($M)", "Meetings", "Next Step", "Source Detail", "Phone"]
# What the preview should infer (a mismatch is reported, not fatal: inference may legitimately change).
EXPECTED_TYPES = {"Primary Contact": "contacts", "Follow Up": "date", "Graveyard": "checkbox", "Longshot": "checkbox",
                  **{f: "currency" for f in FUNDS}, "Tags": "multi_select", "Probability": "percent", "Website": "url",
                  "IR Email": "email", "Last Contacted": "date", "Target Allocation": "currency", "AUM ($M)": "number",
                  "Meetings": "number"}


# ---------------------------------------------------------------- the export

def us_date(day: date) -> str:
    return f"{day.month}/{day.day}/{day.year}"


def us_datetime(moment: datetime) -> str:
    hour = moment.hour % 12 or 12
    return f"{moment.month}/{moment.day}/{moment.year} {hour}:{moment.minute:02d}{'am' if moment.hour < 12 else 'pm'}"


def money(amount: float) -> str:
    return f"${amount:,.2f}"


def tag_cell(items) -> str:
    """Airtable's multi-select export: items joined by commas, an item holding a comma in double quotes."""
    return ",".join(f'"{t}"' if "," in t else t for t in items)


def make_csv(rows: int, seed: int) -> tuple:
    """(CSV bytes, facts for the checks): UTF-8 with BOM, CRLF, 30 columns."""
    rng = random.Random(seed)
    today = date(2025, 6, 1)
    orgs = sorted({f"{rng.choice(ORG_WORDS)} {rng.choice(ORG_WORDS)} {rng.choice(ORG_SUFFIXES)}"
                   for _ in range(max(10, rows // 3))})
    used_names = set()
    fund_totals = dict.fromkeys(FUNDS, 0)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADER)
    for n in range(rows):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        org = rng.choice(orgs)
        name = f"{first} {last}" if rng.random() < 0.4 else org
        if name in used_names:          # the primary field is the key: keep it unique, as a real sheet would
            name = f"{name} ({n})"
        used_names.add(name)
        domain = org.lower().replace(" ", "")[:24] + ".example"
        contact = f"{first} {last} <{first.lower()}.{last.lower()}.{n}@{domain}>"
        if rng.random() < 0.3:
            notes = "\n".join(rng.sample(PHRASES, rng.randint(2, 3)))      # multi-line: quoted
        elif rng.random() < 0.6:
            notes = " ".join(rng.sample(PHRASES, rng.randint(1, 2)))
        else:
            notes = ""
        funds = []
        for fund in FUNDS:
            if rng.random() < 0.3:
                amount = rng.choice(AMOUNTS)
                fund_totals[fund] += amount
                funds.append(money(amount))
            else:
                funds.append("")
        contacted = datetime(2025, 5, 31, 18, 0) - timedelta(minutes=rng.randint(0, 700 * 24 * 60))
        writer.writerow([
            name,
            org,
            contact,
            rng.choices([s for s, _ in STATUSES], weights=[w for _, w in STATUSES])[0],
            rng.choice(LEAD_SOURCES),
            rng.choice(OWNERS),
            notes,
            us_date(today + timedelta(days=rng.randint(-30, 90))) if rng.random() < 0.3 else "",
            "checked" if rng.random() < 0.05 else "",
            "checked" if rng.random() < 0.1 else "",
            *funds,
            tag_cell(rng.sample(TAGS, rng.randint(1, 3))) if rng.random() < 0.5 else "",
            f"{rng.choice([10, 25, 50, 75, 90])}%" if rng.random() < 0.7 else "",
            f"https://www.{domain}" if rng.random() < 0.5 else "",
            f"ir.{n}@{domain}" if rng.random() < 0.7 else "",
            us_datetime(contacted) if rng.random() < 0.7 else "",
            rng.choice(REGIONS) if rng.random() < 0.9 else "",
            rng.choice(INVESTOR_TYPES) if rng.random() < 0.8 else "",
            money(rng.choice(AMOUNTS)) if rng.random() < 0.9 else "",
            money(rng.choice(AMOUNTS[:4])) if rng.random() < 0.6 else "",
            f"{rng.uniform(20, 50_000):.1f}" if rng.random() < 0.6 else "",
            str(rng.randint(0, 12)) if rng.random() < 0.5 else "",
            rng.choice(NEXT_STEPS) if rng.random() < 0.5 else "",
            rng.choice(SOURCE_DETAILS) if rng.random() < 0.4 else "",
            f"+1 555 {rng.randint(1_000_000, 9_999_999)}" if rng.random() < 0.5 else "",
        ])
    data = b"\xef\xbb\xbf" + out.getvalue().encode("utf-8")
    return data, {"fund_totals": fund_totals}


# ---------------------------------------------------------------- the server

class Server(benchlib.Server):
    """One server over a fresh data directory, requests timed with the server's CPU."""

    def __init__(self, backend: Path, body_limit: int):
        super().__init__(backend=backend, prefix="crm-import-bench-", CRM_MAX_BODY_BYTES=str(body_limit))

    def send(self, method, path, data=None, content_type="application/json") -> tuple:
        """(status, response bytes, wall seconds, server CPU seconds); `data` is an already encoded body."""
        cpu0 = cpu_seconds(self.proc.pid)
        status, payload, elapsed = self.request(method, path, data, content_type)
        return status, payload, elapsed, cpu_seconds(self.proc.pid) - cpu0

    def ok(self, method, path, data=None, content_type="application/json", expect=200) -> tuple:
        """(decoded JSON, wall seconds, server CPU seconds), or RuntimeError on another status."""
        status, payload, elapsed, cpu = self.send(method, path, data, content_type)
        if status != expect:
            raise RuntimeError(f"{method} {path} answered {status} (expected {expect}): {payload[:1500]!r}")
        return json.loads(payload), elapsed, cpu

    def register(self) -> None:
        doc, _, _ = self.ok("POST", "/api/auth/register", json.dumps(benchlib.ADMIN).encode(), expect=201)
        self.token = doc["data"]["token"]


# ---------------------------------------------------------------- one round

def run_round(backend: Path, body_limit: int, data: bytes, rows: int, facts: dict, keep: bool) -> dict:
    """Fresh server: preview, commit, check, commit again. Returns times, CPU and what the server said."""
    server = Server(backend, body_limit)
    try:
        server.wait_ready()
        server.register()
        doc, preview_s, preview_cpu = server.ok("POST", "/api/fundraising/import/preview", data, "text/csv")
        preview = doc["data"] if "data" in doc and isinstance(doc["data"], dict) else doc
        if preview["rows"] != rows:
            raise RuntimeError(f"preview read {preview['rows']} rows, the file has {rows}")
        if preview["problem_count"]:
            raise RuntimeError(f"preview found {preview['problem_count']} problem cell(s), e.g. {preview['problems'][:3]}")
        mapping = {c["header"]: c["suggested"] for c in preview["columns"]}
        body = json.dumps({"csv": data.decode("utf-8-sig"), "mapping": mapping}).encode()
        if len(body) > body_limit:
            raise RuntimeError(f"the commit body is {len(body):,} bytes, over the server's limit {body_limit:,}")

        doc, commit_s, commit_cpu = server.ok("POST", "/api/fundraising/import/commit", body, expect=201)
        first = doc["data"] if "data" in doc and isinstance(doc["data"], dict) else doc
        if (first["created"], first["updated"], len(first["skipped"])) != (rows, 0, 0):
            raise RuntimeError(f"first commit: created {first['created']}, updated {first['updated']}, "
                               f"skipped {len(first['skipped'])} (expected {rows}, 0, 0): {first['skipped'][:3]}")

        state, _, _ = server.ok("GET", "/api/fundraising/state")
        grid = state["data"]["grid"]
        by_name = {c["name"]: c["id"] for c in grid["columns"]}
        if len(grid["rows"]) != rows:
            raise RuntimeError(f"the grid holds {len(grid['rows'])} rows after the import, expected {rows}")
        fund_i = sum(r["cells"].get(by_name["Fund I"]) or 0 for r in grid["rows"])
        if abs(fund_i - facts["fund_totals"]["Fund I"]) > 0.5:
            raise RuntimeError(f"Fund I totals {fund_i:,.2f} in the grid, {facts['fund_totals']['Fund I']:,.2f} in the file")

        # A re-import maps onto the columns the first one created: preview again for the new suggestions.
        doc, repreview_s, repreview_cpu = server.ok("POST", "/api/fundraising/import/preview", data, "text/csv")
        again = doc["data"] if "data" in doc and isinstance(doc["data"], dict) else doc
        remapped = {c["header"]: c["suggested"] for c in again["columns"]}
        fresh = [h for h, m in remapped.items() if "column_id" not in m]
        if fresh or again["problem_count"]:
            raise RuntimeError(f"second preview: {again['problem_count']} problem(s); not mapped to existing columns: {fresh}")
        body2 = json.dumps({"csv": data.decode("utf-8-sig"), "mapping": remapped}).encode()
        doc, again_s, again_cpu = server.ok("POST", "/api/fundraising/import/commit", body2, expect=201)
        second = doc["data"] if "data" in doc and isinstance(doc["data"], dict) else doc
        return {
            "preview_s": preview_s, "preview_cpu_s": preview_cpu,
            "commit_s": commit_s, "commit_cpu_s": commit_cpu,
            "repreview_s": repreview_s, "repreview_cpu_s": repreview_cpu,
            "reimport_s": again_s, "reimport_cpu_s": again_cpu,
            "commit_body_bytes": len(body),
            "inferred": {c["header"]: c["inferred_type"] for c in preview["columns"]},
            "suggested": {c["header"]: ("existing " + c["suggested"]["name"]) if "column_id" in c["suggested"]
                          else "new " + c["suggested"]["create"]["type"] for c in preview["columns"]},
            "warnings": len(preview["warnings"]),
            "first": {k: first[k] for k in ("created", "updated", "unchanged", "version")} | {
                "columns_created": len(first["columns_created"])},
            "second": {k: second[k] for k in ("created", "updated", "unchanged", "version")},
            "grid_columns": len(grid["columns"]),
        }
    except BaseException:
        print("server log (tail):\n" + server.log_tail(), file=sys.stderr)
        raise
    finally:
        code = server.stop()
        if code not in (0, None):
            print(f"server exited with code {code}; its log:\n{server.log_tail()}", file=sys.stderr)
        if keep:
            print(f"kept {server.data_dir}")
        else:
            shutil.rmtree(server.data_dir, ignore_errors=True)


# ---------------------------------------------------------------- report

def summarise(name, key, rounds, rows, goal=None, check=None) -> dict:
    """One table row. `goal` is a time goal on the median; `check` (goal text, round -> bool) a goal every round must meet."""
    times = [r[key + "_s"] for r in rounds]
    cpus = [r[key + "_cpu_s"] for r in rounds]
    row = {"case": name, "rows": rows, "n": len(times), "median_s": statistics.median(times),
           "min_s": min(times), "max_s": max(times), "srv_cpu_median_s": statistics.median(cpus), "goal_s": goal,
           "goal": f"<= {goal:g} s" if goal is not None else (check[0] if check else "-")}
    row["pass"] = (row["median_s"] <= goal) if goal is not None else (all(check[1](r) for r in rounds) if check else None)
    return row


def print_table(results) -> None:
    head = ("case", "rows", "N", "median s", "min s", "max s", "srv CPU s", "goal", "result")
    body = [(r["case"], f"{r['rows']:,}", str(r["n"]), f"{r['median_s']:.3f}", f"{r['min_s']:.3f}", f"{r['max_s']:.3f}",
             f"{r['srv_cpu_median_s']:.2f}", r["goal"],
             ("pass" if r["pass"] else "FAIL") if r["pass"] is not None else "-") for r in results]
    benchlib.print_table(head, body)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=10_000, help="rows in the generated export")
    parser.add_argument("--rounds", type=int, default=3, help="rounds, each on a fresh server with an empty grid")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", metavar="PATH", help="also write the figures here")
    parser.add_argument("--write-csv", metavar="PATH", help="also save the generated export here")
    parser.add_argument("--keep", action="store_true", help="keep each round's temporary data directory")
    parser.add_argument("--backend", type=Path, default=BACKEND,
                        help="the backend folder to run (default: this checkout's)")
    args = parser.parse_args(argv)
    backend = args.backend.resolve()
    info = machine()
    print(f"machine: {info['nproc']} CPUs, {info['cpu']}, Python {info['python']}, SQLite {info['sqlite']}")

    t0 = time.perf_counter()
    data, facts = make_csv(args.rows, args.seed)
    if args.write_csv:
        Path(args.write_csv).write_bytes(data)
        print(f"wrote {args.write_csv}")
    multi_line = data.count(b"\n") - data.count(b"\r\n")
    print(f"export: {args.rows:,} rows x {len(HEADER)} columns, {len(data) / 2**20:.2f} MiB "
          f"(UTF-8 with BOM, CRLF, {multi_line:,} line breaks inside quoted cells), generated in {time.perf_counter() - t0:.1f} s")
    # The commit sends the CSV inside JSON, so it is a little larger than the file; the server's default
    # limit stays unless that body would not fit (then it is raised, and the run says so).
    commit_estimate = len(json.dumps(data.decode("utf-8-sig"))) + 20_000
    body_limit = DEFAULT_BODY_LIMIT if commit_estimate <= DEFAULT_BODY_LIMIT else 4 * commit_estimate
    if body_limit != DEFAULT_BODY_LIMIT:
        print(f"note: the commit body (~{commit_estimate / 2**20:.1f} MiB) exceeds the default CRM_MAX_BODY_BYTES "
              f"({DEFAULT_BODY_LIMIT / 2**20:.0f} MiB); raised to {body_limit / 2**20:.0f} MiB for this run")

    load_before = os.getloadavg()
    rounds = []
    for n in range(args.rounds):
        print(f"round {n + 1}/{args.rounds}: fresh server, preview, commit, check, re-import ...", flush=True)
        r = run_round(backend, body_limit, data, args.rows, facts, args.keep)
        rounds.append(r)
        print(f"  preview {r['preview_s']:.3f} s, commit {r['commit_s']:.3f} s "
              f"(created {r['first']['created']:,}, {r['first']['columns_created']} new columns), "
              f"preview again {r['repreview_s']:.3f} s, re-import {r['reimport_s']:.3f} s (created {r['second']['created']}, updated {r['second']['updated']}, "
              f"unchanged {r['second']['unchanged']:,})", flush=True)

    first = rounds[0]
    off = {h: (first["inferred"].get(h), t) for h, t in EXPECTED_TYPES.items() if first["inferred"].get(h) != t}
    print("mapping: " + ", ".join(f"{h} -> {s}" for h, s in first["suggested"].items()))
    if off:
        print("note: inferred types differ from what the generator meant: "
              + ", ".join(f"{h} {got} (meant {want})" for h, (got, want) in off.items()))
    print(f"commit body {first['commit_body_bytes'] / 2**20:.2f} MiB; preview warnings: {first['warnings']}; "
          f"grid after import: {first['grid_columns']} columns")
    results = [
        summarise("preview (POST /import/preview)", "preview", rounds, args.rows, GOAL_PREVIEW_S),
        summarise("commit into an empty grid", "commit", rounds, args.rows, GOAL_COMMIT_S),
        summarise("preview again, grid full (all columns exist)", "repreview", rounds, args.rows, None),
        summarise("re-import of the same file", "reimport", rounds, args.rows,
                  check=("0 created, 0 updated", lambda r: (r["second"]["created"], r["second"]["updated"]) == (0, 0))),
    ]
    print()
    print_table(results)
    failed = [r["case"] for r in results if r["pass"] is False]
    print("goals: preview <= 2 s, commit <= 5 s (median), re-import changes nothing -> "
          + ("met" if not failed else "MISSED by: " + "; ".join(failed)))
    load = os.getloadavg()
    print(f"load average now {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f} (1/5/15 min) on {info['nproc']} CPUs, "
          f"{load_before[0]:.2f} at the start: wall times on a busy machine run long, srv CPU less so")
    if args.json:
        Path(args.json).write_text(json.dumps({
            "machine": info, "rows": args.rows, "columns": len(HEADER), "csv_bytes": len(data), "seed": args.seed,
            "rounds": args.rounds, "body_limit": body_limit, "load_average_start": load_before,
            "load_average_end": os.getloadavg(), "results": results,
            "per_round": [{k: v for k, v in r.items() if k not in ("inferred", "suggested")} for r in rounds],
            "inferred": first["inferred"], "suggested": first["suggested"],
        }, indent=2) + "\n")
        print(f"wrote {args.json}")
    return 0 if not failed else 1


if __name__ == "__main__":
    sys.exit(main())
