"""Fundraising grid benchmark: one-cell edits, the whole state, a view and a whole-grid save at 500 and 10,000 rows.

What it measures
    Two grids of 40 columns (the 10 well-known investor columns, 10 fund
    columns, 5 formula columns, 15 custom columns of the other types), one of
    500 rows and one of 10,000, and on them (goals from the issue):
      - POST /api/fundraising/ops with one set_cell, at both sizes: p50 <= 5 ms
        at each, and the p50 ratio 10,000 / 500 <= 1.5 (an edit's cost must not
        grow with the grid);
      - GET /api/fundraising/state at 10,000 rows: p50 <= 300 ms;
      - GET /api/fundraising/rows?view_id=...&limit=1000 through a saved view
        (a 3-condition nested AND/OR filter, a 2-column sort) at 10,000 rows:
        p50 <= 100 ms;
      - PUT /api/fundraising/state with the whole state as loaded and one cell
        changed, at 10,000 rows: p50 <= 1 s, and the op log must show exactly
        one change per PUT (checked with GET /api/fundraising/changes).

How
    Two real servers (backend/server.py) run side by side as subprocesses, one
    per size, each on a free port over its own temporary CRM_DATA_DIR, rate
    limits raised, logging at WARNING, body limits at their defaults (the
    10,000-row PUT body is ~20 MiB, under CRM_MAX_GRID_BODY_BYTES's 64 MiB; the
    run prints its size). Automatic backups are switched off through the backup policy API:
    the server's backup loop first runs a minute after start-up, which lands
    in the measurement, and a full backup plus grid snapshot of the 10,000-row
    grid stalled requests for up to ~1.5 s (--with-backups leaves them on).
    Each grid is built through the API only: the first admin registers,
    one ops request adds the 30 columns (funds with vintage and target,
    formulas: SUM of the funds, IF on a checkbox, CONCAT of text, DATETIME_DIFF
    from a date, ROUND of a division), a shared view is saved, then rows go in
    as batches of add_row ops (~1,000 a request) with cells drawn from fixed
    lists by a seeded RNG: names and organizations, 1-2 contacts (linked to
    classic contacts by the server), ~30% of fund cells filled. Build time is
    reported per size.

    Measurement is one client, requests one at a time over one keep-alive
    connection per server. The cases are spread over the same rounds in
    rotated order so that noise on this shared machine falls on all alike:
    every round sends one set_cell to the 500-row server and one to the
    10,000-row server; the GET state, view and PUT cases run in evenly spaced
    rounds. A set_cell picks a random row and a plain text or number cell,
    sends a value that differs from the stored one, and uses the version from
    the previous response as base_version; it must apply exactly one change.
    Each PUT starts from a fresh (unmeasured) GET state, changes one text cell,
    sends the rest back unchanged with expected_version = that version, and is
    then checked through /changes. The PUT body is encoded before the clock
    starts. Latency is the client's wall time for request + full response
    (HTTP, token check, JSON both ways included). "srv CPU" is the server
    process's CPU time per request (from /proc, 10 ms ticks, so a mean).

    --scale ROWS measures a ROWS-row grid (100,000) beside the 500-row one
    instead: see bench/grid_scale.py.

Usage
    .venv/bin/python bench/grid_bench.py [--json out.json]
    .venv/bin/python bench/grid_bench.py --scale 100000 [--json out.json]                  # the grid at 100,000 investors
    .venv/bin/python bench/grid_bench.py --rows-small 100 --rows-large 1000 --set-cell 60   # smoke run
    .venv/bin/python bench/grid_bench.py --backend /tmp/other-checkout/backend              # compare another tree
    Exit status 0 when every goal is met, 1 when one is missed.
"""
import argparse
import json
import random
import shutil
import sys
import time
import uuid
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parent))
import benchlib  # noqa: E402
from benchlib import BACKEND, cpu_seconds, machine, percentile  # noqa: E402

