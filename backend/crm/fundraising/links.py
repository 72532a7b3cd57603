"""The bridge between grid contacts and classic CRM contacts.

A grid contact is linked to a classic contact once, by a stored id: matched
by email, else by name and organization, else a classic contact is created.
After that, edits flow both ways through the link: a grid edit updates the
classic contact, and a classic edit updates every grid cell that holds it.
"""
from .. import records
from ..contacts.model import CONTACT
from ..errors import Conflict
from ..organizations.handlers import find_or_create

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


def classic_contact_changed(req, contact: dict) -> int:
    """After a classic edit, rewrite the grid cells holding this contact. Returns how many cells changed."""
    from . import ops  # late: ops imports this module
    holders = req.db.execute("SELECT id, investor_id, column_id FROM fundraising_contacts WHERE contact_id = ? AND deleted_at IS NULL",
                             (contact["id"],)).fetchall()
    if not holders:
        return 0
    name = " ".join(p for p in (contact["first_name"], contact["last_name"]) if p)
    batch = ops.Batch(req.db, req, ops.current_version(req.db), presence=None, check_conflicts=False)
    for holder in holders:
        row = batch.row(holder["investor_id"], "contact", allow_archived=True)
        people = [dict(p) for p in row["cells"].get(holder["column_id"]) or []]
        for person in people:
            if person["id"] == holder["id"]:
                person.update(name=name, email=contact["email"], phone=contact["phone"], title=contact["title"])
        batch.set_cell(holder["investor_id"], holder["column_id"], people, "contact", conflict_check=False, force=row["archived"])
    result = batch.finish()
    if result["applied"]:
        req.app.presence.notify()
    return result["applied"]
