"""Entity resolution: which grid investors, grid contacts, classic contacts, organizations, LP
profiles and email addresses are one person or one organization (canonical_entities).

`resolve_all(conn)` reads every live source through its owner's functions, clusters them with a
union-find under these rules, in this order (the first rule that joins a record names its link):

  stored   1.00  a link the CRM already keeps: grid contact → classic contact, grid investor →
                 classic organization, LP profile → its contact
  email    0.99  the same normalised address (a record ↔ the email_address it holds)
  name_org 0.90  people: the same normalised name at the same organization (the same work
                 domain of an address, or the same resolved organization record)
  name_initial 0.80  'J. Smith' ↔ the one 'John Smith' at that organization (none if two fit)
  domain   0.95  organizations: the same stored domain (website or domain field)
  domain_derived 0.85  an organization with no stored domain whose people's work addresses all
                 share one domain ↔ the organization with that domain
  name     0.80  organizations: the same normalised name, unless both sides know different domains
  only     1.00  nothing matched: an entity of its own

Guards (a refused join is counted in the summary): never across kinds, never between two
different pinned entities, never on a free-mail domain (normalize.FREE_MAIL), a shared free-mail
mailbox does not join people whose names differ, organizations with different domains never join
by name. Links a person fixed by hand (`pinned`) anchor their cluster to their entity and are never
rewritten. Deterministic (sources are read in id order) and idempotent: it compares before writing,
so a second run writes nothing. Sources gone (soft-deleted, archived) lose their unpinned links.
"""
import json
import sqlite3
import time
from collections import Counter, defaultdict

from ..clock import new_id, now_iso
from ..contacts import model as contacts
from ..db import transaction
from ..email import queries as email_queries
from ..fundraising import store as grid
from ..lp_profiles import model as lp_profiles
from ..organizations import model as organizations
from . import entities
from . import normalize as norm

CONFIDENCE = {"stored": 1.0, "email": 0.99, "name_org": 0.9, "name_initial": 0.8, "domain": 0.95,
              "domain_derived": 0.85, "name": 0.8, "only": 1.0, "manual": 1.0}
# Which record names a person or an organization, best first.
NAME_ORDER = {"contacts": 0, "fundraising_contacts": 1, "fundraising_investors": 2, "organizations": 0,
              "lp_profiles": 5, "email_address": 4}


class _Node:
    __slots__ = ("key", "kind", "name", "norm", "domains", "emails", "org", "anchor", "derived")

    def __init__(self, key, kind, name=None, norm_name=None, domains=(), emails=(), org=None):
        self.key, self.kind, self.name, self.norm = key, kind, name, norm_name
        self.domains, self.emails, self.org, self.anchor = set(domains), list(emails), org, None
        self.derived = False  # an organization whose domain came from its people's addresses


class _Clusters:
    """Union-find over source keys; each root knows its kind, pinned entity, names and domains."""

    def __init__(self, nodes: dict):
        self.nodes, self.parent, self.size = nodes, {k: k for k in nodes}, {k: 1 for k in nodes}
        self.anchor = {k: n.anchor for k, n in nodes.items()}
        self.names = {k: {n.norm} if n.norm else set() for k, n in nodes.items()}
        self.domains = {k: set(n.domains) for k, n in nodes.items()}
        self.joined = {}  # key -> (method, evidence) of the first join that took it in
        self.refused = Counter()

    def find(self, key):
        root = key
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[key] != root:
            self.parent[key], key = root, self.parent[key]
        return root

    def union(self, a, b, method: str, evidence: dict, guard=None, explains=None) -> bool:
        """Join a's and b's clusters unless a guard refuses; the first join of a key (of `explains`
        only, when given: the side the join says something about) names its link."""
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return True
        if self.nodes[ra].kind != self.nodes[rb].kind:
            self.refused["kind"] += 1
            return False
        if self.anchor[ra] and self.anchor[rb] and self.anchor[ra] != self.anchor[rb]:
            self.refused["pinned"] += 1
            return False
        if guard and not guard(ra, rb):
            self.refused[method] += 1
            return False
        if self.size[ra] < self.size[rb]:
            ra, rb = rb, ra
        self.parent[rb] = ra
        self.size[ra] += self.size[rb]
        self.anchor[ra] = self.anchor[ra] or self.anchor[rb]
        self.names[ra] |= self.names.pop(rb)
        self.domains[ra] |= self.domains.pop(rb)
        for key, other in ((a, b), (b, a)):
            if key not in self.joined and explains in (None, key):
                self.joined[key] = (method, {**evidence, "with": f"{other[0]}:{other[1]}"})
        return True

    def groups(self) -> dict:
        found = defaultdict(list)
        for key in self.nodes:
            found[self.find(key)].append(key)
        return found


