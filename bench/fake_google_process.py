"""The stand-in Google (tests/fakes/google.py) in a process of its own, its mailbox filled from a seed.

bench/sync_bench.py starts this script so that the messages the stand-in holds
(and the CPU it spends answering) are not the sync's. Both processes call
`investors(seed, count)`, so the grid the benchmark builds and the senders of
the matched mail agree without a list crossing the pipe.

    fake_google_process.py --user U --key-file PATH --messages N --investors I --seed S
                           [--quota-per-minute Q --quota-window SECONDS]

Protocol: one JSON line on stdout as soon as the stand-in listens ({"url",
"token_url"}: the server can be started while the mailbox fills), a second
when the mailbox is full ({"messages", "matched", "attachments", "newsletters",
"raw_bytes", "fill_s"}); then each line read from stdin is a command: `stats` answers one
JSON line ({"units", "calls", "batches", "largest_batch", "quota_violations"},
all since start), `quit` or the end of stdin stops the process.

The stand-in's quota is --quota-per-minute over a --quota-window of seconds;
the benchmark lifts it (every unit is still counted).
"""
import argparse
import json
import random
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from email_helpers import mail  # noqa: E402
from fakes.google import READONLY, FakeGoogle  # noqa: E402

FIRST = ("James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William Barbara Priya Arjun Wei Mei "
         "Hiroshi Yuki Sven Ingrid Pierre Camille Mateo Lucia Omar Fatima Kwame Amara Dmitri Olga Giulia Marco").split()
LAST = ("Smith Johnson Brown Garcia Miller Davis Martinez Wilson Anderson Taylor Moore Martin Okafor Mensah Nakamura "
        "Tanaka Kowalski Nowak Rossi Muller Dubois Lindqvist Nielsen Ivanov Kaur Sharma Wang Park Byrne Costa").split()
ORG_WORDS = ("Summit Harbor Granite Cedar Beacon Meridian Northstar Bluewater Ironwood Keystone Evergreen Horizon "
             "Atlas Crescent Pinnacle Sterling Redwood Oakridge Lakeshore Highland Westbrook Juniper Sequoia Falcon").split()
ORG_SUFFIXES = ("Capital", "Partners", "Family Office", "Ventures", "Foundation", "Endowment", "Holdings", "Advisors")
# Unknown senders' domains share no word with the investors', so none of them is a domain match.
STRANGER_DOMAINS = [f"{word}{n}.example.org" for n in range(40) for word in ("vendor", "agency", "startup", "law")]
NEWSLETTERS = ("Weekly Markets Brief", "Private Capital Digest", "Founders Letter", "LP Insider", "Deal Flow Daily")
PHRASES = (
    "Thanks for sending over the quarterly letter; the team found it useful.",
    "Could we find thirty minutes next week to walk through the Fund II pipeline?",
    "Our investment committee meets on Thursday and will review the allocation then.",
    "Attached are the notes from the call, with the open questions at the end.",
    "We would like to understand the fee terms and the key person provisions better.",
    "The data room access works now; I will go through the track record tonight.",
    "Happy to make an introduction to our CIO, who covers emerging managers.",
    "Please confirm the wire instructions before the first close.",
    "We are still working through the DDQ and expect to return it by Friday.",
    "Timing is tight this year, but we remain interested in the next close.",
    "The side letter draft looks fine apart from the MFN clause.",
    "Let me know whether the co-invest rights would apply to follow-on rounds.",
)
SIGNATURE = "\n\n--\n{name}\n{org}\n+1 555 {phone}\n"
OWNER_NAME = "Alex Admin"


