"""What is never captured, in one place: bulk mail, internal-only mail, role addresses,
the blocklist, the private label; and which domains never match by domain (free mail).

Pure functions over a parsed message's headers (parser.parse_message), so the sync can
decide from `format=metadata` before it fetches any body.
"""

# Mail services whose domain says nothing about the sender's firm: never a domain match.
FREE_MAIL_DOMAINS = frozenset("""
gmail.com googlemail.com outlook.com hotmail.com hotmail.co.uk live.com msn.com yahoo.com yahoo.co.uk
ymail.com rocketmail.com aol.com icloud.com me.com mac.com proton.me protonmail.com protonmail.ch pm.me
gmx.com gmx.de gmx.net web.de mail.com zoho.com zohomail.com yandex.com yandex.ru mail.ru fastmail.com
fastmail.fm hey.com tutanota.com tuta.io qq.com 163.com 126.com comcast.net verizon.net att.net
sbcglobal.net btinternet.com orange.fr free.fr t-online.de libero.it
""".split())

# Local parts of addresses that are a service or a team, not a person.
ROLE_LOCAL_PARTS = frozenset("""
noreply no-reply donotreply do-not-reply notifications notification notify alerts alert mailer-daemon
postmaster bounce bounces support help helpdesk info team hello contact admin billing invoices
receipts newsletter news marketing updates digest calendar calendar-notification
""".split())

BULK_PRECEDENCE = frozenset({"bulk", "list", "junk"})


def domain_of(address: str) -> str:
    return address.rpartition("@")[2].lower() if address and "@" in address else ""


def participants(message: dict) -> list:
    """Every address on the message, lower-cased, first seen first."""
    found = [message.get("from_email")]
    for key in ("to", "cc", "bcc"):
        found += [person["email"] for person in message.get(key) or ()]
    seen, ordered = set(), []
    for address in found:
        if address and address not in seen:
            seen.add(address)
            ordered.append(address)
    return ordered


def is_role_address(address: str) -> bool:
    local = address.partition("@")[0].lower()
    return local in ROLE_LOCAL_PARTS or local.startswith(("noreply", "no-reply", "bounce"))


def blocked(address: str, patterns) -> bool:
    """`patterns` holds full addresses and "@domain" entries (lower case)."""
    return address in patterns or f"@{domain_of(address)}" in patterns


def exclusion(message: dict, *, own_domain: str, blocklist, skip_roles: bool):
    """Why this message is never captured (a reason code), or None to capture it.

    Reason codes (counted per sync run): bulk, internal, role_address, blocklisted.
    The private label and the capture label are thread-level and checked by the sync.
    """
    bulk = message.get("bulk") or {}
    if bulk.get("list_unsubscribe") or bulk.get("list_id") or bulk.get("precedence") in BULK_PRECEDENCE \
            or bulk.get("auto_submitted"):
        return "bulk"
    addresses = participants(message)
    if any(blocked(a, blocklist) for a in addresses):
        return "blocklisted"
    outside = [a for a in addresses if domain_of(a) != own_domain]
    if not outside:
        return "internal"
    if skip_roles and any(is_role_address(a) for a in outside):
        return "role_address"
    return None


def list_query(*, blocklist, private_label: str, capture_label=None) -> str:
    """The Gmail search that lists candidates: blocklisted addresses and private threads left out
    at the source, so they cost no quota at all. Spam and trash are never listed."""
    terms = []
    if capture_label:
        terms.append(f"label:{_quoted(capture_label)}")
    if private_label:
        terms.append(f"-label:{_quoted(private_label)}")
    entries = sorted(blocklist)
    if entries:
        terms.append("-{" + " ".join(f"{field}:{entry}" for entry in entries for field in ("from", "to", "cc")) + "}")
    return " ".join(terms)


def _quoted(label: str) -> str:
    # Gmail writes spaces in label names as hyphens in search; quotes cover the rest.
    return label.replace(" ", "-")