# -- reading the sources -----------------------------------------------------------------------

def _sources(conn) -> dict:
    """Every live source as a _Node, keyed (source_table, source_id), plus the stored links."""
    nodes, stored = {}, []
    orgs = organizations.for_resolution(conn)
    people = contacts.for_resolution(conn)
    investors = grid.investors_for_resolution(conn)
    grid_people = grid.contacts_for_resolution(conn)
    for org in orgs:
        nodes[("organizations", org["id"])] = _Node(
            ("organizations", org["id"]), "organization", org["name"], norm.org_name(org["name"]),
            [d for d in (norm.work_domain(org["domain"]), norm.work_domain(org["website"])) if d][:1])
    org_domain = {key[1]: next(iter(n.domains), None) for key, n in nodes.items()}
    investor_kind = {}
    for inv in investors:
        label = (inv["organization"] or "").strip() or inv["name"] or ""
        is_org = bool(inv["organization_id"] or (inv["organization"] or "").strip() or norm.looks_like_org(inv["name"])
                      or not norm.person_name(inv["name"]))
        key = ("fundraising_investors", inv["id"])
        investor_kind[inv["id"]] = "organization" if is_org else "person"
        if is_org:
            nodes[key] = _Node(key, "organization", label or None, norm.org_name(label))
            if inv["organization_id"] and ("organizations", inv["organization_id"]) in nodes:
                stored.append((key, ("organizations", inv["organization_id"]), {"field": "organization_id"}))
        else:
            nodes[key] = _Node(key, "person", inv["name"], norm.person_name(inv["name"]))
    for person in people:
        name = f"{person['first_name'] or ''} {person['last_name'] or ''}".strip()
        emails = [e for e in (norm.email(a) for a in person["emails"]) if e]
        org = ("organizations", person["organization_id"]) if ("organizations", person["organization_id"]) in nodes else None
        domains = {norm.work_domain(e) for e in emails} | {org_domain.get(person["organization_id"])}
        nodes[("contacts", person["id"])] = _Node(("contacts", person["id"]), "person", name or None,
                                                  norm.person_name(name), domains - {None}, emails, org)
    for person in grid_people:
        key, address = ("fundraising_contacts", person["id"]), norm.email(person["email"])
        on_org = investor_kind.get(person["investor_id"]) == "organization"
        org = ("fundraising_investors", person["investor_id"]) if on_org else None
        nodes[key] = _Node(key, "person", (person["name"] or "").strip() or None, norm.person_name(person["name"]),
                           {norm.work_domain(address)} - {None}, [address] if address else [], org)
        if person["contact_id"] and ("contacts", person["contact_id"]) in nodes:
            stored.append((key, ("contacts", person["contact_id"]), {"field": "contact_id"}))
        if not on_org and ("fundraising_investors", person["investor_id"]) in nodes:
            investor = nodes[("fundraising_investors", person["investor_id"])]
            if investor.norm and investor.norm == nodes[key].norm:  # the person investor is this contact
                stored.append((key, investor.key, {"field": "investor_id", "name": investor.norm}))
    for profile_id, contact_id in lp_profiles.for_resolution(conn):
        if ("contacts", contact_id) in nodes:
            key = ("lp_profiles", profile_id)
            nodes[key] = _Node(key, "person")
            stored.append((key, ("contacts", contact_id), {"field": "contact_id"}))
    _add_addresses(conn, nodes)
    _derive_domains(nodes)
    return {"nodes": nodes, "stored": stored}


def _add_addresses(conn, nodes: dict) -> None:
    named = dict(email_queries.participants(conn))
    held = {a for n in list(nodes.values()) for a in n.emails}
    for address in sorted(held | {a for a in (norm.email(a) for a in named) if a}):
        key = ("email_address", address)
        name = named.get(address)
        nodes[key] = _Node(key, "person", name or address, None, {norm.work_domain(address)} - {None}, [address])


def _derive_domains(nodes: dict) -> None:
    """An organization with no stored domain takes its people's work domain when they all share one."""
    seen = defaultdict(set)
    for node in nodes.values():
        if node.kind == "person" and node.org and node.key[0] != "email_address":
            seen[node.org] |= {norm.work_domain(e) for e in node.emails} - {None}
    for org_key, domains in seen.items():
        org = nodes[org_key]
        if not org.domains and len(domains) == 1:
            org.domains, org.derived = set(domains), True