def investors(seed: int, count: int) -> list:
    """[{"name", "organization", "contacts": [{"name", "email"}]}]: 1 or 2 people each at the firm's domain."""
    rng = random.Random(f"investors-{seed}")
    found = []
    for n in range(count):
        org = f"{rng.choice(ORG_WORDS)} {rng.choice(ORG_WORDS)} {rng.choice(ORG_SUFFIXES)} {n}"
        domain = org.lower().replace(" ", "") + ".example"
        people = []
        for k in range(rng.choice((1, 1, 2))):
            first, last = rng.choice(FIRST), rng.choice(LAST)
            people.append({"name": f"{first} {last}", "email": f"{first.lower()}.{last.lower()}.{k}@{domain}"})
        found.append({"name": org, "organization": org, "contacts": people})
    return found


def fill(google: FakeGoogle, user: str, seed: int, count: int, investor_count: int, share: float = 0.1) -> dict:
    """Add `count` messages to `user`'s mailbox, oldest first over two years; returns what went in.

    Exactly round(count * share) are matched mail: from a grid contact (70 %, INBOX) or from
    `user` to one (30 %, SENT), 40 % of them replies in an earlier matched thread, 40 % with an
    HTML alternative, 3 % with a small attachment. Of the rest, one in nine is a newsletter
    (List-Unsubscribe, skipped as bulk after the metadata fetch); the others are person-to-person
    mail from unknown senders, a third with an HTML alternative.
    """
    rng = random.Random(f"mail-{seed}")
    people = [(p, inv["organization"]) for inv in investors(seed, investor_count) for p in inv["contacts"]]
    matched = set(rng.sample(range(count), round(count * share)))
    start = datetime(2023, 6, 1, tzinfo=timezone.utc)
    step = timedelta(days=730) / max(1, count)
    threads = {}  # contact address -> [(gmail id, Message-ID, subject)] of its matched threads
    facts = {"messages": 0, "matched": 0, "attachments": 0, "newsletters": 0, "raw_bytes": 0}
    for i in range(count):
        when = start + step * i
        if i in matched:
            raw, labels, thread_id, attachment, (contact, message_id, subject) = _matched(
                rng, seed, i, when, user, people, threads)
            facts["matched"] += 1
            facts["attachments"] += attachment
        else:
            (raw, newsletter), labels, thread_id = _unknown(rng, seed, i, when, user), ("INBOX",), None
            facts["newsletters"] += newsletter
        gmail_id = google.add_message(user, raw, label_ids=labels, thread_id=thread_id,
                                      internal_date_ms=int(when.timestamp() * 1000))
        if i in matched:
            threads.setdefault(contact, []).append((thread_id or gmail_id, message_id, subject))
        facts["messages"] += 1
        facts["raw_bytes"] += len(raw)
    return facts


def _matched(rng, seed, i, when, user, people, threads) -> tuple:
    """(raw, labels, Gmail thread id or None, 1 if it has an attachment, (contact, Message-ID, subject))."""
    person, org = rng.choice(people)
    earlier = threads.get(person["email"])
    reply = earlier and rng.random() < 0.4
    thread_id, parent_id, subject = rng.choice(earlier) if reply else (None, None, rng.choice((
        "Fund II close", "Quarterly letter", "Follow-up from our call", "DDQ questions", "Side letter",
        "Co-invest opportunity", "Annual meeting", "Capital call notice")))
    outbound = rng.random() < 0.3
    sender = f"{OWNER_NAME} <{user}>" if outbound else f"{person['name']} <{person['email']}>"
    to = f"{person['name']} <{person['email']}>" if outbound else f"{OWNER_NAME} <{user}>"
    body = _text(rng, person["name"] if not outbound else OWNER_NAME, org, 2, 14)
    if reply:
        body += "\n\nOn an earlier date, someone wrote:\n> " + rng.choice(PHRASES)
    attachment = rng.random() < 0.03
    message_id = f"<{seed}.{i}.m@mail.example>"
    raw = _message(sender, to, ("Re: " if reply else "") + subject, body, when, message_id,
                   html=rng.random() < 0.4, in_reply_to=parent_id,
                   attachment=(f"notes-{i}.pdf", rng.randbytes(rng.randint(2_000, 20_000))) if attachment else None)
    return (raw, ("SENT",) if outbound else ("INBOX",), thread_id, int(attachment),
            (person["email"], message_id, subject))


