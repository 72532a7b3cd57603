"""Email-activity panel benchmark: a page of GET /api/email/activity, and the detail, at 100,000 emails.

What it measures
    With --emails (100,000) captured emails over 5 mailboxes and --investors
    (2,000) grid investors, the p50, p90, p99 and max latency of
      - GET /api/email/activity: the first page (50, newest first) with no
        filter, with each filter alone (investor_id, account_id, direction
        inbound and outbound, q with an LP's last name and q with a word in
        a fifth of all subjects, since/until a 30-day window), page 101
        (offset 5,000; half way in a smaller run), and one combination (a mailbox, outbound, 90 days);
      - GET /api/email/detail/{id}: one email with its bodies (HTML sanitised);
      - GET /api/email/activity/investors: the investor picker (reported, no
        goal: the issue's goal is for a page and the detail).
    Goal (issue 17): a page answers in <= 50 ms p50; the detail as well.

How
    The real server (backend/server.py) runs as a subprocess over a fresh
    CRM_DATA_DIR (benchlib.Server), with capture on (CRM_GMAIL_INTEGRATION_ENABLED)
    so that the /api/email routes answer; nothing reaches Google (its URLs
    point at a closed port and the mailboxes are written `paused`, which the
    scheduler skips). Through the API: the first admin registers, automatic
    backups are switched off, four members are invited (the mailboxes'
    owners) and one ops request adds the investors, with 1-2 contacts each,
    one in twenty in the graveyard.

    The mail is then written straight into the server's database in one
    transaction of executemany() INSERTs into the email tables (mailboxes,
    threads, emails, sightings, investor links): capturing 100,000 messages
    through the stand-in Google would take minutes and measure the sync, which
    bench/sync_bench.py does. The panel's own tables (email migration 0003)
    are filled by their triggers as the rows go in, as they are by a sync;
    the load's time is printed, and the derived rows are checked against the
    base tables afterwards. The mail, drawn with a seeded RNG: two years,
    90 % matched to investors' contacts (a skewed spread: a few investors have
    hundreds, most a few dozen; 5 % of matched mail also copies a second
    investor), 10 % from unknown senders (metadata only, never listed); 35 %
    of matched mail is outbound (from a mailbox), held by the sender's mailbox
    and, one time in four, a teammate's; inbound mail is held by 1 (70 %), 2
    or 3 mailboxes; 3 % was deleted in Gmail from every mailbox that held it
    and some more from one of two; replies join one of the last 300 threads.
    Bodies are 0.3-1 KB of text, 40 % with an HTML part.

    Requests go one at a time over one keep-alive connection. The cases are
    interleaved round-robin (the starting case rotates each round) so that
    noise on this shared machine falls on every case alike; ids, names and
    windows rotate through lists so no single row stays hot. Every answer
    must be a 200 and every filtered page must find something. Latency is
    the client's wall time for request + full response: HTTP, the token
    check, SQL and JSON encoding.

Usage
    .venv/bin/python bench/email_panel_bench.py [--emails 100000] [--requests 200] [--json out.json]
    .venv/bin/python bench/email_panel_bench.py --emails 5000 --requests 20      # does it work
    .venv/bin/python bench/email_panel_bench.py --backend /tmp/other-checkout/backend
    Exit status 0 when every goal case meets the goal, 1 when one misses.
"""
import argparse
import json
import random
import shutil
import sys
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))
import benchlib  # noqa: E402
from benchlib import BACKEND, machine, percentile  # noqa: E402

GOAL_MS = 50.0
DOMAIN = "fund.example"
MEMBERS = ("maria", "tom", "lena", "raj")
CLOSED_PORT_URL = "http://127.0.0.1:9"  # nothing listens: no call can leave the machine
COMMON_WORD = "update"                 # in a fifth of the subjects (SUBJECTS)

