"""Relationship strength benchmark: crm.ingest.strength.refresh over 50,000 contacts and 100,000 emails.

What it measures
    With --users (5) team members, each with a mailbox, --investors (10,000) grid investors with
    --contacts (50,000) grid contacts between them, each contact a person entity with its address
    linked and each investor an organization entity, and --emails (100,000) captured emails over
    two years (a quarter also in a teammate's mailbox, 35 % in the sender's Sent, 3 % deleted in
    Gmail, 10 % from addresses the CRM does not know), the wall time of
      - the first refresh (every edge added), goal (issue 20 brief) < 5 s;
      - a second refresh over the same data (nothing written), goal < 5 s;
      - a refresh on each following day (every score decays: nearly every edge rewritten), goal < 5 s;
      - investor_levels for every investor: what the grid's snapshot asks the provider when it
        rebuilds (crm.hooks.relationship_levels), no goal.
    Medians of --runs (3) for the last two; the first is one run on a fresh copy each time.

How
    In process, no server, as bench/digest_bench.py: a fresh data dir prepared as the server does
    it (crm.app.prepare_database), then one transaction of executemany() INSERTs for users,
    mailboxes, investors, contacts, entities and links (as crm.ingest.entities writes them),
    threads, emails and sightings, drawn with a seeded RNG.

Usage
    .venv/bin/python bench/strength_bench.py [--users 5 --investors 10000 --contacts 50000 --emails 100000] [--runs 3]
    .venv/bin/python bench/strength_bench.py --investors 500 --contacts 2000 --emails 5000 --runs 1   # does it work
    Exit status 0 when the goal is met, 1 when not.
"""
import argparse
import json
import random
import shutil
import sys
import tempfile
import time
import uuid
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchlib import BACKEND, machine, median, print_table  # noqa: E402

sys.path.insert(0, str(BACKEND))
from crm import app, config as crm_config  # noqa: E402
from crm.auth import users as crm_users  # noqa: E402
from crm.clock import iso  # noqa: E402
from crm.db import connect  # noqa: E402
from crm.ingest import strength  # noqa: E402

GOAL_S = 5.0
DOMAIN = "fund.example"


def new_id(rng) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def seed(conn, rng, args) -> dict:
    now = iso(datetime.now(timezone.utc))
    team = [crm_users.create(conn, username=f"member{n}", email=f"member{n}@{DOMAIN}", display_name=f"Member {n}",
                             role="admin" if n == 0 else "member") for n in range(args.users)]
    boxes = [(new_id(rng), u["id"], u["email"]) for u in team]
    column = conn.execute("SELECT id FROM fundraising_columns WHERE field_key = 'contacts'").fetchone()["id"]
    investors = [new_id(rng) for _ in range(args.investors)]
    contacts = [(new_id(rng), rng.choice(investors), f"person{n}@lp{n % args.investors}.example") for n in range(args.contacts)]
    entities, links = [], []
    for investor in investors:
        entity = new_id(rng)
        entities.append((entity, "organization", "Investor", now, now))
        links.append((new_id(rng), entity, "fundraising_investors", investor, "only", 1.0, now, now))
    for contact_id, _, address in contacts:
        entity = new_id(rng)
        entities.append((entity, "person", address, now, now))
        links.append((new_id(rng), entity, "fundraising_contacts", contact_id, "email", 1.0, now, now))
        links.append((new_id(rng), entity, "email_address", address, "email", 1.0, now, now))
    threads, emails, sightings = [], [], []
    end = datetime.now(timezone.utc)
    for n in range(args.emails):
        sent = (end - timedelta(seconds=rng.uniform(0, 730 * 86400))).strftime("%Y-%m-%dT%H:%M:%SZ")
        box = rng.choice(boxes)
        party = rng.choice(contacts)[2] if rng.random() < 0.9 else f"news{n}@unknown.example"
        outbound = rng.random() < 0.35
        sender, to = (box[2], [{"name": "", "email": party}]) if outbound else (party, [{"name": "", "email": box[2]}])
        email_id, thread_id = new_id(rng), new_id(rng)
        threads.append((thread_id, "Subject", sent, sent, 1, now, now))
        emails.append((email_id, f"<{email_id}@bench.example>", thread_id, "Subject", sender, json.dumps(to), sent, now, now))
        gone = now if rng.random() < 0.03 else None
        holders = [box] + ([rng.choice([b for b in boxes if b is not box])] if len(boxes) > 1 and rng.random() < 0.25 else [])
        for k, holder in enumerate(holders):
            sightings.append((holder[0], f"g{len(sightings)}", email_id, thread_id, int(outbound and k == 0), now, gone))
    conn.execute("BEGIN IMMEDIATE")
    conn.executemany("INSERT INTO email_accounts (id, user_id, email, auth_method, status, created_at, updated_at)"
                     " VALUES (?, ?, ?, 'dwd', 'paused', ?, ?)", [(*b, now, now) for b in boxes])
    conn.executemany("INSERT INTO fundraising_investors (id, position, name, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
                     [(i, n, f"Investor {n}", now, now) for n, i in enumerate(investors)])
    conn.executemany("INSERT INTO fundraising_contacts (id, investor_id, column_id, position, name, email, created_at,"
                     " updated_at) VALUES (?, ?, ?, 0, ?, ?, ?, ?)", [(c, i, column, a, a, now, now) for c, i, a in contacts])
    conn.executemany("INSERT INTO canonical_entities (id, kind, display_name, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
                     entities)
    conn.executemany("INSERT INTO entity_links (id, entity_id, source_table, source_id, method, confidence, created_at,"
                     " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", links)
    conn.executemany("INSERT INTO email_threads (id, subject, first_at, last_at, message_count, created_at, updated_at)"
                     " VALUES (?, ?, ?, ?, ?, ?, ?)", threads)
    conn.executemany("INSERT INTO emails (id, message_id, thread_id, subject, from_email, to_addrs, sent_at, created_at,"
                     " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", emails)
    conn.executemany("INSERT INTO email_account_messages (account_id, gmail_id, email_id, gmail_thread_id, is_sent, seen_at,"
                     " deleted_at) VALUES (?, ?, ?, ?, ?, ?, ?)", sightings)
    conn.execute("COMMIT")
    return {"investors": investors, "sightings": len(sightings)}


