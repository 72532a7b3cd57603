"""Redaction: take the CRM's people, organizations, addresses, phone numbers and amounts out of a
text before it goes to an external model, and put them back into the answer.

    scrubbed, mapping = scrub(text, conn)        # "[PERSON_1] of [ORG_2] wrote from [EMAIL_3]"
    answer = rehydrate(model_answer, mapping)    # every placeholder the model echoed, restored

What is replaced (docs/RETRIEVAL.md, "Redaction and external models", says why):
- KNOWN names: every classic contact, grid contact and user (team member) is a PERSON; every
  organization, grid investor and investor's organization is an ORG (a grid investor named like a
  known person stays a PERSON). Deleted and archived records count: their names are still someone's.
  Matching is on whole words, case- and accent-insensitive, longest first ("Acme Capital Partners"
  wins over "Acme"); a one-word name is matched only where it is not written in lower case ("Will",
  not "will"). An organization's name also matches without its legal suffix (Inc, LLC, LP...), and a
  person's "Last, First". A first name or surname alone is replaced only when the same text names
  that person in full (then it is the same person); alone, it is too ambiguous to mean anyone.
- Organization domains the CRM knows (acme.example, www.acme.example), as that organization.
- FOUND by pattern, known or not: email addresses, phone numbers (international and national
  formats, 7-15 digits; dates, years and IP addresses excepted), and amounts ($5M, €2.5 million,
  250,000 USD, 5mm, USD 3bn, 1,000,000, "five million dollars"); a bare number (2500000) only when it
  is an amount the CRM holds (a commitment, an LP profile's, an opportunity's).
- Text that already looks like a placeholder becomes a LITERAL placeholder of its own, so it comes
  back as it was and nothing the model says can be confused with it.

Placeholders are `[KIND_N]`, numbered by first appearance with one counter for all kinds (the issue's
`[PERSON_1]`, `[ORG_2]`, `[EMAIL_3]`): the same value gets the same number throughout one Scrubber.
"The same value" is the same known person or organization (in any case, or a partial mention), the
same address (case-insensitive), the same digits of a phone, the same amount in the same currency
($5M and $5,000,000). When that value is written differently a second time, the placeholder gets a
letter (`[PERSON_1a]` for "Jane" after "Jane Doe"): the model still sees one person, and the round
trip is exact, rehydrate(scrub(t)) == t for every text.

Known names are read through their owners' functions and kept per database, rebuilt when any of the
owners' tables changes (`names_mark`) or after MAX_AGE_SEC; a scrub after the first build does not
read the names again.
"""
import bisect
import re
import threading
import time
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

from ..auth import users
from ..contacts import model as contacts
from ..fundraising import store as grid
from ..lp_profiles import model as lp_profiles
from ..opportunities import model as opportunities
from ..organizations import model as organizations

KINDS = ("PERSON", "ORG", "EMAIL", "PHONE", "AMOUNT", "LITERAL")
# What rehydrate restores, and so what scrub must escape when the text already has it.
PLACEHOLDER = re.compile(r"\[(?:PERSON|ORG|EMAIL|PHONE|AMOUNT|LITERAL)_\d+[a-z]*\]")
MAX_AGE_SEC = 300  # a change the marks cannot see (two edits in one millisecond) lives at most this long

# -- words --------------------------------------------------------------------------------------------

# A word: letters and digits, with any combining accents (\w alone stops at a combining mark).
TOKEN = re.compile(r"[^\W_](?:[^\W_]|[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f])*")
# What may stand between the words of one name: "Jane Doe", "Doe, Jane", "O'Brien", "Smith & Jones".
NAME_GAP = re.compile(r"[ \t\n.,'\u2019&_\-]{1,3}")
LEGAL_SUFFIXES = frozenset({"inc", "incorporated", "llc", "lp", "llp", "l", "p", "ltd", "limited", "gmbh", "ag", "sa",
                            "sarl", "bv", "nv", "plc", "corp", "corporation", "co", "company"})


@lru_cache(maxsize=200_000)
def fold(word: str) -> str:
    """A word as names are compared: accents dropped, case folded ("José" == "JOSE")."""
    decomposed = unicodedata.normalize("NFKD", word)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def words(text: str) -> tuple:
    return tuple(fold(m.group(0)) for m in TOKEN.finditer(text or ""))