# -- the rules -----------------------------------------------------------------------------------

def _compatible(a: str, b: str) -> bool:
    """Two normalised person names that may be one person: equal, or the same last name with one
    first name the other's initial or prefix ('j smith', 'jo smith', 'john smith')."""
    if a == b:
        return True
    wa, wb = a.split(), b.split()
    if len(wa) < 2 or len(wb) < 2 or wa[-1] != wb[-1]:
        return False
    return wa[0].startswith(wb[0]) or wb[0].startswith(wa[0])


def _names_agree(clusters):
    def guard(ra, rb):
        na, nb = clusters.names[ra], clusters.names[rb]
        return not na or not nb or any(_compatible(x, y) for x in na for y in nb)
    return guard


def _domains_agree(clusters):
    def guard(ra, rb):
        da, db = clusters.domains[ra], clusters.domains[rb]
        return not da or not db or bool(da & db)
    return guard


def _apply_rules(clusters: _Clusters, sources: dict) -> None:
    nodes = clusters.nodes
    for a, b, evidence in sources["stored"]:
        clusters.union(a, b, "stored", evidence)
    people = [n for n in nodes.values() if n.kind == "person"]
    free_guard, owner = _names_agree(clusters), {}
    for node in people:
        if node.key[0] == "email_address":
            continue
        for address in node.emails:
            # A work address is one person's; a free-mail one may be a family's shared mailbox.
            guard = free_guard if norm.is_free_mail(address) else None
            held = ("email_address", address)
            if held not in owner:  # the address is this record's: its link says whose it is
                if clusters.union(node.key, held, "email", {"email": address}, guard, explains=held):
                    owner[held] = node.key
            elif clusters.union(node.key, owner[held], "email", {"email": address}, guard, explains=node.key):
                clusters.union(node.key, held, "email", {"email": address})
    orgs = [n for n in nodes.values() if n.kind == "organization"]
    _by_key(clusters, [(n, d) for n in orgs if not n.derived for d in n.domains], "domain", "domain")
    _by_key(clusters, [(n, d) for n in orgs if n.derived for d in n.domains], "domain_derived", "domain")
    _by_name(clusters, orgs)
    keyed = []
    for node in people:
        if not node.norm or node.key[0] == "email_address":
            continue
        keyed += [(node, (node.norm, "domain", d)) for d in sorted(node.domains)]
        if node.org:
            keyed.append((node, (node.norm, "organization", clusters.find(node.org))))
    _by_key(clusters, keyed, "name_org", "organization")
    _by_initial(clusters, keyed)


def _evidence_of(key, field: str) -> dict:
    if field == "organization" and isinstance(key, tuple):
        return {"name": key[0], key[1]: key[2] if key[1] == "domain" else f"{key[2][0]}:{key[2][1]}"}
    return {field: key}


def _by_key(clusters, keyed: list, method: str, field: str) -> None:
    """Join every node with the first node that shares its key."""
    first = {}
    for node, key in keyed:
        if key in first:
            clusters.union(first[key], node.key, method, _evidence_of(key, field))
        else:
            first[key] = node.key


def _by_name(clusters, orgs: list) -> None:
    """Organizations of one normalised name join unless their domains differ; one that knows no
    domain joins the others only when they came to one organization (two would be a guess)."""
    groups = defaultdict(list)
    for node in orgs:
        if node.norm:
            groups[node.norm].append(node.key)
    guard = _domains_agree(clusters)
    for name, keys in groups.items():
        roots = sorted({clusters.find(k) for k in keys})
        known = [r for r in roots if clusters.domains[r]]
        bare = [r for r in roots if not clusters.domains[r]]
        for r in known[1:]:
            clusters.union(known[0], r, "name", {"name": name}, guard)
        for r in bare[1:]:
            clusters.union(bare[0], r, "name", {"name": name})
        targets = {clusters.find(r) for r in known}
        if bare and len(targets) == 1:
            clusters.union(targets.pop(), bare[0], "name", {"name": name})
        elif bare and targets:
            clusters.refused["name"] += 1


def _by_initial(clusters, keyed: list) -> None:
    """'j smith' at an organization joins the one full-name person there who fits."""
    full = defaultdict(set)
    for node, key in keyed:
        if not norm.is_initial(node.norm):
            full[(norm.initial_key(node.norm), key[1], key[2])].add(clusters.find(node.key))
    for node, key in keyed:
        if norm.is_initial(node.norm):
            found = {clusters.find(r) for r in full.get((norm.initial_key(node.norm), key[1], key[2]), ())}
            if len(found) == 1:
                clusters.union(next(iter(found)), node.key, "name_initial", _evidence_of(key, "organization"))
            elif found:
                clusters.refused["name_initial"] += 1