FIRST = """James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William Barbara Richard Susan
Joseph Jessica Thomas Sarah Charles Karen Daniel Nancy Matthew Lisa Anthony Betty Mark Sandra Paul Emily Andrew
Priya Arjun Wei Mei Hiroshi Yuki Sven Ingrid Pierre Camille Mateo Lucia Omar Fatima Kwame Amara Dmitri Olga""".split()
LAST = """Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez Gonzalez Wilson
Anderson Taylor Moore Jackson Martin Lee Thompson White Harris Clark Lewis Robinson Walker Young Allen King Wright
Scott Torres Nguyen Hill Flores Green Adams Nelson Baker Hall Rivera Campbell Mitchell Carter Roberts Phillips Evans
Turner Parker Collins Edwards Stewart Morris Murphy Cook Rogers Morgan Cooper Peterson Bailey Reed Kelly Howard
Okafor Adeyemi Mensah Nakamura Tanaka Suzuki Kowalski Nowak Rossi Bianchi Muller Schneider Dubois Moreau Jansen
Lindqvist Johansson Nielsen Ivanov Petrov Kaur Singh Sharma Gupta Wang Zhang Liu Huang Park Choi Byrne Walsh Costa
Oliveira Haddad Khoury Cohen Levi Fitzgerald Ferguson Hawkins Spencer Hudson Carroll Riley Hoffman""".split()
ORG_WORDS = """Summit Harbor Granite Cedar Beacon Meridian Northstar Bluewater Ironwood Keystone Evergreen Horizon
Atlas Crescent Pinnacle Sterling Redwood Silverline Oakridge Lakeshore Riverbend Highland Westbrook Eastgate Juniper
Sequoia Aspen Willow Falcon Osprey Heron Kestrel Lantern Compass Anchor Bridgewater Fairview Stonebridge""".split()
ORG_SUFFIXES = ("Capital", "Partners", "Family Office", "Ventures", "Foundation", "Endowment", "Holdings", "Trust")
SUBJECTS = ("Fund II close timeline", "Quarterly update", "Data room access", "Reference check", "Capital call notice",
            "Side letter questions", "Annual meeting invite", "Portfolio update", "K-1 timing", "Co-invest opportunity",
            "Diligence questionnaire", "LPAC meeting notes", "Wire instructions", "Intro call", "Update on commitments")
PHRASES = ("Thanks for sending the deck and the track record summary.", "Could you share the latest quarterly letter?",
           "Our investment committee meets next week to review the allocation.", "Please find the DDQ attached.",
           "We are comfortable with the fees and carry as proposed.", "Happy to set up a call with our CIO.",
           "Timing is tight this year; the next close may work better.", "We reviewed the LPA with counsel.",
           "Confirming the commitment amount discussed on the call.", "The wire will go out after the capital call.",
           "A few questions on the key-person provisions.", "Great to meet you at the conference last week.")