def _unknown(rng, seed, i, when, user) -> tuple:
    """(raw, 1 if it is a newsletter else 0)."""
    domain = rng.choice(STRANGER_DOMAINS)
    to = f"{OWNER_NAME} <{user}>"
    message_id = f"<{seed}.{i}.u@{domain}>"
    if rng.random() < 1 / 9:
        name = rng.choice(NEWSLETTERS)
        return _message(f"{name} <editor@{domain}>", to, f"{name}: this week", _text(rng, name, domain, 6, 20), when,
                        message_id, html=True, headers={"List-Unsubscribe": f"<mailto:leave@{domain}>"}), 1
    first, last = rng.choice(FIRST), rng.choice(LAST)
    sender = f"{first} {last} <{first.lower()}.{last.lower()}@{domain}>"
    subject = rng.choice(("Quick question", "Introduction", "Proposal for your team", "Invoice 2291", "Catching up",
                          "Event next month", "Partnership idea", "Your request"))
    return _message(sender, to, subject, _text(rng, f"{first} {last}", domain, 1, 10), when, message_id,
                    html=rng.random() < 0.33), 0


def _text(rng, name, org, low, high) -> str:
    """Between `low` and `high` sentences in paragraphs, then a signature: ~0.2-2 KB."""
    sentences = [rng.choice(PHRASES) for _ in range(rng.randint(low, high))]
    paragraphs = [" ".join(sentences[k:k + 3]) for k in range(0, len(sentences), 3)]
    return "Hello,\n\n" + "\n\n".join(paragraphs) + SIGNATURE.format(name=name, org=org, phone=rng.randint(10**6, 10**7 - 1))


def _message(sender, to, subject, body, when, message_id, html=False, in_reply_to=None, headers=None,
             attachment=None) -> bytes:
    """tests/email_helpers.mail, with an HTML alternative made from the text when `html`."""
    markup = "<html><body>" + "".join(f"<p>{p}</p>" for p in body.split("\n\n")) + "</body></html>" if html else None
    return mail(sender, to, subject, body, date=when, message_id=message_id, in_reply_to=in_reply_to, headers=headers,
                html=markup, attachments=[(*attachment, "application/pdf")] if attachment else ())


def stats(google: FakeGoogle, user: str) -> dict:
    """The stand-in's counters; asked once the sync is over (they change while requests are answered)."""
    return {"units": google.units_used(user), "calls": dict(google.calls), "batches": len(google.batch_sizes),
            "largest_batch": max(google.batch_sizes, default=0),
            "quota_violations": sum(google.quota_violations.values())}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--user", required=True, help="the mailbox to fill (granted gmail.readonly)")
    parser.add_argument("--key-file", required=True, help="where to write the service account's JSON key")
    parser.add_argument("--messages", type=int, required=True)
    parser.add_argument("--investors", type=int, required=True)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--quota-per-minute", type=int, default=15_000, help="the stand-in's per-user quota")
    parser.add_argument("--quota-window", type=float, default=60.0,
                        help="seconds of the stand-in's sliding quota window")
    args = parser.parse_args(argv)
    with FakeGoogle(quota_per_minute=args.quota_per_minute, quota_window=args.quota_window) as google:
        google.write_key_file(args.key_file)
        google.grant(args.user, [READONLY])
        print(json.dumps({"url": google.url, "token_url": google.token_url}), flush=True)
        t0 = time.perf_counter()
        facts = fill(google, args.user, args.seed, args.messages, args.investors)
        print(json.dumps({**facts, "fill_s": time.perf_counter() - t0}), flush=True)
        for line in sys.stdin:
            command = line.strip()
            if command == "quit":
                break
            if command == "stats":
                print(json.dumps(stats(google, args.user)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
