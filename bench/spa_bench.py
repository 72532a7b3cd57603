"""SPA page benchmark: the first render of every page at 50,000 contacts and 100,000 emails.

What it measures
    For each page of the browser app (PAGES below: every section of the sidebar, a record of each
    kind, each Settings tab), in Debian's Chromium driven by Playwright:
      - open: from the app already loaded on another page, the time from asking for the page
        (history.pushState + popstate, what a sidebar link does) to its first render: the page
        has content, no API request is out (api.js's html[data-busy] is gone) and nothing says
        "Loading"; goal (issue 19) <= 500 ms, median of --runs;
      - load: a fresh load of the page's URL (the modules from the browser cache after the first),
        to the same point, from the navigation's start (reported, no goal).
    A page the app does not have (the router sends it to the grid) is reported as such.

How
    The real server (backend/server.py) runs as a subprocess over a fresh CRM_DATA_DIR with Gmail
    capture on and Google out of reach (bench/email_panel_bench.py's Server): the admin, four
    members and --investors (2,000) grid investors through the API; then, written straight into
    its database in one transaction each (as email_panel_bench does for mail): --contacts (50,000)
    classic contacts over 5,000 organizations, 2,000 opportunities across the stages, and
    --emails (100,000) captured emails (email_panel_bench.generate: two years, 90 % matched).
    The browser signs in once (the token put in sessionStorage); the pages are measured round
    robin (the starting page rotates each round) so the machine's noise falls on all alike.

Usage
    .venv/bin/python bench/spa_bench.py [--contacts 50000 --emails 100000 --investors 2000] [--runs 5] [--json out.json]
    .venv/bin/python bench/spa_bench.py --contacts 2000 --emails 2000 --investors 100 --runs 1   # does it work
    Exit status 0 when every page meets the goal, 1 when one misses (or is missing).
"""
import argparse
import json
import random
import sys
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import benchlib  # noqa: E402
import email_panel_bench as mail_bench  # noqa: E402

GOAL_MS = 500.0
CHROMIUM = "/usr/bin/chromium"
STAGES = ("prospect", "contacted", "meeting", "due_diligence", "soft_commit", "committed", "closed", "lost")
FIRST = ("Maya", "James", "Priya", "Lucas", "Sofia", "Daniel", "Hannah", "Omar", "Emily", "Ravi", "Grace", "Tom")
LAST = ("Chen", "Okafor", "Raman", "Meyer", "Alvarez", "Kim", "Weiss", "Haddad", "Carter", "Patel", "Liu", "Becker")

# (label, path): "{contact}" and "{organization}" and "{opportunity}" are filled with a seeded record's id.
PAGES = [
    ("grid", "/"), ("contacts", "/contacts"), ("a contact", "/contacts/{contact}"),
    ("organizations", "/organizations"), ("an organization", "/organizations/{organization}"),
    ("pipeline", "/pipeline"), ("pipeline list", "/pipeline?view=list"), ("an opportunity", "/opportunities/{opportunity}"),
    ("reports", "/reports"), ("communications", "/communications"), ("email capture", "/email-capture"),
    ("feature requests", "/feature-requests"), ("settings: me", "/settings/me"), ("settings: users", "/settings/users"),
    ("settings: digest", "/settings/digest"), ("settings: backups", "/settings/backups"),
    ("settings: gmail", "/settings/gmail"), ("settings: security", "/settings/security"),
    ("settings: audit", "/settings/audit"),
]

READY = """() => {
  const page = document.querySelector("main.signed-in .page");
  return Boolean(page && page.childElementCount && !document.documentElement.hasAttribute("data-busy")
                 && !page.textContent.slice(0, 4000).includes("Loading"));
}"""
OPEN = """async (path) => {
  const ready = %s;
  const t0 = performance.now();
  history.pushState(null, "", path);
  dispatchEvent(new PopStateEvent("popstate"));
  await new Promise((r) => requestAnimationFrame(r));
  while (!ready()) await new Promise((r) => requestAnimationFrame(r));
  return { ms: performance.now() - t0, at: location.pathname + location.search };
}""" % READY