# -- patterns -------------------------------------------------------------------------------------------

EMAIL = re.compile(r"(?<![\w.!#$%&'*+/=?^`{|}~-])[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+")
HOST = re.compile(r"(?<![\w@.\-])(?:[\w\-]+\.)+[A-Za-z]{2,}(?![\w\-])")

_SIGN = r"(?:US\$|C\$|A\$|S\$|HK\$|NZ\$|[$€£¥₹])"
CODES = ("USD", "EUR", "GBP", "CHF", "JPY", "CAD", "AUD", "SGD", "HKD", "SEK", "NOK", "DKK", "CNY", "INR")
_CODE = f"(?:{'|'.join(CODES)})"
_WORD = r"(?:dollars?|euros?|pounds?|francs?|yen|bucks)"
_NUM = r"\d+(?:[.,'\u2019]\d+)*"
_MAG = r"(?:(?:mm|MM|mn|Mn|bn|Bn|BN|k|K|m|M|b|B|[ \t]?(?i:thousand|million|billion|trillion|mio|mln|bln))(?![^\W_]))"
_AFTER = rf"(?:[ \t]?(?:{_CODE}|(?i:{_WORD}))(?![^\W_]))"
AMOUNT = re.compile(
    rf"(?<![\w.,$€£¥₹])(?:"
    rf"(?:{_SIGN}|{_CODE}[ \t]?)[ \t]?{_NUM}{_MAG}?{_AFTER}?"      # $5M, USD 5m, € 2.5 million
    rf"|{_NUM}{_MAG}{_AFTER}?"                                     # 5mm, 2.5 million dollars
    rf"|{_NUM}{_AFTER}"                                            # 250,000 USD
    rf"|\d{{1,3}}(?:,\d{{3}})+(?:\.\d+)?(?![^\W_]|,\d)"                 # 1,000,000
    rf")")
_UNITS = ("one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|"
          "seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred")
SPELLED = re.compile(
    rf"(?i:\b(?:a|an|half|quarter|{_UNITS})(?:[ \t-]+(?:a|an|and|half|quarter|{_UNITS}))*"
    rf"[ \t-]+(?:thousand|million|billion|trillion)\b(?:[ \t]+(?:{_WORD}|{_CODE})\b)?)")
BARE_NUMBER = re.compile(r"(?<![\w.,])\d{4,}(?:\.\d+)?(?![\w])")
PHONE = re.compile(r"(?<![\w+\-.])(?:\+\d{1,3}[ .\-]?)?(?:\(\d{1,5}\)[ .\-]?)?\d{1,15}(?:[ .\-]\d{1,12}){0,5}(?![\w])")
NOT_A_PHONE = re.compile(r"\d{1,4}[.\-/]\d{1,2}[.\-/]\d{1,4}"      # a date
                         r"|\d{1,3}(?:\.\d{1,3}){3}"                # an IP address
                         r"|(?:19|20)\d\d-(?:19|20)\d\d")            # a span of years
CURRENCIES = (("US$", "USD"), ("C$", "CAD"), ("A$", "AUD"), ("S$", "SGD"), ("HK$", "HKD"), ("NZ$", "NZD"), ("$", "USD"),
              ("€", "EUR"), ("£", "GBP"), ("¥", "JPY"), ("₹", "INR"), ("dollar", "USD"), ("euro", "EUR"),
              ("pound", "GBP"), ("franc", "CHF"), ("yen", "JPY"), ("buck", "USD"))
MAGNITUDES = (("trillion", 1e12), ("billion", 1e9), ("million", 1e6), ("thousand", 1e3), ("bln", 1e9), ("mln", 1e6),
              ("mio", 1e6), ("bn", 1e9), ("mm", 1e6), ("mn", 1e6), ("b", 1e9), ("m", 1e6), ("k", 1e3))


# -- what the CRM knows -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Known:
    """A known person or organization: `key` is what "the same one" means."""
    kind: str
    key: str
    first: str = None  # a person's first word and last word, for partial mentions
    last: str = None


