"""The labelled synthetic set for entity resolution: a few hundred source records with known
truth clusters, written straight into a migrated database (the resolver reads them through
the owners' functions like any other rows).

`build(conn)` returns {(source_table, source_id): truth label}. The cases, each deliberate:
case/punctuation/suffix variants of firm names, grid investors linked and not linked to their
classic organization, organizations known only by their people's domain, grid contacts whose
address differs only in case and spaces, people at one firm under different addresses, initials
('J. Doe'), 'Last, First', accents, honorifics, people who moved firm (old address kept in
other_emails), the same name at two firms, the same name on free-mail, a family's shared free-mail
mailbox, firms of one name and different domains, angel investors (a grid row that is a person),
LP profiles, soft-deleted rows (absent from the truth), and a few that no rule can see
(nicknames): the misses that keep recall honest.
"""
import json

from crm.clock import new_id, now_iso

WORDS = ("Alder", "Birch", "Cedar", "Dogwood", "Elm", "Fir", "Ginkgo", "Hazel", "Ironwood", "Juniper", "Kauri",
         "Larch", "Maple", "Nutmeg", "Oak", "Pine", "Quince", "Rowan", "Spruce", "Tamarind", "Umbrella", "Viburnum",
         "Willow", "Yew", "Zelkova", "Acacia", "Baobab", "Cypress", "Durian", "Eucalyptus", "Fig", "Guava",
         "Hickory", "Ilex", "Jacaranda", "Kapok", "Linden", "Mahogany", "Neem", "Olive")
KINDS = ("Capital", "Partners", "Ventures", "Fund", "Capital Partners", "Management")
FIRST = ("Jane", "Omar", "Priya", "Lucas", "Mei", "Tomas", "Aisha", "Henrik", "Sofia", "Kenji", "Amara", "Diego",
         "Ingrid", "Ravi", "Chloe", "Mateo", "Yara", "Felix", "Nadia", "Bruno")
LAST = ("Okafor", "Lindqvist", "Haddad", "Moreau", "Tanaka", "Novak", "Mensah", "Castillo", "Petrov", "Adeyemi",
        "Bianchi", "Kowalski", "Nakamura", "Fischer", "Oyelaran", "Duarte", "Sorensen", "Varga", "Quinn", "Abara")


class Builder:
    def __init__(self, conn):
        self.conn, self.at, self.truth, self.position = conn, now_iso(), {}, 0
        self.column = new_id()
        conn.execute("INSERT INTO fundraising_columns (id, name, type, position, created_at, updated_at)"
                     " VALUES (?, 'Contacts', 'contact', 99, ?, ?)", (self.column, self.at, self.at))

    def _mark(self, table, record_id, label):
        if label is not None:
            self.truth[(table, record_id)] = label
        return record_id

    def org(self, label, name, domain=None, website=None, deleted=False):
        record_id = new_id()
        self.conn.execute("INSERT INTO organizations (id, name, domain, website, created_at, updated_at, deleted_at)"
                          " VALUES (?, ?, ?, ?, ?, ?, ?)",
                          (record_id, name, domain, website, self.at, self.at, self.at if deleted else None))
        return self._mark("organizations", record_id, None if deleted else label)

    def contact(self, label, first, last, email=None, org_id=None, other=(), deleted=False):
        record_id = new_id()
        self.conn.execute("INSERT INTO contacts (id, first_name, last_name, email, other_emails, organization_id,"
                          " created_at, updated_at, deleted_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                          (record_id, first, last, email, json.dumps(list(other)), org_id, self.at, self.at,
                           self.at if deleted else None))
        return self._mark("contacts", record_id, None if deleted else label)

    def investor(self, label, name, organization=None, org_id=None, archived=False):
        record_id, self.position = new_id(), self.position + 1
        self.conn.execute("INSERT INTO fundraising_investors (id, position, name, organization, organization_id,"
                          " created_at, updated_at, archived_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                          (record_id, self.position, name, organization, org_id, self.at, self.at,
                           self.at if archived else None))
        return self._mark("fundraising_investors", record_id, None if archived else label)

    def grid_contact(self, label, investor_id, name, email=None, contact_id=None, deleted=False):
        record_id = new_id()
        self.conn.execute("INSERT INTO fundraising_contacts (id, investor_id, column_id, position, name, email, contact_id,"
                          " created_at, updated_at, deleted_at) VALUES (?, ?, ?, 0, ?, ?, ?, ?, ?, ?)",
                          (record_id, investor_id, self.column, name, email, contact_id, self.at, self.at,
                           self.at if deleted else None))
        return self._mark("fundraising_contacts", record_id, None if deleted else label)

    def lp_profile(self, label, contact_id):
        record_id = new_id()
        self.conn.execute("INSERT INTO lp_profiles (id, contact_id, created_at, updated_at) VALUES (?, ?, ?, ?)",
                          (record_id, contact_id, self.at, self.at))
        return self._mark("lp_profiles", record_id, label)