GRID_BODY_LIMIT = 64 * 1024 * 1024   # CRM_MAX_GRID_BODY_BYTES's default, for the report

GOAL_SET_CELL_MS = 5.0
GOAL_RATIO = 1.5
GOAL_STATE_MS = 300.0
GOAL_VIEW_MS = 100.0
GOAL_PUT_MS = 1000.0

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
TITLES = ["Managing Partner", "Partner", "Principal", "CIO", "Investment Director", "Analyst", "Associate",
          "Founder", "CEO", "CFO", "Head of Private Markets", "Portfolio Manager", "Trustee", None]
LEAD_SOURCES = ["Referral", "Conference", "LinkedIn", "Website", "Cold outreach", "Existing LP", "Advisor intro"]
OWNERS = ["Alex Chen", "Maria Lopez", "Sam Patel", "Jordan Smith", "Taylor Nguyen", "Chris Okafor"]
STATUSES = (("Not contacted", 30), ("Contacted", 25), ("Meeting", 15), ("Diligence", 10), ("Soft commit", 7),
            ("Committed", 8), ("Passed", 5))
PHRASES = ["Discussed the fund strategy and target sectors.", "Asked for the latest quarterly letter.",
           "Sent over the deck and the track record summary.", "Interested in a co-invest allocation.",
           "Wants to revisit after their investment committee meets.", "Needs the DDQ and audited financials.",
           "Talked through fees and carry; no objections.", "Introduced us to their CIO.",
           "Timing is tight this year; maybe next close.", "Asked about ESG reporting and climate exposure."]
NEXT_STEPS = ["Send DDQ", "Schedule IC call", "Share data room", "Follow up after IC", "Intro to partner",
              "Send side letter draft", "Book site visit", "Confirm allocation", "Send quarterly letter"]
SOURCE_DETAILS = ["Met at SuperReturn", "Intro from an existing LP", "Inbound via website", "Placement agent list",
                  "Alumni network", "Co-investor on a deal", "Advisory board referral"]
FUNDS = ["Fund I", "Fund II", "Fund III", "Fund IV", "Opportunity Fund I", "Opportunity Fund II",
         "Growth Fund I", "Growth Fund II", "SPV Alpha", "SPV Beta"]
AMOUNTS = [250_000, 500_000, 1_000_000, 2_000_000, 2_500_000, 5_000_000, 10_000_000, 25_000_000]
REGIONS = ["North America", "Europe", "Asia", "Middle East", "Latin America", "Africa", "Oceania"]
INVESTOR_TYPES = ["Family office", "Fund of funds", "Endowment", "Foundation", "Pension", "Corporate", "Individual"]
TAGS = ["warm", "cold", "hot", "anchor", "co-investor", "emerging", "tech", "healthcare", "climate", "fintech"]

# The 15 custom columns that, with 10 well-known, 10 funds and 5 formulas, make 40.
CUSTOM = [
    ("Region", "single_select", {"options": REGIONS}),
    ("Investor Type", "single_select", {"options": INVESTOR_TYPES}),
    ("Tags", "multi_select", {"options": TAGS}),
    ("Target Allocation", "currency", {"config": {"currency": "USD", "precision": 0}}),
    ("Min Check", "currency", {"config": {"currency": "USD", "precision": 0}}),
    ("Probability", "percent", {}),
    ("AUM ($M)", "number", {"config": {"precision": 1}}),
    ("Last Contacted", "date", {}),
    ("First Meeting", "date", {}),
    ("Strategic", "checkbox", {}),
    ("Email", "email", {}),
    ("Website", "url", {}),
    ("Phone", "phone", {}),
    ("Source Detail", "text", {}),
    ("Next Step", "text", {}),
]
FORMULAS = [
    ("Total Committed", "SUM(" + ", ".join("{" + f + "}" for f in FUNDS) + ")"),
    ("Priority", 'IF({Strategic}, "Strategic", "Standard")'),
    ("Display Name", 'CONCAT({Investor}, " - ", {Organization})'),
    ("Days Since Contact", "DATETIME_DIFF(TODAY(), {Last Contacted}, 'days')"),
    ("Coverage %", "ROUND({Total Committed} / {Target Allocation} * 100, 1)"),
]
# Cells the set_cell case edits: plain text and number cells (custom ones live in the row's `fields` JSON).
EDITED = [("Next Step", "text"), ("Source Detail", "text"), ("AUM ($M)", "number"), ("Min Check", "number")]


