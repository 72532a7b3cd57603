"""Redaction speed (crm.ingest.redact): building the known-name matcher, checking it is current,
and scrubbing a 2,000-character email, with 50,000 known contacts (and grid contacts, organizations
and investors besides).

    .venv/bin/python bench/redact_bench.py [--contacts 50000] [--repeat 200]

The database is filled with plain INSERTs (what is measured is the scrub, not the API); every
scrub after the first reuses the cached matcher, and each one still reads the owners' change marks.
"""
import argparse
import random
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import benchlib  # noqa: E402

sys.path.insert(0, str(benchlib.BACKEND))
from crm.db import connect, migrate  # noqa: E402
from crm.ingest import redact  # noqa: E402

SYLLABLES = ("an", "bel", "cor", "da", "el", "fin", "gar", "ha", "is", "jo", "ka", "lu", "mar", "no", "or", "pe",
             "qui", "ra", "sa", "ti", "ul", "vi", "wen", "xa", "yo", "zu")
NOW = "2026-01-01T00:00:00.000Z"


def word(rng, parts=2) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(parts)).capitalize()


def fill(conn, contacts: int, rng) -> dict:
    people = [(f"c{i}", word(rng, 2), word(rng, 3), f"+1 415 {rng.randrange(200, 999)} {rng.randrange(1000, 9999)}")
              for i in range(contacts)]
    orgs = [(f"o{i}", f"{word(rng, 3)} {rng.choice(('Capital', 'Partners', 'Holdings LLC', 'Family Office'))}",
             f"{word(rng, 3).lower()}.example") for i in range(contacts // 10)]
    investors = [(f"i{i}", float(i), f"{word(rng, 3)} {rng.choice(('LP', 'Endowment', 'Trust'))}", word(rng, 3))
                 for i in range(contacts // 5)]
    grid_people = [(f"g{i}", investors[i % len(investors)][0], i, f"{word(rng, 2)} {word(rng, 3)}")
                   for i in range(contacts * 2 // 5)]
    with conn:
        conn.executemany("INSERT INTO contacts (id, first_name, last_name, phone, created_at, updated_at)"
                         " VALUES (?, ?, ?, ?, '" + NOW + "', '" + NOW + "')", people)
        conn.executemany("INSERT INTO organizations (id, name, domain, created_at, updated_at)"
                         " VALUES (?, ?, ?, '" + NOW + "', '" + NOW + "')", orgs)
        conn.executemany("INSERT INTO fundraising_investors (id, position, name, organization, created_at, updated_at)"
                         " VALUES (?, ?, ?, ?, '" + NOW + "', '" + NOW + "')", investors)
        conn.execute("INSERT INTO fundraising_columns (id, name, type, position, created_at, updated_at)"
                     " VALUES ('people', 'Contacts', 'contacts', 1, ?, ?)", (NOW, NOW))
        conn.executemany("INSERT INTO fundraising_contacts (id, investor_id, column_id, position, name, created_at,"
                         " updated_at) VALUES (?, ?, 'people', ?, ?, '" + NOW + "', '" + NOW + "')", grid_people)
    return {"people": people, "orgs": orgs, "investors": investors, "grid": grid_people}


def email(data, rng, size=2000) -> str:
    """An investor-relations email of about `size` characters naming known people, firms and money."""
    lines = []
    while sum(len(line) + 1 for line in lines) < size:
        person = rng.choice(data["people"])
        org = rng.choice(data["orgs"])
        lines.append(rng.choice((
            f"{person[1]} {person[2]} from {org[1]} confirmed a ${rng.randrange(1, 50)}M commitment to Fund II.",
            f"Please call {person[1]} on {person[3]} or write to {person[1].lower()}@{org[2]} before the close.",
            f"The annual meeting moved to 2026-03-{rng.randrange(10, 28)}; {rng.choice(data['investors'])[2]} will attend.",
            "We discussed the portfolio, the pacing model and the reporting calendar for next year.",
        )))
    return "\n".join(lines)[:size]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--contacts", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()
    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as folder:
        conn = connect(Path(folder) / "crm.db")
        migrate.apply_all(conn)
        data = fill(conn, args.contacts, rng)
        text = email(data, rng)
        started = time.perf_counter()
        matcher = redact.matcher_for(conn)
        build_ms = (time.perf_counter() - started) * 1000
        marks, scrubs = [], []
        for _ in range(args.repeat):
            started = time.perf_counter()
            redact.mark(conn)
            marks.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            scrubbed, mapping = redact.scrub(text, conn)
            scrubs.append((time.perf_counter() - started) * 1000)
        assert redact.rehydrate(scrubbed, mapping) == text
        conn.close()
    marks.sort()
    scrubs.sort()
    known = len(matcher.names)
    print(f"redaction: {args.contacts:,} contacts, {len(data['grid']):,} grid contacts, {len(data['orgs']):,} organizations,"
          f" {len(data['investors']):,} investors → {known:,} name forms; email of {len(text):,} characters,"
          f" {len(mapping)} placeholders; {benchlib.cpu_model()}, sqlite {sqlite3.sqlite_version}")
    benchlib.print_table(("step", "median ms", "p95 ms"), [
        ("first build (read every name)", f"{build_ms:.0f}", ""),
        ("change marks (each scrub)", f"{benchlib.median(marks):.1f}", f"{benchlib.percentile(marks, 95):.1f}"),
        ("scrub, cached matcher (marks included)", f"{benchlib.median(scrubs):.1f}", f"{benchlib.percentile(scrubs, 95):.1f}"),
    ])


if __name__ == "__main__":
    main()
