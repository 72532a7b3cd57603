"""The bridge between grid contacts and classic CRM contacts.

A grid contact is linked to a classic contact once, by a stored id: matched
by email, else by name and organization, else a classic contact is created.
After that, edits flow both ways through the link: a grid edit updates the
classic contact (here, from ops.Batch), and a classic edit updates every grid
cell that holds it (listeners.contact_changed, through crm.hooks).
"""
from .. import records
from ..contacts.model import CONTACT
from ..errors import Conflict
from ..organizations.model import ORGANIZATION, find_or_create

PUSHED = ("first_name", "last_name", "email", "phone", "title")


def split_name(name: str) -> tuple:
    parts = (name or "").split()
    if not parts:
        return "", ""
    return parts[0], " ".join(parts[1:])


def _classic_fields(person: dict) -> dict:
    first, last = split_name(person.get("name"))
    return {"first_name": first, "last_name": last, "email": person.get("email"),
            "phone": person.get("phone"), "title": person.get("title")}


def _match(conn, person: dict, organization_id):
    if person.get("email"):
        found = conn.execute("SELECT id FROM contacts WHERE email = ? AND deleted_at IS NULL", (person["email"],)).fetchone()
        if found:
            return found["id"]
    first, last = split_name(person.get("name"))
    if first:
        found = conn.execute(
            "SELECT id FROM contacts WHERE first_name = ? COLLATE NOCASE AND last_name = ? COLLATE NOCASE "
            "AND organization_id IS ? AND deleted_at IS NULL ORDER BY created_at LIMIT 1", (first, last, organization_id)).fetchone()
        if found:
            return found["id"]
    return None


def sync_cell(batch, row_id, people: list) -> None:
    """Link new grid contacts of a row and push edits of linked ones to the classic CRM."""
    conn, req = batch.conn, batch.req
    organization = batch.rows[row_id]["cells"].get(batch.key_column("organization").id) if batch.key_column("organization") else None
    for person in people:
        fields = _classic_fields(person)
        if person.get("contact_id"):
            current = records.fetch(conn, CONTACT, person["contact_id"])
            if current is None:
                continue  # the classic contact was deleted; the grid keeps its own copy
            if " ".join(p for p in (current["first_name"], current["last_name"]) if p) == (person.get("name") or ""):
                # The same full name, split another way ("Mary Ann" + "Roe"): keep the classic split.
                fields.pop("first_name"), fields.pop("last_name")
            changed = {k: v for k, v in fields.items() if v and current.get(k) != v}
            if changed.get("email") and _match(conn, {"email": changed["email"]}, None) not in (None, current["id"]):
                raise Conflict(f"{changed['email']} belongs to another CRM contact; edit that contact instead")
            if changed:
                records.update(conn, req, CONTACT, current["id"], changed, action="update_from_grid")
            continue
        organization_id = find_or_create(conn, req, organization) if organization else None
        contact_id = _match(conn, person, organization_id)
        if contact_id is None:
            contact_id = records.insert(conn, req, CONTACT, {
                **{k: v for k, v in fields.items() if v is not None}, "last_name": fields["last_name"],
                "organization_id": organization_id, "contact_type": "prospect", "status": "active",
                "source": "fundraising grid", "tags": [], "other_emails": []}, action="create_from_grid")["id"]
        conn.execute("UPDATE fundraising_contacts SET contact_id = ? WHERE id = ?", (contact_id, person["id"]))
        person["contact_id"] = contact_id


def link_new(batch, pending: list) -> None:
    """Link many new grid contacts at once (an import): the same matching as sync_cell, in bulk.

    `pending` holds (row id, person) pairs whose person has no classic link yet. Organizations
    are looked up and created by name in bulk, emails matched in chunks, and missing classic
    contacts created with one statement per shape; a person matched or created earlier in the
    same call (same email, or same name and organization) is reused.
    """
    conn, req = batch.conn, batch.req
    org_column = batch.key_column("organization")
    org_of = {row_id: (batch.rows[row_id]["cells"].get(org_column.id) if org_column else None) for row_id, _ in pending}
    organizations = _organizations(conn, req, {name for name in org_of.values() if name})
    emails = sorted({p["email"] for _, p in pending if p.get("email")})
    known = {}
    for start in range(0, len(emails), 500):
        chunk = emails[start:start + 500]
        for found in conn.execute(f"SELECT id, email FROM contacts WHERE deleted_at IS NULL AND email IN ({','.join('?' for _ in chunk)})", chunk):
            known[("email", found["email"].lower())] = found["id"]
    _known_names(conn, known, {split_name(p.get("name"))[0] for _, p in pending} - {""})
    creating, waiting = [], []
    for row_id, person in pending:
        organization_id = organizations.get((org_of[row_id] or "").lower())
        first, last = split_name(person.get("name"))
        by_email = ("email", person["email"]) if person.get("email") else None
        by_name = ("name", first.lower(), last.lower(), organization_id) if first else None
        contact_id = known.get(by_email) or known.get(by_name)
        if contact_id is None:
            fields = _classic_fields(person)
            creating.append({**{k: v for k, v in fields.items() if v is not None}, "last_name": fields["last_name"],
                             "organization_id": organization_id, "contact_type": "prospect", "status": "active",
                             "source": "fundraising grid", "tags": [], "other_emails": []})
            contact_id = len(creating) - 1  # an index until the insert gives it an id
            waiting.append(person)
        for key in (by_email, by_name):
            if key:
                known.setdefault(key, contact_id)
        person["contact_id"] = contact_id
    new_ids = records.insert_many(conn, req, CONTACT, creating, action="create_from_grid")
    for _, person in pending:
        if isinstance(person["contact_id"], int):
            person["contact_id"] = new_ids[person["contact_id"]]
    conn.executemany("UPDATE fundraising_contacts SET contact_id = ? WHERE id = ?",
                     [(person["contact_id"], person["id"]) for _, person in pending])


def _known_names(conn, known: dict, first_names: set) -> None:
    """Add ("name", first, last, organization id) -> the oldest live classic contact so named, as _match finds it."""
    wanted = sorted(first_names)
    for start in range(0, len(wanted), 500):
        chunk = wanted[start:start + 500]
        for found in conn.execute(
                "SELECT id, first_name, last_name, organization_id FROM contacts WHERE deleted_at IS NULL AND last_name IS NOT NULL "
                f"AND first_name COLLATE NOCASE IN ({','.join('?' for _ in chunk)}) ORDER BY created_at", chunk):
            known.setdefault(("name", found["first_name"].lower(), found["last_name"].lower(), found["organization_id"]), found["id"])


def _organizations(conn, req, names: set) -> dict:
    """{lower-case name: id} of live organizations, creating the missing ones."""
    found = {}
    wanted = sorted(names)
    for start in range(0, len(wanted), 500):
        chunk = wanted[start:start + 500]
        for row in conn.execute(f"SELECT id, name FROM organizations WHERE deleted_at IS NULL AND name COLLATE NOCASE IN "
                                f"({','.join('?' for _ in chunk)}) ORDER BY created_at DESC", chunk):
            found[row["name"].lower()] = row["id"]  # oldest last, so it wins, as find_or_create picks it
    missing = {}
    for name in wanted:
        if name.lower() not in found and name.lower() not in missing:
            missing[name.lower()] = name
    ids = records.insert_many(conn, req, ORGANIZATION, [{"name": n, "type": "other", "tags": []} for n in missing.values()])
    found.update(zip(missing, ids))
    return found