# -- choosing entities and writing ---------------------------------------------------------------

def _assign(groups: dict, nodes: dict, anchors: dict, existing: dict, live_entities: dict) -> dict:
    """{root: entity id or None (create one)}: a pinned cluster keeps its entity; the others keep the
    entity most of their records are linked to now, each entity going to one cluster only."""
    taken = {anchors[r] for r in groups if anchors[r]}
    chosen, wanting = {}, []
    for root, keys in groups.items():
        if anchors[root]:
            chosen[root] = anchors[root]
            continue
        kind = nodes[root].kind
        votes = Counter(existing[k]["entity_id"] for k in keys if k in existing
                        and live_entities.get(existing[k]["entity_id"]) == kind)
        ranked = sorted(votes.items(), key=lambda item: (-item[1], item[0]))
        wanting.append(((-(ranked[0][1] if ranked else 0), min(keys)), root, [e for e, _ in ranked]))
    for _, root, candidates in sorted(wanting):
        chosen[root] = next((e for e in candidates if e not in taken), None)
        if chosen[root]:
            taken.add(chosen[root])
    return chosen


def _describe(kind: str, keys: list, nodes: dict) -> tuple:
    """(display_name, primary_email, primary_domain) of an entity from its records."""
    present = sorted((k for k in keys if k in nodes), key=lambda k: (NAME_ORDER.get(k[0], 9), k[1]))
    # The fullest name of the best kind of record: 'Jane Doe' over 'J. Doe', a contact over an address.
    named = [nodes[k].name for k in sorted(
        (k for k in present if nodes[k].name),
        key=lambda k: (NAME_ORDER.get(k[0], 9), norm.is_initial(nodes[k].norm), -len(nodes[k].name), k[1]))]
    if kind == "organization":
        stored = [d for k in present if not nodes[k].derived for d in sorted(nodes[k].domains)]
        derived = [d for k in present for d in sorted(nodes[k].domains)]
        domain = (stored or derived or [None])[0]
        return (named[0] if named else domain or "(unnamed organization)"), None, domain
    emails = [e for k in present if k[0] != "email_address" for e in nodes[k].emails] + \
        sorted(k[1] for k in present if k[0] == "email_address")
    email = emails[0] if emails else None
    return (named[0] if named else email or "(unnamed person)"), email, None


def _evidence_text(evidence: dict) -> str:
    return json.dumps(evidence, sort_keys=True)


SNAPSHOT_TRIES = 3  # reads on a snapshot, then a short write; after this many conflicts, under the lock


def resolve_all(conn) -> dict:
    """Resolve every source into canonical entities and store the links. Returns the summary:
    entities (live, created, updated, merged), links (total, added, moved, updated, removed,
    pinned), by_method, refused, seconds.

    Inside the caller's transaction it runs there. Otherwise it reads in a deferred transaction
    (a WAL snapshot: other writers go on) and takes the write lock only at its first write, so
    the grid is not locked out for the whole run (seconds at 50,000 contacts, longer than the
    busy timeout). If another writer committed meanwhile, SQLite refuses that upgrade
    (SQLITE_BUSY_SNAPSHOT) and the run starts again; after SNAPSHOT_TRIES such conflicts it runs
    under BEGIN IMMEDIATE, which cannot conflict. A writer that holds the lock at the upgrade makes
    SQLite refuse it at once (SQLITE_BUSY, without the busy timeout: this failed an ingest run on a
    loaded machine); then the run goes straight to BEGIN IMMEDIATE, which waits for the lock."""
    if conn.in_transaction:
        return _resolve(conn)
    for _ in range(SNAPSHOT_TRIES):
        conn.execute("BEGIN DEFERRED")
        try:
            summary = _resolve(conn)
            conn.execute("COMMIT")
            return summary
        except sqlite3.OperationalError as exc:
            conn.execute("ROLLBACK")
            refused = getattr(exc, "sqlite_errorname", "")
            if refused == "SQLITE_BUSY":
                break  # a writer holds the lock: wait for it as any writer does, under the lock (below)
            if refused != "SQLITE_BUSY_SNAPSHOT":
                raise
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    with transaction(conn):
        return _resolve(conn)


