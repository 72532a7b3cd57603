"""What the grid does when the classic CRM announces a change (crm.hooks).

`register()` runs at start-up (crm.app); each listener runs on the announcer's
connection, inside its transaction.
"""
from .. import hooks
from . import ops
from .setup import wipe_rows


def register() -> None:
    hooks.contact_changed.register(contact_changed)
    hooks.data_reset.register(wipe_rows)  # grid rows go first: their contacts point at classic contacts


def contact_changed(conn, req, contact: dict) -> int:
    """After a classic edit, rewrite the grid cells holding this contact. Returns how many cells changed."""
    holders = conn.execute("SELECT id, investor_id, column_id FROM fundraising_contacts WHERE contact_id = ? AND deleted_at IS NULL",
                           (contact["id"],)).fetchall()
    if not holders:
        return 0
    name = " ".join(p for p in (contact["first_name"], contact["last_name"]) if p)
    batch = ops.Batch(conn, req, ops.current_version(conn), presence=None, check_conflicts=False)
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