@dataclass
class Matcher:
    """Every known name as a tuple of folded words, and the lengths to try after each first word."""
    names: dict = field(default_factory=dict)       # (word, ...) -> Known
    lengths: dict = field(default_factory=dict)     # first word -> name lengths, longest first
    domains: dict = field(default_factory=dict)     # domain -> Known (its organization)
    phones: set = field(default_factory=set)        # digits of known phone numbers
    amounts: set = field(default_factory=set)       # known amounts, rounded to cents

    def person(self, name: str) -> None:
        parts = _usable(words(name))
        if parts:
            known = Known("PERSON", " ".join(parts), parts[0], parts[-1] if len(parts) > 1 else None)
            self._add(parts, known)
            if len(parts) > 1:
                self._add(parts[-1:] + parts[:-1], known)  # "Doe, Jane"

    def organization(self, name: str):
        parts = _usable(words(name))
        if not parts:
            return None
        known = self.names.get(parts) or Known("ORG", " ".join(parts))
        self._add(parts, known)
        bare = parts
        while len(bare) > 1 and bare[-1] in LEGAL_SUFFIXES:
            bare = bare[:-1]
        if bare != parts and _usable(bare):
            self._add(bare, known)
        return known

    def domain(self, domain: str, known) -> None:
        if domain and known:
            self.domains.setdefault(domain.lower().strip("."), known)

    def phone(self, phone: str) -> None:
        digits = "".join(c for c in phone or "" if c.isdigit())
        if len(digits) >= 7:
            self.phones.add(digits)

    def amount(self, value) -> None:
        if value is not None and abs(value) >= 1000:
            self.amounts.add(round(float(value), 2))

    def _add(self, parts: tuple, known: Known) -> None:
        existing = self.names.get(parts)
        if existing is not None and (existing.kind == "PERSON" or known.kind == "ORG"):
            return  # first one wins, but a person outranks an organization of the same name
        self.names[parts] = known
        self.lengths.setdefault(parts[0], set()).add(len(parts))

    def finish(self) -> "Matcher":
        """Freeze the lengths to try after each first word, longest first."""
        self.lengths = {word: tuple(sorted(found, reverse=True)) for word, found in self.lengths.items()}
        return self


def _usable(parts: tuple):
    """The words of a name worth matching: not empty, not only digits, not one lone letter."""
    if not parts or all(p.isdigit() for p in parts) or (len(parts) == 1 and len(parts[0]) < 2):
        return None
    return tuple(parts)


def build(conn) -> Matcher:
    """Read every known name, domain, phone and amount through their owners (crm.contacts,
    crm.organizations, crm.auth.users, crm.fundraising.store, crm.lp_profiles, crm.opportunities)."""
    matcher = Matcher()
    for first, last, phone in contacts.every_person(conn):
        matcher.person(f"{first} {last}")
        matcher.phone(phone)
    for name in users.every_display_name(conn):
        matcher.person(name)
    sheet = grid.every_name(conn)
    for name, phone in sheet["contacts"]:
        matcher.person(name)
        matcher.phone(phone)
    for name, domain in organizations.every_name(conn):
        matcher.domain(domain, matcher.organization(name))
    for name, organization in sheet["investors"]:
        matcher.organization(name)
        matcher.organization(organization)
    for value in (*sheet["amounts"], *lp_profiles.every_amount(conn), *opportunities.every_amount(conn)):
        matcher.amount(value)
    return matcher.finish()


def mark(conn) -> tuple:
    """What changes when any known name, phone or amount may have (the owners' `*_mark`)."""
    return (contacts.names_mark(conn), organizations.names_mark(conn), users.names_mark(conn), grid.names_mark(conn),
            lp_profiles.amounts_mark(conn), opportunities.amounts_mark(conn))


_cache = {}  # database file -> (mark, monotonic time built, Matcher)
_cache_lock = threading.Lock()


def matcher_for(conn) -> Matcher:
    """The Matcher of this connection's database, built again only when its names changed."""
    where = next((tuple(r.values())[2] if isinstance(r, dict) else r[2] for r in conn.execute("PRAGMA database_list")
                  if (r["name"] if isinstance(r, dict) else r[1]) == "main"), "") or f"memory:{id(conn)}"
    current = mark(conn)  # read before the names: a write in between makes the next call rebuild
    with _cache_lock:
        cached = _cache.get(where)
    if cached and cached[0] == current and time.monotonic() - cached[1] < MAX_AGE_SEC:
        return cached[2]
    matcher = build(conn)
    with _cache_lock:
        _cache.pop(where, None)
        _cache[where] = (current, time.monotonic(), matcher)
        while len(_cache) > 8:  # tests open many databases; a server has one
            _cache.pop(next(iter(_cache)))
    return matcher