def new_id(rng) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def weighted(rng, pairs):
    values, weights = zip(*pairs)
    return rng.choices(values, weights=weights)[0]


# ---------------------------------------------------------------- the servers

class Server(benchlib.Server):
    """One server over its own data directory, with the grid's API calls; `version` is the last grid version seen.

    Options (data_dir, prefix, frontend...) go to benchlib.Server: grid_ui_bench picks the front end this way.
    """

    def __init__(self, label: str, backend: Path, **options):
        options.setdefault("prefix", f"crm-grid-bench-{label}-")
        super().__init__(label=label, backend=backend, **options)
        self.version = 0

    def send(self, method, path, body=None, raw=None):
        """(status, response bytes, seconds). `raw` is an already encoded JSON body."""
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        return self.request(method, path, data)

    def ok(self, method, path, body=None, raw=None, expect=200) -> dict:
        status, payload, _ = self.send(method, path, body, raw)
        if status != expect:
            raise RuntimeError(f"{self.label}: {method} {path} answered {status}: {payload[:500]!r}")
        return json.loads(payload)

    def register(self) -> None:
        doc = self.ok("POST", "/api/auth/register", benchlib.ADMIN, expect=201)
        self.token = doc["data"]["token"]

    def no_auto_backups(self) -> str:
        """Switch the automatic backup loop off for this grid; returns what happened (older trees have no policy)."""
        status, payload, _ = self.send("PATCH", "/api/fundraising/backup-policy", {"enabled": False})
        if status == 200:
            return "off"
        if status == 404:
            return "no backup policy in this tree"
        raise RuntimeError(f"{self.label}: PATCH backup-policy answered {status}: {payload[:300]!r}")


# ---------------------------------------------------------------- building a grid

def column_ops(rng) -> tuple:
    """The add_column ops for the 30 added columns, and {name: column id}."""
    ops, ids = [], {}
    for i, name in enumerate(FUNDS):
        ids[name] = new_id(rng)
        ops.append({"op": "add_column", "column_id": ids[name], "name": name, "type": "fund",
                    "fund": {"vintage": 2016 + i, "target": float(rng.choice([50, 100, 150, 250, 400]) * 1_000_000)},
                    "config": {"currency": "USD", "precision": 0}})
    for name, kind, extra in CUSTOM:
        ids[name] = new_id(rng)
        ops.append({"op": "add_column", "column_id": ids[name], "name": name, "type": kind, **extra})
    for name, formula in FORMULAS:
        ids[name] = new_id(rng)
        ops.append({"op": "add_column", "column_id": ids[name], "name": name, "type": "formula", "formula": formula})
    return ops, ids


def view_config(ids) -> dict:
    """Status is one of the active stages AND (a Fund II commitment OR a large target); by Total Committed, then name."""
    return {
        "filters": {"conjunction": "and", "conditions": [
            {"column_id": ids["Status"], "operator": "is_any_of", "value": ["Contacted", "Meeting", "Diligence", "Soft commit"]},
            {"conjunction": "or", "conditions": [
                {"column_id": ids["Fund II"], "operator": ">", "value": 0},
                {"column_id": ids["Target Allocation"], "operator": ">=", "value": 5_000_000},
            ]},
        ]},
        "sorts": [{"column_id": ids["Total Committed"], "direction": "desc"},
                  {"column_id": ids["Investor"], "direction": "asc"}],
        "frozen": 1,
    }


