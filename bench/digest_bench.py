"""Evening digest benchmark: build_digest over a day of 3,000 captured emails, counted and with the local model.

What it measures
    With --users (5) team members, each with a captured mailbox, --investors
    (400) grid investors, --emails (3,000) emails first captured in the day's
    window and --history (20,000) over the year before, the median, p90, min
    and max wall time of
      - crm.digest.compose.build_digest(conn, since, until, chat=None,
        cold_after_days=30): the window's mail per member and investor, the
        team's deduplicated per email, the investors going cold, subject, text
        and HTML; goal (issue 18) <= 200 ms, median of --runs (20);
      - of which crm.digest.collect.collect (the SQL and the grouping), no goal;
      - the same build with chat = crm.digest.narrative.local_model(config)
        against the stand-in model server (tests/fakes/spark.py, FakeSpark in
        mode "slow": every answer after --delay 2 s); the members' calls run at
        once, so the goal is <= 3 s, median of --model-runs (3). Every
        paragraph must be the model's (model_paragraphs = members with mail),
        one call per member per run.

How
    In process, no server: build_digest is a function over a connection, and
    the build is what the issue times; the send is SMTP over the network. A
    fresh data dir is prepared as the server does it (crm.app.prepare_database),
    the users written with crm.auth.users.create (an admin, the rest members)
    and the rest in one transaction of executemany() INSERTs, as
    bench/email_panel_bench.py writes captured mail: grid investors (5 % in the
    graveyard, 1-2 grid contacts each), 80 classic contacts, a closed Fund I
    and an open Fund II (commitments from 20 % and 30 % of the investors),
    mailboxes, threads, emails, sightings and links; the email migration 0003
    triggers fill email_activity* as the rows go in. The window is the day up
    to now; build_digest takes mail first captured in (since, until] (the
    earliest live sighting's seen_at) and sent after since - 2 days
    (crm/email/window.py), so the day's mail is sent and seen inside it (3 %
    sent up to 2 days before, captured late), the history before it. Drawn
    with a seeded RNG: a skewed spread over the investors, 6 % linked to two,
    8 % to a classic contact only, 35 % outbound, a quarter also held by a
    teammate's mailbox; a third of Fund II's investors without mail for 45
    days; the history 10 % unmatched, 3 % deleted in Gmail. Each result is
    checked (every email and member of the day, someone going cold). The
    counted cases are interleaved after --warmup rounds; the model runs follow.

Usage
    .venv/bin/python bench/digest_bench.py [--users 5 --investors 400 --emails 3000 --history 20000]
                                            [--runs 20] [--model-runs 3] [--json out.json]
    .venv/bin/python bench/digest_bench.py --emails 300 --history 2000 --runs 3 --model-runs 1   # does it work
    Exit status 0 when both goals are met, 1 when one misses.
"""
import argparse
import json
import random
import shutil
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from itertools import accumulate
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import benchlib  # noqa: E402
from benchlib import BACKEND, ROOT, machine, median, percentile  # noqa: E402

sys.path[:0] = [str(BACKEND), str(ROOT / "tests")]
from crm import app, config as crm_config  # noqa: E402
from crm.auth import users as crm_users  # noqa: E402
from crm.clock import iso  # noqa: E402
from crm.db import connect  # noqa: E402
from crm.digest import collect, narrative  # noqa: E402
from crm.digest.compose import build_digest  # noqa: E402
from fakes.spark import FakeSpark  # noqa: E402

GOAL_MS, MODEL_GOAL_MS = 200.0, 3000.0
DOMAIN = "fund.example"
MEMBERS = ("maria", "tom", "lena", "raj", "ana", "ben", "chloe", "dev", "eva")
REPLY = ("Maria discussed the Fund II close with Summit Harbor Capital and confirmed the commitment "
         "amount; Granite Partners asked for the latest quarterly letter before their committee meets.")
SUBJECTS = ("Fund II close timeline", "Quarterly update", "Data room access", "Reference check", "Capital call notice",
            "Side letter questions", "Annual meeting invite", "Portfolio update", "K-1 timing", "Co-invest opportunity")