def new_id(rng) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def stamp(moment: datetime) -> str:
    """UTC to the second, as the parser stores sent_at."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


# ---------------------------------------------------------------- the server and its grid

class Server(benchlib.Server):
    """The CRM with capture on and Google out of reach."""

    def __init__(self, backend: Path):
        super().__init__(label="panel", backend=backend, prefix="crm-panel-bench-", **{
            "CRM_GMAIL_INTEGRATION_ENABLED": "1", "CRM_GMAIL_WORKSPACE_DOMAIN": DOMAIN,
            "CRM_GMAIL_SA_KEY_PATH": "/nonexistent/service-account.json",
            "CRM_GMAIL_API_BASE_URL": CLOSED_PORT_URL, "CRM_GMAIL_TOKEN_URI": CLOSED_PORT_URL + "/token"})

    def ok(self, method, path, body=None, expect=200) -> dict:
        status, payload, _ = self.request(method, path, json.dumps(body).encode() if body is not None else None)
        if status != expect:
            raise RuntimeError(f"{method} {path} answered {status} (expected {expect}): {payload[:500]!r}")
        return json.loads(payload)["data"]


def set_up(server: Server, investor_count: int, rng) -> dict:
    """The admin, no automatic backups, the mailboxes' owners and the grid; returns users and investors."""
    server.token = server.ok("POST", "/api/auth/register", benchlib.ADMIN, expect=201)["token"]
    server.ok("PATCH", "/api/fundraising/backup-policy", {"enabled": False})
    users = {benchlib.ADMIN["email"]: server.ok("GET", "/api/auth/me")["id"]}
    for name in MEMBERS:
        user = server.ok("POST", "/api/admin/users", {"username": name, "role": "member", "email": f"{name}@{DOMAIN}"},
                         expect=201)["user"]
        users[user["email"]] = user["id"]
    state = server.ok("GET", "/api/fundraising/state")
    key = {c["key"]: c["id"] for c in state["grid"]["columns"] if c["key"]}
    names, ops = set(), []
    for n in range(investor_count):
        name = f"{rng.choice(ORG_WORDS)} {rng.choice(ORG_WORDS)} {rng.choice(ORG_SUFFIXES)}"
        name = name if name not in names else f"{name} {n}"
        names.add(name)
        domain = name.lower().replace(" ", "") + f"{n}.example"
        people = [(rng.choice(FIRST), rng.choice(LAST)) for _ in range(rng.choice((1, 1, 2)))]
        ops.append({"op": "add_row", "cells": {
            key["name"]: name, key["graveyard"]: rng.random() < 0.05,
            key["contacts"]: [{"name": f"{f} {last}", "email": f"{f.lower()}.{last.lower()}@{domain}"} for f, last in people]}})
    server.ok("POST", "/api/fundraising/ops", {"base_version": state["version"], "ops": ops})
    rows = server.ok("GET", "/api/fundraising/state")["grid"]["rows"]
    investors = [{"id": r["id"], "graveyard": bool(r["cells"].get(key["graveyard"])),
                  "contacts": [(c["id"], c["name"], c["email"]) for c in r["cells"][key["contacts"]]]} for r in rows]
    return {"users": users, "investors": investors}


# ---------------------------------------------------------------- the mail

def generate(rng, count: int, users: dict, investors: list) -> dict:
    """Rows for the email tables, as a sync would leave them (see the module's docstring)."""
    now = datetime.now(timezone.utc).replace(microsecond=0)
    mailboxes = [(new_id(rng), uid, address) for address, uid in users.items()]
    weights = [min(rng.paretovariate(1.2), 60.0) for _ in investors]
    threads, recent, emails, sightings, links = {}, [], [], [], []
    start = now - timedelta(days=730)
    for n in range(count):
        sent = start + timedelta(seconds=n * 730 * 86400 / count + rng.randint(0, 300))
        email_id = new_id(rng)
        matched = rng.random() < 0.9
        if recent and rng.random() < 0.65:
            thread_id = rng.choice(recent)
            subject = "Re: " + threads[thread_id]["subject"].removeprefix("Re: ")
        else:
            thread_id = new_id(rng)
            subject = rng.choice(SUBJECTS)
            threads[thread_id] = {"subject": subject, "first": stamp(sent), "count": 0}
            recent = (recent + [thread_id])[-300:]
        threads[thread_id]["last"] = stamp(sent)
        threads[thread_id]["count"] += 1
        box = rng.choice(mailboxes)
        holders = [box]
        if matched:
            investor = rng.choices(investors, weights=weights)[0]
            contact = rng.choice(investor["contacts"])
            linked = [(investor, contact)]
            other = rng.choice(investors)
            if rng.random() < 0.05 and other is not investor:
                linked.append((other, rng.choice(other["contacts"])))
            outbound = rng.random() < 0.35
            lp = [{"name": c[1], "email": c[2]} for _, c in linked]
            if outbound:
                sender, to = (None, box[2]), lp
                if rng.random() < 0.25:
                    holders.append(rng.choice([m for m in mailboxes if m is not box]))
            else:
                sender, to = (contact[1], contact[2]), [{"name": "", "email": box[2]}]
                holders += rng.sample([m for m in mailboxes if m is not box], rng.choices((0, 1, 2), (70, 22, 8))[0])
            body = " ".join(rng.sample(PHRASES, rng.randint(3, 8)))
            html = "<p>" + body.replace(". ", ".</p><p>") + "</p>" if rng.random() < 0.4 else None
            for investor_row, person in linked:
                links.append((new_id(rng), email_id, investor_row["id"], person[0], "exact_email", 1.0, person[2]))
        else:  # metadata only
            sender, to, outbound = (None, f"someone{n}@unknown{n % 997}.example"), [{"name": "", "email": box[2]}], False
            body = html = None
        snippet = " ".join(body.split())[:200] if body else ""
        emails.append((email_id, f"<{email_id}@bench.example>", thread_id, subject, sender[0], sender[1], json.dumps(to),
                       stamp(sent), snippet, body, html, int(body is not None), int(matched),
                       "matched" if matched else "unmatched"))
        gone = rng.random() < 0.03
        for i, (account_id, _, _) in enumerate(holders):
            deleted = gone or (i > 0 and rng.random() < 0.1)
            sightings.append((account_id, f"g{n}-{i}", email_id, f"t-{thread_id}", int(outbound and i == 0),
                              stamp(now) if deleted else None))
    thread_rows = [(tid, t["subject"], t["first"], t["last"], t["count"]) for tid, t in threads.items()]
    return {"mailboxes": mailboxes, "threads": thread_rows, "emails": emails, "sightings": sightings, "links": links}


