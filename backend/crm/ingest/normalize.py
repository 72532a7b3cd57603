"""The normal forms entity resolution compares: email addresses, person names, organization
names and domains, and the free-mail domains no one may be merged on.

Every function is pure and total: it takes whatever a record holds (None, odd case, stray
punctuation) and answers a normal form, or None when nothing comparable is left. The rules and
why are in docs/RETRIEVAL.md, "Entities".
"""
import re
import unicodedata
from functools import lru_cache

from ..organizations.model import normalise_domain

# Addresses at these domains belong to anyone: a shared domain says nothing about who someone is
# or where they work. Families (yahoo.*, hotmail.*, gmx.*) are matched on their first label.
FREE_MAIL = frozenset((
    "gmail.com", "googlemail.com", "outlook.com", "live.com", "msn.com", "icloud.com", "me.com", "mac.com",
    "aol.com", "proton.me", "protonmail.com", "pm.me", "mail.com", "zoho.com", "yandex.com", "yandex.ru",
    "fastmail.com", "hey.com", "tutanota.com", "qq.com", "163.com", "126.com", "comcast.net", "verizon.net",
    "att.net", "sbcglobal.net", "web.de", "t-online.de", "orange.fr", "free.fr", "laposte.net", "libero.it",
    "btinternet.com", "rocketmail.com", "naver.com", "rediffmail.com", "example.com"))
FREE_MAIL_FAMILIES = ("yahoo", "ymail", "hotmail", "gmx", "live", "outlook", "aol", "wanadoo")

HONORIFICS = frozenset(("mr", "mrs", "ms", "miss", "mx", "dr", "prof", "professor", "sir", "dame", "lord", "lady",
                        "rev", "hon", "jr", "sr", "ii", "iii", "iv", "phd", "md", "esq", "cfa", "cpa", "mba"))
# Trailing words that name a legal form or the industry, not the firm: "Acme Capital Partners LLC"
# and "Acme" are one organization. Stripped from the end only, and never the last word left.
ORG_SUFFIXES = frozenset(("inc", "incorporated", "llc", "lp", "llp", "lllp", "ltd", "limited", "corp", "corporation",
                          "co", "company", "plc", "gmbh", "ag", "sa", "sarl", "bv", "nv", "pte", "pty",
                          "capital", "partners", "partner", "fund", "funds", "ventures", "venture", "management",
                          "advisors", "advisers", "group", "holdings", "investments", "family office", "office"))
_ADDRESS = re.compile(r"[^@\s]+@[a-z0-9-]+(\.[a-z0-9-]+)+")


def fold(text) -> str:
    """Lower case, accents folded (é → e), punctuation to spaces, whitespace collapsed."""
    text = unicodedata.normalize("NFKD", str(text or "")).casefold()
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = re.sub(r"['’`]", "", text)  # O'Brien → obrien, not "o brien"
    return " ".join(re.sub(r"[^\w]+|_", " ", text).split())


@lru_cache(maxsize=262_144)  # a whole-CRM pass meets each address and name a few times
def email(value):
    """'  <Jane.Doe@Acme.COM> ' → 'jane.doe@acme.com'; None unless it is an address. Dots and +tags
    are kept: they are the provider's business, and an address is compared exactly."""
    value = (value or "").strip().lower()
    value = value[7:] if value.startswith("mailto:") else value
    value = value.strip("<> \t\"'")
    return value if _ADDRESS.fullmatch(value) else None


def email_domain(address):
    """The domain of a normalised address, or None."""
    return address.rsplit("@", 1)[1] if address and "@" in address else None


@lru_cache(maxsize=262_144)
def domain(value):
    """A website, URL, bare domain or address → 'acme.com' (no scheme, www., path); None if none."""
    return normalise_domain(value)


@lru_cache(maxsize=262_144)
def is_free_mail(value) -> bool:
    """Whether a domain (or an address's domain) is a free-mail provider's."""
    host = email_domain(value) if value and "@" in value else value
    if not host:
        return False
    return host in FREE_MAIL or host.split(".")[0] in FREE_MAIL_FAMILIES


@lru_cache(maxsize=262_144)
def work_domain(value):
    """The domain of an address or website, unless it is a free-mail one: what may place a person
    at an organization."""
    host = domain(value)
    return None if host is None or is_free_mail(host) else host


@lru_cache(maxsize=262_144)
def person_name(value):
    """'Dr. José  O'Brien-Smith, Jr.' → 'jose obrien smith'; 'Doe, Jane' → 'jane doe'; None if empty."""
    value = str(value or "")
    if value.count(",") == 1:
        last, first = value.split(",")
        if fold(first) not in HONORIFICS:  # "Smith, Jr." is a suffix, not a reordering
            value = f"{first} {last}"
    words = [w for w in fold(value).split() if w not in HONORIFICS]
    return " ".join(words) or None


def initial_key(name):
    """'j smith' / 'john smith' → 'j smith': the first initial and the last word, for matching an
    initial to a full first name. None for one-word names."""
    words = (name or "").split()
    return f"{words[0][0]} {words[-1]}" if len(words) >= 2 else None


def is_initial(name) -> bool:
    """Whether a normalised name's first word is a lone initial ('j smith')."""
    words = (name or "").split()
    return len(words) >= 2 and len(words[0]) == 1


@lru_cache(maxsize=262_144)
def org_name(value):
    """'The Acme Capital Partners, L.L.C.' → 'acme'; None if empty. Leading 'the' and trailing
    legal/industry words (ORG_SUFFIXES) go; the last remaining word always stays."""
    value = re.sub(r"\b(l)\.?\s?(l)\.?\s?(c|p)\.?", r"\1\2\3", str(value or ""), flags=re.IGNORECASE)  # L.L.C. → LLC
    words = fold(value.replace("&", " and ")).split()
    if len(words) > 1 and words[0] == "the":
        words = words[1:]
    while len(words) > 1:
        if " ".join(words[-2:]) in ORG_SUFFIXES:
            words = words[:-2] or words[-1:]
        elif words[-1] in ORG_SUFFIXES or words[-1] == "and":
            words = words[:-1]
        else:
            break
    return " ".join(words) or None


def looks_like_org(value) -> bool:
    """Whether a name says it is an organization: a legal or industry word, or a digit, anywhere."""
    words = fold(value).split()
    return any(w in ORG_SUFFIXES or w.isdigit() for w in words) or "family office" in " ".join(words) \
        or any(w in ("foundation", "trust", "endowment", "bank", "university", "office", "pension", "family")
               for w in words)