def timed(fn) -> tuple:
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=5)
    parser.add_argument("--investors", type=int, default=10_000)
    parser.add_argument("--contacts", type=int, default=50_000)
    parser.add_argument("--emails", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    info = machine()
    print(f"machine: {info['nproc']} CPUs, {info['cpu']}, Python {info['python']}, SQLite {info['sqlite']}")
    data_dir = Path(tempfile.mkdtemp(prefix="crm-strength-bench-"))
    try:
        config = crm_config.load(environ={}, data_dir=data_dir, port=0)
        app.prepare_database(config)
        conn = connect(config.db_path)
        seeded = seed(conn, random.Random(args.seed), args)
        print(f"seeded: {args.users} mailboxes, {args.investors:,} investors, {args.contacts:,} contacts, "
              f"{args.emails:,} emails, {seeded['sightings']:,} sightings", flush=True)
        first_s, first = timed(lambda: strength.refresh(conn))
        again = [timed(lambda: strength.refresh(conn)) for _ in range(args.runs)]
        assert all(sum(r["emailed"][k] for k in ("added", "updated", "removed")) == 0 for _, r in again), again
        tomorrow = [timed(lambda: strength.refresh(conn, date.today() + timedelta(days=n + 1))) for n in range(args.runs)]
        levels = [timed(lambda: strength.investor_levels(conn, seeded["investors"])) for _ in range(args.runs)]
        body = [("first refresh (all added)", f"{first_s:.2f}", f"{first['emailed']['added']:,} emailed, "
                                                                 f"{first['works_at']['added']:,} works_at"),
                ("refresh again (no change)", f"{median([t for t, _ in again]):.2f}", "nothing written"),
                ("the next day (every score decays)", f"{median([t for t, _ in tomorrow]):.2f}",
                 f"{tomorrow[0][1]['emailed']['updated']:,} updated"),
                ("investor_levels, every investor", f"{median([t for t, _ in levels]):.2f}",
                 f"{len(levels[0][1]):,} cells")]
        print_table(("case", "seconds", "what"), body)
        ok = max(first_s, median([t for t, _ in again]), median([t for t, _ in tomorrow])) < GOAL_S
        print(f"goal < {GOAL_S:.0f} s: {'met' if ok else 'missed'}")
        conn.close()
        return 0 if ok else 1
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