def load(db_path: Path, rows: dict, backend: Path) -> dict:
    """Write the rows in one transaction; the panel's triggers fill its tables. Returns timings and counts."""
    sys.path.insert(0, str(backend))
    from crm.db import connect
    now = stamp(datetime.now(timezone.utc))
    conn = connect(db_path)
    conn.execute("PRAGMA cache_size=-524288")  # the bulk load only: the FTS and index b-trees stay in memory
    t0 = time.perf_counter()
    conn.execute("BEGIN IMMEDIATE")
    conn.executemany("INSERT INTO email_accounts (id, user_id, email, auth_method, status, created_at, updated_at)"
                     " VALUES (?, ?, ?, 'dwd', 'paused', ?, ?)", [(*m, now, now) for m in rows["mailboxes"]])
    conn.executemany("INSERT INTO email_threads (id, subject, first_at, last_at, message_count, created_at, updated_at)"
                     " VALUES (?, ?, ?, ?, ?, ?, ?)", [(*t, now, now) for t in rows["threads"]])
    conn.executemany("INSERT INTO emails (id, message_id, thread_id, subject, from_name, from_email, to_addrs, sent_at,"
                     " snippet, body_text, body_html, has_body, is_matched, match_status, created_at, updated_at)"
                     " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", [(*e, now, now) for e in rows["emails"]])
    conn.executemany("INSERT INTO email_account_messages (account_id, gmail_id, email_id, gmail_thread_id, is_sent, seen_at,"
                     " deleted_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                     [(a, g, e, t, s, now, d) for a, g, e, t, s, d in rows["sightings"]])
    conn.executemany("INSERT INTO email_investor_links (id, email_id, fundraising_investor_id, fundraising_contact_id,"
                     " match_kind, confidence, address, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                     [(*link, now) for link in rows["links"]])
    conn.execute("COMMIT")
    load_s = time.perf_counter() - t0
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    check(conn)
    counts = {t: conn.execute(f"SELECT count(*) AS n FROM {t}").fetchone()["n"]
              for t in ("emails", "email_account_messages", "email_investor_links", "email_activity",
                        "email_activity_mailboxes", "email_activity_investors")}
    listed = [r["email_id"] for r in conn.execute("SELECT email_id FROM email_activity")]
    conn.close()
    return {"load_s": load_s, "counts": counts, "listed": listed, "db_bytes": db_path.stat().st_size}


def check(conn) -> None:
    """The panel's rows are what the base tables say (the triggers fired as a sync's writes fire them)."""
    wanted = {r["id"] for r in conn.execute(
        "SELECT e.id FROM emails e WHERE EXISTS (SELECT 1 FROM email_investor_links l WHERE l.email_id = e.id)"
        " AND EXISTS (SELECT 1 FROM email_account_messages m WHERE m.email_id = e.id AND m.deleted_at IS NULL)")}
    have = {r["email_id"] for r in conn.execute("SELECT email_id FROM email_activity")}
    fts = conn.execute("SELECT count(*) AS n FROM email_activity_fts").fetchone()["n"]
    if wanted != have or fts != len(have):
        raise RuntimeError(f"the panel's rows do not follow the tables: {len(have)} listed, {len(wanted)} wanted, "
                           f"{fts} search rows")


# ---------------------------------------------------------------- measurement

class Case:
    def __init__(self, name, paths, goal=True, must_find=False):
        self.name, self.paths, self.goal, self.must_find = name, paths, goal, must_find
        self.i = 0
        self.latencies, self.totals, self.bytes = [], [], []

    def next_path(self) -> str:
        path = self.paths[self.i % len(self.paths)]
        self.i += 1
        return path


def page(**query) -> str:
    return "/api/email/activity" + ("?" + urlencode(query) if query else "")


def make_cases(rng, built: dict, loaded: dict) -> list:
    mailboxes = [m[0] for m in built["rows"]["mailboxes"]]
    linked = sorted({link[2] for link in built["rows"]["links"]})
    with_mail = rng.sample(linked, min(200, len(linked)))
    last_names = sorted({c[1].split()[-1] for inv in built["investors"] for c in inv["contacts"]})
    rng.shuffle(last_names)
    now = datetime.now(timezone.utc)
    windows = [now - timedelta(days=rng.randint(30, 720)) for _ in range(100)]
    listed = rng.sample(loaded["listed"], min(2000, len(loaded["listed"])))
    deep = min(5000, len(loaded["listed"]) // 100 * 50)  # page 101, or half way in a small run
    return [
        Case("page, no filter", [page()]),
        Case("investor_id", [page(investor_id=i) for i in with_mail], must_find=True),
        Case("account_id", [page(account_id=m) for m in mailboxes], must_find=True),
        Case("direction=inbound", [page(direction="inbound")], must_find=True),
        Case("direction=outbound", [page(direction="outbound")], must_find=True),
        Case("q=<an LP's last name>", [page(q=name) for name in last_names], must_find=True),
        Case(f"q={COMMON_WORD} (a fifth of all mail)", [page(q=COMMON_WORD)], must_find=True),
        Case("since/until, 30 days", [page(since=stamp(w), until=stamp(w + timedelta(days=30))) for w in windows],
             must_find=True),
        Case(f"offset={deep:,} (page {deep // 50 + 1})", [page(offset=deep)], must_find=True),
        Case("account + outbound + 90 days", [page(account_id=m, direction="outbound", since=stamp(now - timedelta(days=90)))
                                              for m in mailboxes], must_find=True),
        Case("detail GET /api/email/detail/{id}", [f"/api/email/detail/{i}" for i in listed]),
        Case("picker GET /api/email/activity/investors", ["/api/email/activity/investors"], goal=False),
    ]


def measure(server: Server, cases, requests: int, warmup: int) -> None:
    for round_no in range(warmup + requests):
        start = round_no % len(cases)
        for case in cases[start:] + cases[:start]:
            path = case.next_path()
            status, body, seconds = server.request("GET", path)
            if status != 200:
                raise RuntimeError(f"GET {path} answered {status}: {body[:300]!r}")
            if round_no < warmup:
                continue
            case.latencies.append(seconds * 1000)
            case.bytes.append(len(body))
            answer = json.loads(body)
            if "total" in answer:
                case.totals.append(answer["total"])
                if case.must_find and not answer["data"]:
                    raise RuntimeError(f"GET {path} found nothing")


def summarise(case: Case) -> dict:
    lat = sorted(case.latencies)
    row = {"case": case.name, "requests": len(lat), "p50_ms": percentile(lat, 50), "p90_ms": percentile(lat, 90),
           "p99_ms": percentile(lat, 99), "max_ms": lat[-1], "mean_bytes": sum(case.bytes) / len(case.bytes),
           "goal_p50_ms": GOAL_MS if case.goal else None}
    row["pass"] = row["p50_ms"] <= GOAL_MS if case.goal else None
    if case.totals:
        totals = sorted(case.totals)
        row["total_median"], row["total_min"], row["total_max"] = totals[len(totals) // 2], totals[0], totals[-1]
    return row


def print_table(rows) -> None:
    head = ("case", "requests", "total (median)", "p50 ms", "p90 ms", "p99 ms", "max ms", "KiB", "goal (p50)", "result")
    body = [(r["case"], str(r["requests"]), f"{r['total_median']:,}" if "total_median" in r else "-",
             f"{r['p50_ms']:.2f}", f"{r['p90_ms']:.2f}", f"{r['p99_ms']:.2f}", f"{r['max_ms']:.2f}",
             f"{r['mean_bytes'] / 1024:.1f}", f"<= {GOAL_MS:.0f} ms" if r["goal_p50_ms"] else "-",
             ("pass" if r["pass"] else "FAIL") if r["pass"] is not None else "-") for r in rows]
    benchlib.print_table(head, body)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--emails", type=int, default=100_000)
    parser.add_argument("--investors", type=int, default=2_000)
    parser.add_argument("--requests", type=int, default=200, help="measured requests per case")
    parser.add_argument("--warmup", type=int, default=5, help="unmeasured rounds first")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", metavar="PATH", help="also write the figures here")
    parser.add_argument("--keep", action="store_true", help="keep the temporary data directory")
    parser.add_argument("--backend", type=Path, default=BACKEND, help="the backend folder to run (default: this checkout's)")
    args = parser.parse_args(argv)
    info = machine()
    print(f"machine: {info['nproc']} CPUs, {info['cpu']}, Python {info['python']}, SQLite {info['sqlite']}")
    rng = random.Random(args.seed)
    backend = args.backend.resolve()
    server = Server(backend)
    try:
        server.wait_ready()
        t0 = time.perf_counter()
        built = set_up(server, args.investors, rng)
        print(f"set up: {len(built['users'])} mailboxes' owners, {len(built['investors']):,} investors "
              f"({sum(i['graveyard'] for i in built['investors'])} in the graveyard) in {time.perf_counter() - t0:.1f} s",
              flush=True)
        t0 = time.perf_counter()
        built["rows"] = generate(rng, args.emails, built["users"], built["investors"])
        generate_s = time.perf_counter() - t0
        loaded = load(server.data_dir / "crm.db", built["rows"], backend)
        counts = loaded["counts"]
        print(f"mail: {counts['emails']:,} emails, {counts['email_account_messages']:,} sightings, "
              f"{counts['email_investor_links']:,} links in {len(built['rows']['threads']):,} threads; the panel lists "
              f"{counts['email_activity']:,} ({counts['email_activity_mailboxes']:,} mailbox rows, "
              f"{counts['email_activity_investors']:,} investor rows); generated in {generate_s:.1f} s, written with "
              f"the triggers in {loaded['load_s']:.1f} s; database {loaded['db_bytes'] / 2**20:.0f} MiB", flush=True)
        cases = make_cases(random.Random(args.seed + 1), built, loaded)
        print(f"measuring: {args.requests} requests per case after {args.warmup} warm-up rounds, "
              f"{len(cases)} cases interleaved over one keep-alive connection ...", flush=True)
        t0 = time.perf_counter()
        measure(server, cases, args.requests, args.warmup)
        elapsed = time.perf_counter() - t0
        rows = [summarise(c) for c in cases]
        print()
        print_table(rows)
        print(f"\nmeasured in {elapsed:.1f} s; total is the answer's `total` (the first page holds up to 50)")
        failed = [r["case"] for r in rows if r["pass"] is False]
        print(f"goal: every page and the detail at p50 <= {GOAL_MS:.0f} ms -> "
              + ("met" if not failed else "MISSED by: " + "; ".join(failed)))
        if args.json:
            Path(args.json).write_text(json.dumps({
                "machine": info, "emails": args.emails, "investors": args.investors, "seed": args.seed,
                "counts": counts, "load_s": loaded["load_s"], "db_bytes": loaded["db_bytes"],
                "requests_per_case": args.requests, "warmup_rounds": args.warmup, "results": rows}, indent=2) + "\n")
            print(f"wrote {args.json}")
        return 0 if not failed else 1
    except BaseException:
        print("server log (tail):\n" + server.log_tail(), file=sys.stderr)
        raise
    finally:
        server.stop()
        if args.keep:
            print(f"kept {server.data_dir}")
        else:
            shutil.rmtree(server.data_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