# -- finding ----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Span:
    start: int
    end: int
    kind: str
    key: object
    known: Known = None


def find(text: str, matcher: Matcher) -> list:
    """The spans to replace, in order, none overlapping."""
    fixed = _first_come(_escapes(text), _emails(text), _domains(text, matcher))
    spans, gaps, tokens = list(fixed), [], []
    at = 0
    for span in [*fixed, Span(len(text), len(text), "", None)]:
        if span.start > at:
            gaps.append((at, span.start))
        at = span.end
    for start, end in gaps:
        piece = text[start:end]
        here = [(m.start() + start, m.end() + start, fold(m.group(0)), not m.group(0)[0].islower())
                for m in TOKEN.finditer(piece)]
        spans += _leftmost_longest([*_names(text, here, matcher), *_patterns(piece, start, matcher)])
        tokens += here
    spans += _partial_mentions(tokens, spans)
    return sorted(spans, key=lambda s: s.start)


def _first_come(*groups) -> list:
    """Spans of earlier groups win over overlapping spans of later ones."""
    chosen = []
    for group in groups:
        for span in group:
            if not any(span.start < c.end and c.start < span.end for c in chosen):
                chosen.append(span)
    return sorted(chosen, key=lambda s: s.start)


def _leftmost_longest(spans: list) -> list:
    chosen, end = [], -1
    for span in sorted(spans, key=lambda s: (s.start, s.start - s.end)):
        if span.start >= end:
            chosen.append(span)
            end = span.end
    return chosen


def _escapes(text):
    return [Span(m.start(), m.end(), "LITERAL", m.group(0)) for m in PLACEHOLDER.finditer(text)]


def _emails(text):
    return [Span(m.start(), m.end(), "EMAIL", m.group(0).lower()) for m in EMAIL.finditer(text)]


def _domains(text, matcher):
    found = []
    for m in HOST.finditer(text):
        labels = m.group(0).lower().split(".")
        known = next((matcher.domains[".".join(labels[i:])] for i in range(len(labels) - 1)
                      if ".".join(labels[i:]) in matcher.domains), None)
        if known:
            found.append(Span(m.start(), m.end(), "ORG", known.key, known))
    return found


def _names(text, tokens, matcher):
    """Known names, longest first at each word; a one-word name only where not in lower case."""
    found, i = [], 0
    while i < len(tokens):
        step = 1
        for length in sorted(matcher.lengths.get(tokens[i][2], ()), reverse=True):
            run = tokens[i:i + length]
            if len(run) < length:
                continue
            known = matcher.names.get(tuple(t[2] for t in run))
            if known is None or (length == 1 and not run[0][3]):
                continue
            if all(NAME_GAP.fullmatch(text[a[1]:b[0]]) for a, b in zip(run, run[1:])):
                found.append(Span(run[0][0], run[-1][1], known.kind, known.key, known))
                step = length
                break
        i += step
    return found


def _patterns(piece, offset, matcher):
    found = []
    for m in AMOUNT.finditer(piece):
        found.append(Span(m.start() + offset, m.end() + offset, "AMOUNT", _amount_key(m.group(0))))
    for m in SPELLED.finditer(piece):
        found.append(Span(m.start() + offset, m.end() + offset, "AMOUNT", m.group(0).casefold()))
    for m in BARE_NUMBER.finditer(piece):
        if round(float(m.group(0)), 2) in matcher.amounts:
            found.append(Span(m.start() + offset, m.end() + offset, "AMOUNT", ("", float(m.group(0)))))
    for m in PHONE.finditer(piece):
        if _is_phone(m.group(0), matcher):
            found.append(Span(m.start() + offset, m.end() + offset, "PHONE", re.sub(r"\D", "", m.group(0))))
    return found