def make_cells(rng, n: int, ids: dict, orgs: list, today: date) -> dict:
    """A realistic row: names, an organization, contacts, a status, some funds and custom cells."""
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    org = rng.choice(orgs)
    domain = org.lower().replace(" ", "")[:24] + ".example"
    people = []
    for k in range(rng.choice((1, 1, 2))):
        pf, pl = (first, last) if k == 0 else (rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES))
        person = {"name": f"{pf} {pl}", "email": f"{pf.lower()}.{pl.lower()}.{n}{k}@{domain}"}
        title = rng.choice(TITLES)
        if title:
            person["title"] = title
        people.append(person)
    cells = {
        ids["Investor"]: f"{first} {last}" if rng.random() < 0.4 else org,
        ids["Organization"]: org,
        ids["Contacts"]: people,
        ids["Lead Source"]: rng.choice(LEAD_SOURCES),
        ids["Owner"]: rng.choice(OWNERS),
        ids["Status"]: weighted(rng, STATUSES),
    }
    if rng.random() < 0.6:
        cells[ids["Notes"]] = " ".join(rng.sample(PHRASES, rng.randint(1, 3)))
    if rng.random() < 0.05:
        cells[ids["Graveyard"]] = True
    if rng.random() < 0.3:
        cells[ids["Follow Up"]] = (today + timedelta(days=rng.randint(-30, 90))).isoformat()
    if rng.random() < 0.1:
        cells[ids["Longshot"]] = True
    for fund in FUNDS:
        if rng.random() < 0.3:
            cells[ids[fund]] = float(rng.choice(AMOUNTS))
    optional = {
        "Region": (0.9, lambda: rng.choice(REGIONS)),
        "Investor Type": (0.8, lambda: rng.choice(INVESTOR_TYPES)),
        "Tags": (0.5, lambda: rng.sample(TAGS, rng.randint(1, 3))),
        "Target Allocation": (0.9, lambda: float(rng.choice(AMOUNTS))),
        "Min Check": (0.6, lambda: float(rng.choice(AMOUNTS[:4]))),
        "Probability": (0.7, lambda: rng.choice([10, 25, 50, 75, 90])),
        "AUM ($M)": (0.6, lambda: round(rng.uniform(20, 50_000), 1)),
        "Last Contacted": (0.7, lambda: (today - timedelta(days=rng.randint(0, 700))).isoformat()),
        "First Meeting": (0.4, lambda: (today - timedelta(days=rng.randint(30, 1500))).isoformat()),
        "Strategic": (0.2, lambda: True),
        "Email": (0.7, lambda: f"ir.{n}@{domain}"),
        "Website": (0.5, lambda: f"https://www.{domain}"),
        "Phone": (0.5, lambda: f"+1 555 {rng.randint(1_000_000, 9_999_999)}"),
        "Source Detail": (0.4, lambda: rng.choice(SOURCE_DETAILS)),
        "Next Step": (0.5, lambda: rng.choice(NEXT_STEPS)),
    }
    for name, (share, make) in optional.items():
        if rng.random() < share:
            cells[ids[name]] = make()
    return cells


