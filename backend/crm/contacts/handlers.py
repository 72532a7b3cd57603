"""Contacts, the hub: the dossier, cascade delete and restore, and per-contact views."""
from .. import hooks, records
from ..communications.model import COMMUNICATION
from ..db import transaction
from ..lp_profiles.model import LP_PROFILE
from ..opportunities.model import OPPORTUNITY
from ..organizations.model import ORGANIZATION
from ..results import Created
from .model import CONTACT, DEFAULTS

# Rows that belong to a contact and go (and come back) with it.
DEPENDENTS = (OPPORTUNITY, COMMUNICATION, LP_PROFILE)
WITH_ORGANIZATION = dict(
    select="contacts.*, organizations.name AS organization_name",
    joins="LEFT JOIN organizations ON organizations.id = contacts.organization_id AND organizations.deleted_at IS NULL",
)


def list_contacts(req):
    """Contacts: search `q` (name, email, organization, tags, notes), filters, `tag`, `sort`; paginated."""
    return records.list_page(req, CONTACT, **WITH_ORGANIZATION)


def create_contact(req):
    """Create a contact."""
    data = {**DEFAULTS, **records.clean(req, CONTACT)}
    with transaction(req.db):
        return Created(records.insert(req.db, req, CONTACT, data))


def get_contact(req):
    """The dossier: the contact, its organization, last 20 communications, opportunities, LP profile."""
    contact = records.require(req.db, CONTACT, req.params["id"], records.include_deleted(req))
    return dossier(req.db, contact)


def dossier(conn, contact: dict) -> dict:
    organization = records.fetch(conn, ORGANIZATION, contact["organization_id"]) if contact["organization_id"] else None
    communications = conn.execute(
        "SELECT * FROM communications WHERE contact_id = ? AND deleted_at IS NULL "
        "ORDER BY communication_date DESC, id LIMIT 20", (contact["id"],)).fetchall()
    opportunities = conn.execute(
        "SELECT * FROM opportunities WHERE contact_id = ? AND deleted_at IS NULL ORDER BY created_at DESC, id",
        (contact["id"],)).fetchall()
    lp_profile = conn.execute("SELECT * FROM lp_profiles WHERE contact_id = ? AND deleted_at IS NULL", (contact["id"],)).fetchone()
    return {
        **contact,
        "organization": organization,
        "communications": [records.decode(COMMUNICATION, c) for c in communications],
        "opportunities": [records.decode(OPPORTUNITY, o) for o in opportunities],
        "lp_profile": records.decode(LP_PROFILE, lp_profile),
    }


def replace_contact(req):
    """Replace every field of a contact (grid cells linked to it follow)."""
    data = records.full_record(CONTACT, records.clean(req, CONTACT))
    data = {**data, **{k: data[k] or v for k, v in DEFAULTS.items()}}
    return _update(req, data)


def patch_contact(req):
    """Change some fields of a contact (grid cells linked to it follow)."""
    return _update(req, records.clean(req, CONTACT, partial=True))


def _update(req, data):
    with transaction(req.db):
        contact = records.update(req.db, req, CONTACT, req.params["id"], data)
        hooks.contact_changed.announce(req.db, req, contact)  # the grid cells holding it follow
    return contact


def delete_contact(req):
    """Soft-delete a contact with its opportunities, communications and LP profile, in one batch."""
    contact_id = req.params["id"]
    with transaction(req.db):
        deleted = records.soft_delete(req.db, req, CONTACT, contact_id)
        counts = {}
        for kind in DEPENDENTS:
            live = req.db.execute(f"SELECT id FROM {kind.table} WHERE contact_id = ? AND deleted_at IS NULL", (contact_id,)).fetchall()
            for row in live:
                records.soft_delete(req.db, req, kind, row["id"], batch=deleted["batch"])
            counts[kind.table] = len(live)
    return {**deleted, "also_deleted": counts}


def restore_contact(req):
    """Restore a contact and exactly the records that were deleted with it."""
    with transaction(req.db):
        contact, batch = records.restore(req.db, req, CONTACT, req.params["id"])
        counts = {kind.table: len(records.restore_batch(req.db, req, kind, batch)) for kind in DEPENDENTS}
    return {**contact, "also_restored": counts}


def contact_communications(req):
    """A contact's communications, newest first (paginated)."""
    records.require(req.db, CONTACT, req.params["id"])
    req.query.setdefault("sort", "-communication_date")
    return records.list_page(req, COMMUNICATION, where=["communications.contact_id = ?"], params=[req.params["id"]])


def organization_contacts(req):
    """The contacts of an organization (paginated)."""
    records.require(req.db, ORGANIZATION, req.params["id"])
    return records.list_page(req, CONTACT, where=["contacts.organization_id = ?"], params=[req.params["id"]], **WITH_ORGANIZATION)