def _firm(b: Builder, n: int) -> None:
    """One firm: its classic organization, its grid row (a variant of its name), three people."""
    word, kind = WORDS[n], KINDS[n % len(KINDS)]
    slug = word.lower()
    domain = f"{slug}{'vc' if n % 2 else 'capital'}.com"
    firm = f"firm:{n}"
    variants = (f"The {word} {kind}, LLC", f"{word.upper()} {kind.upper()} INC.", f"{word} {kind} L.P.",
                f"{word}-{kind}", f"{word} {kind} Ltd")
    has_domain = n % 5 != 4  # every fifth firm is known only by its people's addresses
    org_id = b.org(firm, f"{word} {kind}", domain=domain if has_domain and n % 3 else None,
                   website=f"https://www.{domain}/about" if has_domain and not n % 3 else None)
    linked = n % 4 == 0  # a quarter of the grid rows carry the stored link to the classic org
    investor = b.investor(firm, f"{word} {kind}" if n % 2 else variants[n % len(variants)],
                          organization=variants[(n + 1) % len(variants)] if n % 3 == 1 else None,
                          org_id=org_id if linked else None)
    for p in range(3):
        first, last = FIRST[(n + p * 7) % len(FIRST)], LAST[(n * 3 + p) % len(LAST)]
        person = f"person:{n}:{p}"
        address = f"{first.lower()}.{last.lower()}@{domain}"
        contact = b.contact(person, first, last, address, org_id)
        style = (n + p) % 6
        if style == 0:    # the same address, in another case, with spaces
            b.grid_contact(person, investor, f"{first} {last}", f"  {address.upper()} ")
        elif style == 1:  # the stored grid → classic link, no address on the grid
            b.grid_contact(person, investor, f"{first} {last}", None, contact_id=contact)
        elif style == 2:  # another address at the firm: name + domain
            b.grid_contact(person, investor, f"{last}, {first}", f"{first[0].lower()}{last.lower()}@{domain}")
        elif style == 3:  # an initial, at the firm's domain
            b.grid_contact(person, investor, f"{first[0]}. {last}", f"{first[0].lower()}.{last.lower()}@{domain}")
        elif style == 4:  # honorific and case
            b.grid_contact(person, investor, f"Dr. {first.upper()} {last.lower()}", None)
        else:             # an LP profile on the classic contact
            b.lp_profile(person, contact)


def build(conn) -> dict:
    """Insert the labelled set; {(source_table, source_id): truth label} of every live record."""
    b = Builder(conn)
    for n in range(36):
        _firm(b, n)
    _edge_cases(b)
    return b.truth


def _edge_cases(b: Builder) -> None:
    # People who moved: the new firm's contact keeps the old address in other_emails.
    old_org = b.org("firm:mover-old", "Harbor Light Capital", domain="harborlight.com")
    new_org = b.org("firm:mover-new", "Quarry Ridge Partners", domain="quarryridge.com")
    old_grid = b.investor("firm:mover-old", "Harbor Light", org_id=old_org)
    b.contact("person:mover", "Elena", "Sokolova", "elena@quarryridge.com", new_org, other=["elena.s@harborlight.com"])
    b.grid_contact("person:mover", old_grid, "Elena Sokolova", "Elena.S@harborlight.com")
    # The same name at two firms: two people.
    b.contact("person:smith-a", "John", "Smith", "john.smith@harborlight.com", old_org)
    b.contact("person:smith-b", "John", "Smith", "jsmith@quarryridge.com", new_org)
    # The same name on free mail: two people; the same free-mail address twice: one person.
    b.contact("person:lee-1", "Chris", "Lee", "chris.lee@gmail.com")
    b.contact("person:lee-2", "Chris", "Lee", "c.lee@gmail.com")
    angel = b.investor("person:kim", "Pat Kim")  # an angel: a grid row that is a person
    b.grid_contact("person:kim", angel, "Pat Kim", "PAT.KIM@gmail.com")
    b.contact("person:kim", "Pat", "Kim", "pat.kim@gmail.com")
    # A family's shared mailbox: two people, one address.
    b.contact("person:nguyen-an", "An", "Nguyen", "nguyenfamily@yahoo.com")
    family = b.investor("firm:nguyen", "Nguyen Family Office")
    b.grid_contact("person:nguyen-binh", family, "Binh Nguyen", "nguyenfamily@yahoo.com")
    # Free-mail people never make an organization of gmail.com.
    gmail_a = b.investor("firm:solo-a", "Solo Alpha Fund")
    gmail_b = b.investor("firm:solo-b", "Solo Beta Fund")
    b.grid_contact("person:solo-a", gmail_a, "Ana Ruiz", "ana.ruiz@gmail.com")
    b.grid_contact("person:solo-b", gmail_b, "Ben Cole", "ben.cole@gmail.com")
    # One name, two firms, two domains: never merged by name.
    b.org("firm:summit-1", "Summit Partners", domain="summitpartners.com")
    b.org("firm:summit-2", "Summit Capital", domain="summitcap.com")
    b.investor("firm:summit-1", "Summit Partners LLC", organization=None)
    # Accents and punctuation.
    accent_org = b.org("firm:ecole", "École Ventures", domain="ecole.vc")
    b.contact("person:jose", "José", "O'Brien", "jose@ecole.vc", accent_org)
    accent_grid = b.investor("firm:ecole", "Ecole Ventures")
    b.grid_contact("person:jose", accent_grid, "Jose OBrien", "jose.obrien@ecole.vc")
    # Soft-deleted and archived rows: not in the truth, and never linked.
    b.contact(None, "Gone", "Person", "gone@quarryridge.com", new_org, deleted=True)
    b.org(None, "Deleted Firm", domain="deletedfirm.com", deleted=True)
    b.investor(None, "Archived Fund", archived=True)
    # What no rule sees: a nickname at the firm under another address (a recall miss).
    b.contact("person:robert", "Robert", "Vance", "robert.vance@summitcap.com")
    summit_grid = b.investor("firm:summit-2", "Summit Capital")
    b.grid_contact("person:robert", summit_grid, "Bob Vance", "bob@summitcap.com")