def build_grid(server: Server, rows: int, batch: int, seed: int) -> dict:
    """Columns, a view and `rows` rows through the API; returns ids and timings."""
    rng = random.Random(seed)
    started = time.perf_counter()
    state = server.ok("GET", "/api/fundraising/state")["data"]
    ids = {c["name"]: c["id"] for c in state["grid"]["columns"]}
    if len(ids) != 10:
        raise RuntimeError(f"{server.label}: expected the 10 well-known columns, found {len(ids)}")
    ops, added = column_ops(rng)
    ids.update(added)
    t0 = time.perf_counter()
    done = server.ok("POST", "/api/fundraising/ops", {"base_version": state["version"], "ops": ops})["data"]
    columns_s = time.perf_counter() - t0
    server.version = done["version"]
    view = server.ok("POST", "/api/fundraising/views", {"name": "Active pipeline (bench)", "shared": True,
                                                          "config": view_config(ids)}, expect=201)["data"]
    orgs = sorted({f"{rng.choice(ORG_WORDS)} {rng.choice(ORG_WORDS)} {rng.choice(ORG_SUFFIXES)}"
                   for _ in range(max(10, rows // 3))})
    today = date.today()
    row_ids, batch_s = [], []
    t_rows = time.perf_counter()
    for start in range(0, rows, batch):
        ops = []
        for n in range(start, min(rows, start + batch)):
            row_id = new_id(rng)
            row_ids.append(row_id)
            ops.append({"op": "add_row", "row_id": row_id, "cells": make_cells(rng, n, ids, orgs, today)})
        t0 = time.perf_counter()
        done = server.ok("POST", "/api/fundraising/ops", {"base_version": server.version, "ops": ops})["data"]
        batch_s.append(time.perf_counter() - t0)
        server.version = done["version"]
    rows_s = time.perf_counter() - t_rows
    check = server.ok("GET", "/api/fundraising/state")["data"]
    if len(check["grid"]["rows"]) != rows or len(check["grid"]["columns"]) != 40:
        raise RuntimeError(f"{server.label}: built {len(check['grid']['rows'])} rows x {len(check['grid']['columns'])} columns")
    cells = sum(len(r["cells"]) for r in check["grid"]["rows"])
    errors = sum(1 for r in check["grid"]["rows"] for v in r["cells"].values() if isinstance(v, dict) and "error" in v)
    db = server.data_dir / "crm.db"
    return {
        "ids": ids, "view_id": view["id"], "row_ids": row_ids,
        "timings": {"total_s": time.perf_counter() - started, "columns_s": columns_s, "rows_s": rows_s,
                    "batches": len(batch_s), "batch_max_s": max(batch_s), "batch_mean_s": sum(batch_s) / len(batch_s),
                    "rows_per_s": rows / rows_s},
        "cells_per_row": cells / rows, "formula_error_cells": errors,
        "db_bytes": db.stat().st_size + (db.with_name("crm.db-wal").stat().st_size if db.with_name("crm.db-wal").exists() else 0),
    }


# ---------------------------------------------------------------- measurement

class Case:
    def __init__(self, name, size, n, goal_ms, run):
        self.name, self.size, self.n, self.goal_ms, self.run = name, size, n, goal_ms, run
        self.latencies, self.cpu, self.bytes = [], [], []
        self.notes = {}

    def timed(self, server: Server, method, path, body=None, raw=None) -> bytes:
        cpu0 = cpu_seconds(server.proc.pid)
        status, payload, seconds = server.send(method, path, body, raw)
        cpu1 = cpu_seconds(server.proc.pid)
        if status != 200:
            raise RuntimeError(f"{server.label}: {method} {path} answered {status}: {payload[:500]!r}")
        self.latencies.append(seconds * 1000)
        self.cpu.append((cpu1 - cpu0) * 1000)
        self.bytes.append(len(payload) + len(raw or b""))
        return payload


def set_cell_runner(server: Server, built: dict, rng):
    columns = [(built["ids"][name], kind) for name, kind in EDITED]
    seq = [0]

    def run(case: Case) -> None:
        seq[0] += 1
        row_id = rng.choice(built["row_ids"])
        column_id, kind = rng.choice(columns)
        value = f"{rng.choice(NEXT_STEPS)} #{seq[0]}" if kind == "text" else round(rng.uniform(1, 90_000), 2) + seq[0] * 1e-4
        payload = case.timed(server, "POST", "/api/fundraising/ops", {"base_version": server.version, "ops": [
            {"op": "set_cell", "row_id": row_id, "column_id": column_id, "value": value}]})
        doc = json.loads(payload)["data"]
        if doc["applied"] != 1:
            raise RuntimeError(f"{server.label}: a set_cell applied {doc['applied']} changes")
        server.version = doc["version"]
    return run


def state_runner(server: Server, built: dict):
    def run(case: Case) -> None:
        doc = json.loads(case.timed(server, "GET", "/api/fundraising/state"))["data"]
        if len(doc["grid"]["rows"]) != len(built["row_ids"]):
            raise RuntimeError(f"GET state returned {len(doc['grid']['rows'])} rows")
        server.version = doc["version"]
    return run


def view_runner(server: Server, built: dict):
    path = f"/api/fundraising/rows?view_id={quote(built['view_id'])}&limit=1000"

    def run(case: Case) -> None:
        doc = json.loads(case.timed(server, "GET", path))
        case.notes.setdefault("matched", []).append(doc["total"])
        if not doc["data"]:
            raise RuntimeError("the view matched no rows")
        server.version = doc["version"]
    return run


def put_runner(server: Server, built: dict, rng):
    next_step = built["ids"]["Next Step"]
    seq = [0]

    def run(case: Case) -> None:
        seq[0] += 1
        state = server.ok("GET", "/api/fundraising/state")["data"]
        before = state["version"]
        row = rng.choice(state["grid"]["rows"])
        row["cells"][next_step] = f"Whole-grid save #{seq[0]} ({rng.choice(NEXT_STEPS)})"
        raw = json.dumps({"grid": state["grid"], "views": state["views"], "expected_version": before}).encode()
        del state
        doc = json.loads(case.timed(server, "PUT", "/api/fundraising/state", raw=raw))["data"]
        case.notes["body_bytes"] = len(raw)
        logged = server.ok("GET", f"/api/fundraising/changes?since={before}")["data"]
        ops = logged["ops"]
        one = (len(ops) == 1 and ops[0]["kind"] == "set_cell" and ops[0]["row_id"] == row["id"]
               and ops[0]["column_id"] == next_step and doc["version"] == before + 1)
        case.notes.setdefault("ops_logged", []).append(len(ops))
        if not one:
            kinds = {}
            for op in ops:
                kinds[op["kind"]] = kinds.get(op["kind"], 0) + 1
            case.notes.setdefault("unexpected", []).append({"applied": doc["applied"], "ops": kinds})
        server.version = logged["version"]
    return run


def schedule(cases, rounds: int):
    """Round r runs case c when c's evenly spread quota steps up; the order rotates every round."""
    for r in range(rounds):
        due = [c for c in cases if (r + 1) * c.n // rounds > r * c.n // rounds]
        k = r % len(due) if due else 0
        yield due[k:] + due[:k]


def measure(cases, warmup_cases) -> float:
    for c in warmup_cases:
        for _ in range(c.n):
            c.run(c)
    rounds = max(c.n for c in cases)
    started = time.perf_counter()
    for ordered in schedule(cases, rounds):
        for case in ordered:
            case.run(case)
    return time.perf_counter() - started


def summarise(case: Case) -> dict:
    lat = sorted(case.latencies)
    row = {"case": case.name, "size": case.size, "n": len(lat), "p50_ms": percentile(lat, 50),
           "p99_ms": percentile(lat, 99), "max_ms": lat[-1], "mean_bytes": sum(case.bytes) / len(case.bytes),
           "server_cpu_ms": sum(case.cpu) / len(case.cpu), "goal_p50_ms": case.goal_ms}
    row["pass"] = row["p50_ms"] <= case.goal_ms
    if "matched" in case.notes:
        row["rows_matched"] = case.notes["matched"][0]
    if "ops_logged" in case.notes:
        row["ops_logged_per_put"] = case.notes["ops_logged"]
        row["unexpected_ops"] = case.notes.get("unexpected", [])
        row["body_bytes"] = case.notes["body_bytes"]
        row["pass"] = row["pass"] and not row["unexpected_ops"]
    return row


# ---------------------------------------------------------------- reporting

def goal_text(row) -> str:
    text = f"p50 <= {row['goal_p50_ms']:g} ms" if row["goal_p50_ms"] < 1000 else f"p50 <= {row['goal_p50_ms'] / 1000:g} s"
    return text + (", 1 op logged" if "ops_logged_per_put" in row else "")


def print_table(rows, ratio) -> None:
    head = ("case", "size", "N", "p50 ms", "p99 ms", "max ms", "srv CPU ms", "goal", "result")
    body = [(r["case"], f"{r['size']:,}", str(r["n"]), f"{r['p50_ms']:.2f}", f"{r['p99_ms']:.2f}", f"{r['max_ms']:.2f}",
             f"{r['server_cpu_ms']:.1f}", goal_text(r), "pass" if r["pass"] else "FAIL") for r in rows]
    body.append(("set_cell p50 ratio large/small", "", "", f"{ratio['value']:.2f}", "", "", "",
                 f"<= {GOAL_RATIO:g}", "pass" if ratio["pass"] else "FAIL"))
    benchlib.print_table(head, body, left=(0, 7))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows-small", type=int, default=500)
    parser.add_argument("--rows-large", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=1000, help="add_row ops per request while building")
    parser.add_argument("--set-cell", type=int, default=300, help="set_cell requests per size")
    parser.add_argument("--state", type=int, default=20, help="GET state requests at the large size")
    parser.add_argument("--view", type=int, default=30, help="GET rows through the view at the large size")
    parser.add_argument("--put", type=int, default=5, help="whole-grid PUTs at the large size")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", metavar="PATH", help="also write the figures here")
    parser.add_argument("--keep", action="store_true", help="keep the temporary data directories")
    parser.add_argument("--with-backups", action="store_true",
                        help="leave the automatic backup loop on (it runs a minute after start-up, mid-measurement)")
    parser.add_argument("--backend", type=Path, default=BACKEND,
                        help="the backend folder to run (default: this checkout's)")
    scale = parser.add_argument_group("the grid at 100,000 investors (bench/grid_scale.py)")
    scale.add_argument("--scale", type=int, metavar="ROWS",
                       help="measure a ROWS-row grid (built through the import) beside the --rows-small one instead")
    scale.add_argument("--scale-rounds", type=int, default=60, help="rounds of edits and views (a set_cell per server each)")
    scale.add_argument("--scale-runs", type=int, default=3, help="runs of each other case and of the restart")
    scale.add_argument("--large-data", type=Path, metavar="DIR", help="copy this kept data directory instead of importing")
    scale.add_argument("--baseline", type=Path, metavar="BACKEND",
                       help="with --large-data: this backend and --backend side by side over copies of the kept grid")
    scale.add_argument("--body-limit", type=int, metavar="BYTES",
                       help="CRM_MAX_BODY_BYTES (and the grid limit) for the large server: an older tree reads imports under it")
    args = parser.parse_args(argv)
    if args.scale:
        import grid_scale  # here, not at the top: it imports this module's builders
        return grid_scale.side_by_side(args) if args.baseline else grid_scale.run(args)
    info = machine()
    print(f"machine: {info['nproc']} CPUs, {info['cpu']}, Python {info['python']}, SQLite {info['sqlite']}")
    backend = args.backend.resolve()
    servers = {}
    failed_run = True
    try:
        for label in ("small", "large"):
            servers[label] = Server(label, backend)
        backups = "left on"
        for server in servers.values():
            server.wait_ready()
            server.register()
            if not args.with_backups:
                backups = server.no_auto_backups()
        print(f"automatic backups: {backups}")
        sizes = {"small": args.rows_small, "large": args.rows_large}
        built = {}
        for label, server in servers.items():
            print(f"building the {sizes[label]:,}-row grid (40 columns) through the API ...", flush=True)
            built[label] = build_grid(server, sizes[label], args.batch, args.seed + (0 if label == "small" else 100))
            t = built[label]["timings"]
            print(f"  built in {t['total_s']:.1f} s: 30 columns {t['columns_s']:.2f} s, rows {t['rows_s']:.1f} s "
                  f"({t['rows_per_s']:.0f} rows/s; {t['batches']} requests, mean {t['batch_mean_s']:.2f} s, "
                  f"max {t['batch_max_s']:.2f} s); {built[label]['cells_per_row']:.1f} cells per row, "
                  f"{built[label]['formula_error_cells']} formula error cells; database {built[label]['db_bytes'] / 2**20:.0f} MiB")

        small, large = servers["small"], servers["large"]
        rng = random.Random(args.seed + 7)
        cases = [
            Case("set_cell (POST ops, 1 op)", args.rows_small, args.set_cell, GOAL_SET_CELL_MS,
                 set_cell_runner(small, built["small"], rng)),
            Case("set_cell (POST ops, 1 op)", args.rows_large, args.set_cell, GOAL_SET_CELL_MS,
                 set_cell_runner(large, built["large"], rng)),
            Case("GET state", args.rows_large, args.state, GOAL_STATE_MS, state_runner(large, built["large"])),
            Case("GET rows via view (filter+sort, limit 1000)", args.rows_large, args.view, GOAL_VIEW_MS,
                 view_runner(large, built["large"])),
            Case("PUT state (1 cell changed)", args.rows_large, args.put, GOAL_PUT_MS, put_runner(large, built["large"], rng)),
        ]
        warmup = [Case(c.name, c.size, max(1, c.n // 10), c.goal_ms, c.run) for c in cases]
        print(f"measuring: set_cell x{args.set_cell} per size alternating between the servers, GET state x{args.state}, "
              f"view x{args.view}, PUT x{args.put} spread over the same rounds (after {sum(w.n for w in warmup)} "
              "warm-up requests) ...", flush=True)
        elapsed = measure(cases, warmup)
        rows = [summarise(c) for c in cases]
        value = rows[1]["p50_ms"] / rows[0]["p50_ms"]
        ratio = {"value": value, "goal": GOAL_RATIO, "pass": value <= GOAL_RATIO}
        print()
        print_table(rows, ratio)
        put = rows[4]
        print(f"\nset_cell p50 ratio {args.rows_large:,} / {args.rows_small:,} rows: {value:.2f} (goal <= {GOAL_RATIO:g})")
        print(f"view matched {rows[3].get('rows_matched', 0):,} of {args.rows_large:,} rows (first 1,000 returned); "
              f"GET state response {rows[2]['mean_bytes'] / 2**20:.1f} MiB")
        print(f"PUT body {put['body_bytes'] / 2**20:.1f} MiB"
              + f" ({put['body_bytes'] / GRID_BODY_LIMIT:.0%} of the default CRM_MAX_GRID_BODY_BYTES)"
              + f"; ops logged per PUT: {put['ops_logged_per_put']}"
              + (f"; UNEXPECTED: {put['unexpected_ops']}" if put["unexpected_ops"] else ""))
        print(f"measured in {elapsed:.1f} s")
        missed = [f"{r['case']} @ {r['size']:,}" for r in rows if not r["pass"]] + ([] if ratio["pass"] else ["set_cell ratio"])
        print("goals: " + ("all met" if not missed else "MISSED by: " + "; ".join(missed)))
        if args.json:
            Path(args.json).write_text(json.dumps({
                "machine": info, "sizes": sizes, "columns": 40, "seed": args.seed, "automatic_backups": backups,
                "build": {label: {k: v for k, v in b.items() if k not in ("ids", "row_ids", "view_id")} for label, b in built.items()},
                "requests": {"set_cell": args.set_cell, "state": args.state, "view": args.view, "put": args.put},
                "results": rows, "set_cell_p50_ratio": ratio, "measure_s": elapsed,
            }, indent=2) + "\n")
            print(f"wrote {args.json}")
        failed_run = False
        return 0 if not missed else 1
    finally:
        for server in servers.values():
            code = server.stop()
            if code not in (0, None) or failed_run:
                print(f"{server.label} server exited with code {code}; its log:", file=sys.stderr)
                print(server.log_tail(), file=sys.stderr)
            if args.keep:
                print(f"kept {server.data_dir}")
            else:
                shutil.rmtree(server.data_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
