"""Which known investors and contacts an email touches.

An index of addresses is built from the grid's contacts (the live LP graph, matched first), the
classic contacts and the organizations' domains. An exact address is an `exact_email` link
(confidence 1.0); otherwise a shared domain is a `domain_match` (0.6), never for free mail or
our own domain. One email may link to several people and investors.
"""
from ..contacts.model import known_addresses
from ..fundraising.store import contact_addresses, investors_of_organizations
from ..organizations.model import known_domains
from .rules import FREE_MAIL_DOMAINS, domain_of, participants

EXACT, DOMAIN = ("exact_email", 1.0), ("domain_match", 0.6)


def _link(kind, address, **targets) -> dict:
    return {"match_kind": kind[0], "confidence": kind[1], "address": address, **targets}


class AddressIndex:
    def __init__(self, conn, own_domain: str):
        self.own_domain = (own_domain or "").lower()
        self.exact = {}    # address -> [targets]
        self.domains = {}  # domain -> [targets]
        grid_classic = set()
        for address, grid_contact, investor, classic, organization in contact_addresses(conn):
            self._add(self.exact, address, fundraising_investor_id=investor, fundraising_contact_id=grid_contact,
                      contact_id=classic, organization_id=organization)
            grid_classic.add(classic)
            self._add_domain(domain_of(address), fundraising_investor_id=investor, organization_id=organization)
        for address, contact, organization in known_addresses(conn):
            if contact not in grid_classic:  # already linked through its grid contact
                self._add(self.exact, address, contact_id=contact, organization_id=organization)
        investors = {}
        for organization, investor in investors_of_organizations(conn):
            investors.setdefault(organization, []).append(investor)
        for domain, organization in known_domains(conn):
            for investor in investors.get(organization) or [None]:
                self._add_domain(domain, fundraising_investor_id=investor, organization_id=organization)

    @staticmethod
    def _add(table, key, **targets):
        entries = table.setdefault(key, [])
        if targets not in entries:
            entries.append(targets)

    def _add_domain(self, domain, **targets):
        if domain and domain not in FREE_MAIL_DOMAINS and domain != self.own_domain:
            self._add(self.domains, domain, **targets)

    def match(self, message: dict) -> list:
        """The links for a parsed message (empty when it touches nobody known)."""
        links = []
        for address in participants(message):
            domain = domain_of(address)
            if domain == self.own_domain:
                continue
            if address in self.exact:
                links += [_link(EXACT, address, **t) for t in self.exact[address]]
            elif domain in self.domains:
                links += [_link(DOMAIN, address, **t) for t in self.domains[domain]]
        return links