def _is_phone(candidate: str, matcher) -> bool:
    digits = re.sub(r"\D", "", candidate)
    if not 7 <= len(digits) <= 15 or NOT_A_PHONE.fullmatch(candidate):
        return False
    if candidate.startswith(("+", "(")) or re.search(r"[ .\-]", candidate):
        return True
    return len(digits) >= 10 or digits in matcher.phones  # a bare run of digits: long, or one we know


def _amount_key(surface: str):
    """(currency, value) when the amount reads as one, so "$5M" and "$5,000,000" are the same."""
    lowered = surface.casefold()
    currency = next((code for mark_, code in CURRENCIES if mark_.casefold() in lowered), "")
    currency = currency or next((c.upper() for c in re.findall(r"[a-z]{3}", lowered) if c.upper() in CODES), "")
    number = re.search(r"\d+(?:[.,'\u2019]\d+)*", surface)
    rest = lowered[number.end():] if number else ""
    try:
        value = float(re.sub(r"[,'\u2019]", "", number.group(0)))
    except (AttributeError, ValueError):
        return surface.casefold()
    scale = next((factor for word, factor in MAGNITUDES if re.match(rf"[ \t]?{word}(?![a-z])", rest)), 1)
    return (currency, round(value * scale, 2))


def _partial_mentions(tokens, spans) -> list:
    """A known person's first name or surname alone, when this text also names them in full."""
    parts = {}
    for span in spans:
        if span.known and span.known.kind == "PERSON":
            for word in (span.known.first, span.known.last):
                if word and len(word) > 1 and not word.isdigit():
                    parts.setdefault(word, set()).add(span.known.key)
    if not parts:
        return []
    covered = sorted((s.start, s.end) for s in spans)
    mentions = []
    for start, end, word, not_lower in tokens:
        if word in parts and not_lower and not _inside(covered, start):
            keys = parts[word]
            mentions.append(Span(start, end, "PERSON", next(iter(keys)) if len(keys) == 1 else f"one of: {word}"))
    return mentions


def _inside(covered: list, at: int) -> bool:
    """Whether `at` falls in one of the sorted, disjoint (start, end) ranges."""
    i = bisect.bisect_right(covered, (at, float("inf"))) - 1
    return i >= 0 and covered[i][0] <= at < covered[i][1]


# -- replacing and restoring --------------------------------------------------------------------------

class Scrubber:
    """One conversation's placeholders: texts scrubbed by the same Scrubber share their numbering
    (a system prompt and a user prompt), and `mapping` restores all of them."""

    def __init__(self, conn=None, matcher: Matcher = None):
        self.matcher = matcher if matcher is not None else matcher_for(conn)
        self.mapping = {}   # placeholder -> the exact text it replaced
        self._numbers = {}  # (kind, key) -> number
        self._forms = {}    # (kind, key) -> {exact text: placeholder}

    def scrub(self, text: str) -> str:
        out, at = [], 0
        for span in find(text, self.matcher):
            out += [text[at:span.start], self._placeholder(span.kind, span.key, text[span.start:span.end])]
            at = span.end
        out.append(text[at:])
        return "".join(out)

    def _placeholder(self, kind: str, key, surface: str) -> str:
        ident = (kind, key)
        number = self._numbers.setdefault(ident, len(self._numbers) + 1)
        forms = self._forms.setdefault(ident, {})
        if surface not in forms:
            forms[surface] = f"[{kind}_{number}{_letters(len(forms))}]"
            self.mapping[forms[surface]] = surface
        return forms[surface]


def _letters(n: int) -> str:
    """0 → "", 1 → "a", 26 → "z", 27 → "aa": the mark of a value's n-th other spelling."""
    out = ""
    while n > 0:
        n, rest = divmod(n - 1, 26)
        out = chr(ord("a") + rest) + out
    return out


def scrub(text: str, conn) -> tuple:
    """(text with every known or found name, address, phone and amount replaced, {placeholder: original})."""
    scrubber = Scrubber(conn)
    return scrubber.scrub(text), scrubber.mapping


def rehydrate(text: str, mapping: dict) -> str:
    """Put back every placeholder of `mapping` found in `text`, in any order and as often as it
    occurs; a placeholder not in the mapping (one the model made up) is left as it is. One pass:
    a restored value is never read again, so an escaped placeholder comes back literally."""
    return PLACEHOLDER.sub(lambda m: mapping.get(m.group(0), m.group(0)), text)
