"""One paragraph per team member: written by the local model, or counted out when it cannot.

The digest names real LPs and quotes what their emails say, so it is written by the fund's own
model server (crm.spark: CRM_SPARK_BASE_URL and nothing else) and never by any other. The
calls for the team run at once, so a day's digest waits about one answer, not one per person.
A model that is off, unreachable, slow or answers nonsense costs the paragraph its prose, never
the digest: the counted paragraph stands in, and the digest says so.
"""
import logging
from concurrent.futures import ThreadPoolExecutor

import requests

from .. import spark

log = logging.getLogger("crm.digest")

MAX_MAILS = 40         # per person in one prompt, the most recent
EXCERPT_CHARS = 500    # of each email
MAX_PARAGRAPH = 1500   # characters of an answer kept
CONCURRENCY = 8

SYSTEM = ("You write one paragraph of a venture fund's internal evening digest: what one team member "
          "discussed with investors today, from the emails listed. Plain prose, two to four sentences, "
          "no list, no heading, no greeting. Name the investors. Say only what the emails say.")


def local_model(config):
    """chat(messages) -> text through the local model server, or None when none is configured."""
    if not spark.configured(config):
        return None

    def chat(messages):
        with requests.Session() as session:  # one per call: the calls run on several threads
            return spark.chat(config, session, messages, max_tokens=300)
    return chat


def paragraphs(people: list, chat) -> dict:
    """{user_id: (text, written_by_model)} for each person with mail; `chat` may be None."""
    busy = [p for p in people if p.email_count]
    if chat is None or not busy:
        return {p.user_id: (counted(p), False) for p in busy}
    with ThreadPoolExecutor(max_workers=min(CONCURRENCY, len(busy)), thread_name_prefix="digest-model") as pool:
        answers = dict(zip([p.user_id for p in busy], pool.map(lambda p: _written(p, chat), busy)))
    return answers


def _written(person, chat) -> tuple:
    try:
        text = _usable(chat(prompt(person)))
    except spark.SparkError as exc:
        log.info("digest: the counted paragraph stands in for %s's (%s)", person.name, exc.message)
        return counted(person), False
    if text is None:
        log.info("digest: the local model's paragraph for %s was unusable; the counted one stands in", person.name)
        return counted(person), False
    return text, True


def prompt(person) -> list:
    mails = sorted(((m, sent, d.name) for d in person.investors.values() for m, sent in d.mails),
                   key=lambda x: (x[0].sent_at, x[0].id))
    seen, lines = set(), []
    for mail, sent, investor in mails[-MAX_MAILS:]:
        if (mail.id, sent) in seen:
            continue
        seen.add((mail.id, sent))
        names = ", ".join(name for _, name in mail.parties)
        direction = f"sent to {names}" if sent else f"received, with {names}"
        lines.append(f"- {mail.sent_at[:16].replace('T', ' ')} UTC, {direction}. Subject: {mail.subject}\n"
                     f"  {_excerpt(mail.text)}")
    user = f"Team member: {person.name}\nEmails, oldest first:\n" + "\n".join(lines)
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}]


def counted(person) -> str:
    """The paragraph the digest uses without the model: counts only, the same every time."""
    busiest = sorted(person.investors.values(), key=lambda d: (-(d.sent + d.received), d.name.casefold()))
    named = ", ".join(f"{d.name} ({d.sent + d.received})" for d in busiest[:5])
    more = f" and {len(busiest) - 5} more" if len(busiest) > 5 else ""
    return (f"{person.name} sent {_n(person.sent, 'email')} and received {person.received}, "
            f"with {_n(len(busiest), 'investor')}: {named}{more}.")


def _usable(answer: str):
    """The model's paragraph, trimmed; None when it is not prose (no letters, or a wall of symbols)."""
    text = " ".join(answer.split())
    letters = sum(ch.isalpha() for ch in text)
    if letters < 20 or letters < len(text) / 2:
        return None
    if len(text) > MAX_PARAGRAPH:
        cut = text[:MAX_PARAGRAPH]
        text = cut[:cut.rfind(". ") + 1] if ". " in cut else cut + "…"
    return text


def _excerpt(text: str) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= EXCERPT_CHARS else text[:EXCERPT_CHARS] + "…"


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"