def _resolve(conn) -> dict:
    started = time.monotonic()
    sources = _sources(conn)
    nodes = sources["nodes"]
    existing = entities.all_links(conn)
    stored_entities = entities.all_entities(conn)
    live_entities = {entity_id: e[0] for entity_id, e in stored_entities.items() if not e[4]}
    for key, found in existing.items():
        if found["pinned"] and key in nodes:
            nodes[key].anchor = found["entity_id"]
    clusters = _Clusters(nodes)
    _apply_rules(clusters, sources)
    groups = clusters.groups()
    chosen = _assign(groups, nodes, clusters.anchor, existing, live_entities)
    at, summary = now_iso(), _empty_summary()
    members = defaultdict(list)  # entity id -> its source keys, pinned links of gone sources too
    new_entities = []
    for root in sorted(groups, key=lambda r: min(groups[r])):
        entity_id = chosen[root]
        if entity_id is None:
            entity_id = chosen[root] = new_id()
            new_entities.append((entity_id, nodes[root].kind))
        members[entity_id] += groups[root]
    for key, found in existing.items():
        if found["pinned"] and key not in nodes:
            members[found["entity_id"]].append(key)
    _write_entities(conn, members, nodes, new_entities, stored_entities, at, summary)
    _write_links(conn, groups, chosen, clusters, existing, at, summary)
    _mark_merged(conn, existing, nodes, chosen, clusters, members, stored_entities, at, summary)
    summary["refused"] = dict(sorted(clusters.refused.items()))
    summary["entities"]["live"] = len(members)
    summary["seconds"] = round(time.monotonic() - started, 3)
    return summary


def _empty_summary() -> dict:
    return {"entities": {"live": 0, "created": 0, "updated": 0, "merged": 0},
            "links": {"total": 0, "added": 0, "moved": 0, "updated": 0, "removed": 0, "pinned": 0}, "by_method": {}}


def _write_entities(conn, members, nodes, new_entities, stored_entities, at, summary) -> None:
    kinds = dict(new_entities)
    created, updated = [], []
    for entity_id, keys in members.items():
        kind = kinds.get(entity_id) or stored_entities[entity_id][0]
        display, email, domain = _describe(kind, keys, nodes)
        if entity_id in kinds:
            created.append((entity_id, kind, display, email, domain, at, at))
        elif stored_entities[entity_id][1:4] != (display, email, domain):
            updated.append((display, email, domain, at, entity_id))
    entities.insert_many(conn, created)
    entities.update_many(conn, updated)
    summary["entities"].update(created=len(created), updated=len(updated))


def _write_links(conn, groups, chosen, clusters, existing, at, summary) -> None:
    inserts, updates, by_method, links = [], [], Counter(), summary["links"]
    for root, keys in groups.items():
        entity_id = chosen[root]
        for key in keys:
            old = existing.get(key)
            if old and old["pinned"]:
                links["pinned"] += 1
                by_method[old["method"]] += 1
                continue
            method, evidence = clusters.joined.get(key, ("only", {}))
            by_method[method] += 1
            text = _evidence_text(evidence)
            if old is None:
                inserts.append((new_id(), entity_id, key[0], key[1], method, CONFIDENCE[method], text, at, at))
            elif (old["raw_entity_id"], old["method"], old["confidence"], old["evidence"]) != \
                    (entity_id, method, CONFIDENCE[method], text):
                updates.append((entity_id, method, CONFIDENCE[method], text, at, old["id"]))
                links["moved" if old["raw_entity_id"] != entity_id else "updated"] += 1
    gone = [old["id"] for key, old in existing.items() if key not in clusters.nodes and not old["pinned"]]
    entities.insert_links(conn, inserts)
    entities.update_links(conn, updates)
    entities.delete_links(conn, gone)
    links.update(added=len(inserts), removed=len(gone), total=sum(len(k) for k in groups.values()))
    summary["by_method"] = dict(sorted(by_method.items()))


def _mark_merged(conn, existing, nodes, chosen, clusters, members, stored_entities, at, summary) -> None:
    """An entity the resolver emptied into exactly one other is marked merged into it, so its id
    (in search payloads, in an agent's notes) still leads somewhere."""
    now_on = {key: chosen[clusters.find(key)] for key in nodes}
    went = defaultdict(set)
    for key, old in existing.items():
        if key in now_on and old["raw_entity_id"] != now_on[key]:
            went[old["raw_entity_id"]].add(now_on[key])
    merged = [(next(iter(targets)), at, entity_id) for entity_id, targets in sorted(went.items())
              if len(targets) == 1 and entity_id not in members and entity_id in stored_entities
              and not stored_entities[entity_id][4] and next(iter(targets)) != entity_id]
    entities.set_merged(conn, merged)
    summary["entities"]["merged"] = len(merged)