def seed_records(db_path: Path, users: dict, contacts: int, rng) -> dict:
    """Organizations, contacts and opportunities straight into the database; one id of each."""
    sys.path.insert(0, str(benchlib.BACKEND))
    from crm.db import connect
    now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    admin = next(iter(users.values()))
    orgs = [(str(uuid.UUID(int=rng.getrandbits(128), version=4)), f"{rng.choice(mail_bench.ORG_WORDS)} "
             f"{rng.choice(mail_bench.ORG_WORDS)} {rng.choice(mail_bench.ORG_SUFFIXES)} {n}", f"org{n}.example")
            for n in range(max(1, contacts // 10))]
    people = []
    for n in range(contacts):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        people.append((str(uuid.UUID(int=rng.getrandbits(128), version=4)), first, last,
                       f"{first.lower()}.{last.lower()}{n}@{orgs[n % len(orgs)][2]}", orgs[n % len(orgs)][0]))
    deals = [(str(uuid.UUID(int=rng.getrandbits(128), version=4)), people[rng.randrange(len(people))][0],
              rng.choice(STAGES), rng.choice((250_000, 1_000_000, 5_000_000, 10_000_000)), f"Fund {rng.choice(('III', 'IV'))}")
             for _ in range(min(2000, contacts))]
    conn = connect(db_path)
    conn.execute("BEGIN IMMEDIATE")
    conn.executemany("INSERT INTO organizations (id, name, type, domain, created_at, created_by, updated_at, updated_by)"
                     " VALUES (?, ?, 'family_office', ?, ?, ?, ?, ?)", [(*o, now, admin, now, admin) for o in orgs])
    conn.executemany("INSERT INTO contacts (id, first_name, last_name, email, organization_id, contact_type, created_at,"
                     " created_by, updated_at, updated_by) VALUES (?, ?, ?, ?, ?, 'investor', ?, ?, ?, ?)",
                     [(*p, now, admin, now, admin) for p in people])
    conn.executemany("INSERT INTO opportunities (id, contact_id, stage, expected_amount, fund_name, created_at, created_by,"
                     " updated_at, updated_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                     [(*d, now, admin, now, admin) for d in deals])
    conn.execute("COMMIT")
    conn.close()
    return {"contact": people[0][0], "organization": orgs[0][0], "opportunity": deals[0][0]}


def measure(server, paths: dict, runs: int) -> dict:
    from playwright.sync_api import sync_playwright
    times = {label: {"open": [], "load": [], "at": None} for label in paths}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"])
        context = browser.new_context(base_url=server.url, viewport={"width": 1440, "height": 900})
        context.add_init_script(f"sessionStorage.setItem('crm.token', {json.dumps(server.token)})")
        page = context.new_page()
        page.goto("/settings/me")
        page.wait_for_function(READY, timeout=60_000)
        labels = list(paths)
        for round_no in range(runs + 1):  # the first round warms the caches and is not counted
            for label in labels[round_no % len(labels):] + labels[:round_no % len(labels)]:
                page.evaluate(OPEN, "/settings/me" if paths[label] != "/settings/me" else "/feature-requests")
                page.wait_for_function(READY, timeout=60_000)
                opened = page.evaluate(OPEN, paths[label])
                page.goto(paths[label])
                page.wait_for_function(READY, timeout=60_000, polling="raf")
                loaded = page.evaluate("performance.now()")
                if round_no:
                    times[label]["open"].append(opened["ms"])
                    times[label]["load"].append(loaded)
                times[label]["at"] = opened["at"]
        browser.close()
    return times


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=50_000)
    parser.add_argument("--emails", type=int, default=100_000)
    parser.add_argument("--investors", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", metavar="PATH")
    args = parser.parse_args(argv)
    info = benchlib.machine()
    print(f"machine: {info['nproc']} CPUs, {info['cpu']}, Python {info['python']}, SQLite {info['sqlite']}")
    rng = random.Random(args.seed)
    server = mail_bench.Server(benchlib.BACKEND)
    try:
        server.wait_ready()
        t0 = time.perf_counter()
        built = mail_bench.set_up(server, args.investors, rng)
        db_path = server.data_dir / "crm.db"
        loaded = mail_bench.load(db_path, mail_bench.generate(rng, args.emails, built["users"], built["investors"]),
                                 benchlib.BACKEND)
        ids = seed_records(db_path, built["users"], args.contacts, rng)
        print(f"seeded in {time.perf_counter() - t0:.0f} s: {args.investors:,} investors, {args.contacts:,} contacts, "
              f"{loaded['counts']['emails']:,} emails", flush=True)
        paths = {label: path.format(**ids) for label, path in PAGES}
        times = measure(server, paths, args.runs)
    finally:
        server.stop()
    table, failed = [], []
    for label, path in paths.items():
        found = times[label]
        missing = found["at"] != path and not (path == "/" and found["at"] == "/")
        row = {"page": label, "path": PAGES[[l for l, _ in PAGES].index(label)][1], "missing": missing,
               "open_ms": benchlib.median(found["open"]), "open_max_ms": max(found["open"]),
               "load_ms": benchlib.median(found["load"])}
        row["pass"] = not missing and row["open_ms"] <= GOAL_MS
        if not row["pass"]:
            failed.append(label)
        table.append(row)
    benchlib.print_table(("page", "path", "open p50 ms", "open max ms", "load p50 ms", f"goal <= {GOAL_MS:.0f} ms"),
                         [(r["page"], r["path"], f"{r['open_ms']:.0f}", f"{r['open_max_ms']:.0f}", f"{r['load_ms']:.0f}",
                           "no such page" if r["missing"] else ("ok" if r["pass"] else "MISS")) for r in table],
                         left=(0, 1))
    print("\ngoal: " + ("met on every page" if not failed else "MISSED on: " + ", ".join(failed)))
    if args.json:
        Path(args.json).write_text(json.dumps({"machine": info, "args": vars(args), "results": table}, indent=2) + "\n")
    return 0 if not failed else 1


if __name__ == "__main__":
    sys.exit(main())