PHRASES = ("Thanks for sending the deck and the track record summary.", "Could you share the latest quarterly letter?",
           "Our investment committee meets next week to review the allocation.", "Please find the DDQ attached.",
           "We are comfortable with the fees and carry as proposed.", "Happy to set up a call with our CIO.",
           "Timing is tight this year; the next close may work better.", "We reviewed the LPA with counsel.")
WORDS = "Summit Harbor Granite Cedar Beacon Meridian Northstar Ironwood Keystone Evergreen Atlas Sterling Redwood".split()
SUFFIXES = ("Capital", "Partners", "Family Office", "Ventures", "Foundation", "Endowment")
FIRST = "James Mary Robert Priya Arjun Wei Mei Hiroshi Yuki Sven Ingrid Pierre Camille Omar Fatima Kwame".split()
LAST = "Smith Garcia Nguyen Okafor Tanaka Kowalski Rossi Muller Dubois Lindqvist Ivanov Sharma Park Costa Haddad".split()


def new_id(rng) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def stamp(moment: datetime) -> str:
    """UTC to the second, as the parser stores sent_at (seen_at is crm.clock.iso, as store.add_sighting writes it)."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def seed_people(conn, rng, args, now: str) -> dict:
    """Users and their mailboxes, the grid investors and their contacts, classic contacts, funds and commitments."""
    team = [crm_users.create(conn, username="admin", email=f"admin@{DOMAIN}", display_name="Admin", role="admin")]
    team += [crm_users.create(conn, username=name, email=f"{name}@{DOMAIN}", display_name=name.title(), role="member")
             for name in MEMBERS[:args.users - 1]]
    boxes = [(new_id(rng), u["id"], u["email"]) for u in team]
    column = {r["field_key"]: r["id"] for r in conn.execute("SELECT id, field_key FROM fundraising_columns")}
    investors, grid_contacts = [], []
    for n in range(args.investors):
        inv = {"id": new_id(rng), "name": f"{rng.choice(WORDS)} {rng.choice(WORDS)} {rng.choice(SUFFIXES)} {n}",
               "graveyard": rng.random() < 0.05, "contacts": [], "weight": min(rng.paretovariate(1.2), 60.0)}
        for position in range(rng.choice((1, 1, 2))):
            contact = (new_id(rng), f"{rng.choice(FIRST)} {rng.choice(LAST)}")
            inv["contacts"].append((*contact, f"{contact[1].lower().replace(' ', '.')}@lp{n}.example"))
            grid_contacts.append((contact[0], inv["id"], column["contacts"], position, contact[1],
                                  inv["contacts"][-1][2], now, now))
        investors.append(inv)
    classic = [(new_id(rng), rng.choice(FIRST), rng.choice(LAST), f"person{n}@classic{n % 20}.example") for n in range(80)]
    funds = [(new_id(rng), new_id(rng), "Fund I", "2020-06-30"), (new_id(rng), new_id(rng), "Fund II", None)]
    commitments = [(new_id(rng), inv["id"], fund[0], rng.randint(5, 200) * 50_000.0, now)
                   for fund, share in zip(funds, (0.2, 0.3)) for inv in investors if rng.random() < share]
    fund2 = {c[1] for c in commitments if c[2] == funds[1][0]}
    quiet = {i for i in sorted(fund2) if rng.random() < 1 / 3}  # no mail for 45 days: going cold
    conn.execute("BEGIN IMMEDIATE")
    conn.executemany("INSERT INTO email_accounts (id, user_id, email, auth_method, status, created_at, updated_at)"
                     " VALUES (?, ?, ?, 'dwd', 'paused', ?, ?)", [(*b, now, now) for b in boxes])
    conn.executemany("INSERT INTO fundraising_investors (id, position, name, graveyard, created_at, updated_at)"
                     " VALUES (?, ?, ?, ?, ?, ?)",
                     [(i["id"], n + 1, i["name"], int(i["graveyard"]), now, now) for n, i in enumerate(investors)])
    conn.executemany("INSERT INTO fundraising_contacts (id, investor_id, column_id, position, name, email, created_at,"
                     " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", grid_contacts)
    conn.executemany("INSERT INTO contacts (id, first_name, last_name, email, created_at, updated_at)"
                     " VALUES (?, ?, ?, ?, ?, ?)", [(*c, now, now) for c in classic])
    conn.executemany("INSERT INTO fundraising_columns (id, name, type, position, created_at, updated_at)"
                     " VALUES (?, ?, 'fund', ?, ?, ?)", [(f[1], f[2], 20 + n, now, now) for n, f in enumerate(funds)])
    conn.executemany("INSERT INTO fundraising_funds (id, column_id, name, close_date, created_at, updated_at)"
                     " VALUES (?, ?, ?, ?, ?, ?)", [(*f, now, now) for f in funds])
    conn.executemany("INSERT INTO fundraising_commitments (id, investor_id, fund_id, amount, updated_at)"
                     " VALUES (?, ?, ?, ?, ?)", commitments)
    conn.execute("COMMIT")
    return {"boxes": boxes, "investors": investors, "classic": classic, "quiet": quiet, "committed": len(fund2)}


def generate(rng, people: dict, count: int, start: datetime, end: datetime, window: bool, rows: dict) -> None:
    """`count` emails sent in (start, end), each first seen within 10 minutes (history: never after `end`)."""
    boxes, quiet_after = people["boxes"], end - timedelta(days=45)
    pools = {everyone: (lst, list(accumulate(i["weight"] for i in lst))) for everyone, lst in (
        (True, people["investors"]), (False, [i for i in people["investors"] if i["id"] not in people["quiet"]]))}
    span = (end - start).total_seconds()
    for n in range(count):
        sent = start + timedelta(seconds=rng.uniform(1, span - 601))
        if window and rng.random() < 0.03:
            sent = start - timedelta(seconds=rng.uniform(60, 2 * 86400 - 60))  # sent earlier, captured late
        seen = min(sent + timedelta(seconds=rng.randint(5, 600)), end if window else end - timedelta(seconds=1))
        seen = max(seen, start + timedelta(seconds=1)) if window else seen
        email_id, threads = new_id(rng), rows["threads"]
        if threads and rng.random() < 0.6:
            thread_id, subject = rng.choice(threads[-300:])[:2]
            subject = "Re: " + subject.removeprefix("Re: ")
        else:
            thread_id, subject = new_id(rng), rng.choice(SUBJECTS)
            threads.append((thread_id, subject, stamp(sent), stamp(sent), 1))
        box = rng.choice(boxes)
        holders = [box] + ([rng.choice([b for b in boxes if b is not box])] if rng.random() < 0.25 else [])
        pool, cum = pools[window is False and sent < quiet_after]
        kind = rng.random()
        matched = window or rng.random() < 0.9
        parties = []
        if matched and kind < 0.08:
            c = rng.choice(people["classic"])
            parties = [(None, None, c[0], c[3], f"{c[1]} {c[2]}")]
        elif matched:
            for inv in rng.choices(pool, cum_weights=cum, k=2 if kind < 0.14 else 1):
                if all(p[0] != inv["id"] for p in parties):
                    contact = rng.choice(inv["contacts"])
                    parties.append((inv["id"], contact[0], None, contact[2], contact[1]))
        outbound = matched and rng.random() < 0.35
        if outbound:
            sender, to = (None, box[2]), [{"name": p[4], "email": p[3]} for p in parties]
        elif parties:
            sender, to = (parties[0][4], parties[0][3]), [{"name": "", "email": box[2]}]
        else:
            sender, to = (None, f"news{n}@unknown{n % 97}.example"), [{"name": "", "email": box[2]}]
        body = " ".join(rng.sample(PHRASES, rng.randint(3, 8))) if matched else None
        rows["emails"].append((email_id, f"<{email_id}@bench.example>", thread_id, subject, sender[0], sender[1],
                               json.dumps(to), stamp(sent), (body or "")[:200], body, int(matched),
                               "matched" if matched else "unmatched"))
        for p in parties:
            rows["links"].append((new_id(rng), email_id, p[0], p[1], p[2], p[3]))
        gone = not window and rng.random() < 0.03
        for k, holder in enumerate(holders):
            rows["sightings"].append((holder[0], f"g{len(rows['sightings'])}", email_id, f"t-{thread_id}",
                                      int(outbound and k == 0), iso(seen + timedelta(seconds=30 * k)),
                                      iso(seen) if gone else None))


def load(conn, rows: dict, now: str) -> float:
    t0 = time.perf_counter()
    conn.execute("BEGIN IMMEDIATE")
    conn.executemany("INSERT INTO email_threads (id, subject, first_at, last_at, message_count, created_at, updated_at)"
                     " VALUES (?, ?, ?, ?, ?, ?, ?)", [(*t, now, now) for t in rows["threads"]])
    conn.executemany("INSERT INTO emails (id, message_id, thread_id, subject, from_name, from_email, to_addrs, sent_at,"
                     " snippet, body_text, has_body, is_matched, match_status, created_at, updated_at)"
                     " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                     [(*e[:10], int(e[9] is not None), *e[10:], now, now) for e in rows["emails"]])
    conn.executemany("INSERT INTO email_account_messages (account_id, gmail_id, email_id, gmail_thread_id, is_sent,"
                     " seen_at, deleted_at) VALUES (?, ?, ?, ?, ?, ?, ?)", rows["sightings"])
    conn.executemany("INSERT INTO email_investor_links (id, email_id, fundraising_investor_id, fundraising_contact_id,"
                     " contact_id, match_kind, confidence, address, created_at) VALUES (?, ?, ?, ?, ?, 'exact_email',"
                     " 1.0, ?, ?)", [(*link, now) for link in rows["links"]])
    conn.execute("COMMIT")
    seconds = time.perf_counter() - t0
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # no ANALYZE: the server never runs one either
    return seconds


def timed(fn) -> tuple:
    t0 = time.perf_counter()
    return fn(), (time.perf_counter() - t0) * 1000


def check(result: dict, args, users: int) -> None:
    wanted = {"email_count": args.emails, "user_count": users}
    wrong = {k: (result[k], v) for k, v in wanted.items() if result[k] != v}
    if wrong or not result["cold_count"]:
        raise RuntimeError(f"the digest is not the day's: (got, wanted) {wrong}, cold_count {result['cold_count']}")


def summarise(name: str, values: list, goal) -> dict:
    values = sorted(values)
    row = {"case": name, "runs": len(values), "median_ms": median(values), "p90_ms": percentile(values, 90),
           "min_ms": values[0], "max_ms": values[-1], "goal_ms": goal}
    row["pass"] = None if goal is None else row["median_ms"] <= goal
    return row


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=5, choices=range(1, len(MEMBERS) + 2), metavar="N",
                        help=f"team members with a mailbox (1-{len(MEMBERS) + 1})")
    parser.add_argument("--investors", type=int, default=400)
    parser.add_argument("--emails", type=int, default=3000, help="emails first captured in the day's window")
    parser.add_argument("--history", type=int, default=20000, help="older emails, over the year before")
    parser.add_argument("--runs", type=int, default=20, help="measured builds without the model")
    parser.add_argument("--model-runs", type=int, default=3, help="measured builds with the stand-in model")
    parser.add_argument("--delay", type=float, default=2.0, help="seconds the stand-in model takes per answer")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", metavar="PATH", help="also write the figures here")
    args = parser.parse_args(argv)
    info = machine()
    print(f"machine: {info['nproc']} CPUs, {info['cpu']}, Python {info['python']}, SQLite {info['sqlite']}")
    rng = random.Random(args.seed)
    data_dir = Path(tempfile.mkdtemp(prefix="crm-digest-bench-"))
    try:
        config = crm_config.load(environ={}, data_dir=data_dir, port=0)
        app.prepare_database(config)
        conn = connect(config.db_path)
        until = datetime.now(timezone.utc).replace(microsecond=0)
        since = until - timedelta(days=1)
        now = iso(until)
        people = seed_people(conn, rng, args, now)
        rows = {"threads": [], "emails": [], "sightings": [], "links": []}
        generate(rng, people, args.history, since - timedelta(days=365), since, False, rows)
        generate(rng, people, args.emails, since, until, True, rows)
        load_s = load(conn, rows, now)
        counts = {t: conn.execute(f"SELECT count(*) AS n FROM {t}").fetchone()["n"]
                  for t in ("emails", "email_account_messages", "email_investor_links", "email_activity")}
        print(f"seeded: {args.users} mailboxes, {args.investors} investors ({people['committed']} committed to the "
              f"open fund, {len(people['quiet'])} of them quiet for 45 days); {counts['emails']:,} emails, "
              f"{counts['email_account_messages']:,} sightings, {counts['email_investor_links']:,} links, "
              f"{counts['email_activity']:,} listed; written with the triggers in {load_s:.1f} s", flush=True)

        cases = {"build_digest, chat=None": lambda: build_digest(conn, since, until, chat=None, cold_after_days=30),
                 "of which collect.collect": lambda: collect.collect(conn, since, until, 30, until.date().isoformat())}
        times = {name: [] for name in cases}
        for round_no in range(args.warmup + args.runs):
            for name in list(cases)[round_no % 2:] + list(cases)[:round_no % 2]:
                result, ms = timed(cases[name])
                if round_no >= args.warmup:
                    times[name].append(ms)
                if name.startswith("build"):
                    check(result, args, args.users)
                    counted = result
        model_times = []
        with FakeSpark(reply=REPLY, delay=args.delay) as spark:
            spark.mode = "slow"
            chat = narrative.local_model(crm_config.load(environ={}, spark_base_url=spark.base_url,
                                                         spark_timeout_sec=10, data_dir=data_dir))
            for _ in range(args.model_runs):
                asked = len(spark.requests)
                result, ms = timed(lambda: build_digest(conn, since, until, chat=chat, cold_after_days=30))
                check(result, args, args.users)
                if result["model_paragraphs"] != result["user_count"] or len(spark.requests) - asked != args.users:
                    raise RuntimeError(f"{result['model_paragraphs']} of {result['user_count']} paragraphs from the "
                                       f"model, {len(spark.requests) - asked} calls")
                model_times.append(ms)
        conn.close()
        table = [summarise(name, times[name], GOAL_MS if name.startswith("build") else None) for name in cases]
        table.append(summarise(f"build_digest, chat=local model ({args.delay:g} s)", model_times, MODEL_GOAL_MS))
        print(f"\ndigest: {counted['email_count']:,} emails, {counted['user_count']} members, "
              f"{counted['investor_count']} investors, {counted['cold_count']} going cold; text "
              f"{len(counted['body']) / 1024:.0f} KiB, HTML {len(counted['html']) / 1024:.0f} KiB\n")
        benchlib.print_table(
            ("case", "runs", "median ms", "p90 ms", "min ms", "max ms", "goal (median)", "result"),
            [(r["case"], str(r["runs"]), f"{r['median_ms']:.1f}", f"{r['p90_ms']:.1f}", f"{r['min_ms']:.1f}",
              f"{r['max_ms']:.1f}", f"<= {r['goal_ms']:.0f} ms" if r["goal_ms"] else "-",
              "-" if r["pass"] is None else ("ok" if r["pass"] else "MISS")) for r in table])
        failed = [r["case"] for r in table if r["pass"] is False]
        print("\ngoals: " + ("met" if not failed else "MISSED by: " + "; ".join(failed)))
        if args.json:
            digest = {k: v for k, v in counted.items() if k not in ("body", "html")}
            Path(args.json).write_text(json.dumps({"machine": info, "args": vars(args), "counts": counts, "load_s": load_s,
                                                   "digest": digest, "results": table}, indent=2) + "\n")
            print(f"wrote {args.json}")
        return 0 if not failed else 1
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
