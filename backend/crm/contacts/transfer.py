"""Contacts out (CSV or JSON export) and in (CSV or JSON import, dry run or all-or-nothing)."""
import re

from .. import audit, csvio, records
from ..db import transaction
from ..errors import ApiError, Invalid, UnsupportedMediaType
from ..http.responses import Response, json_response
from ..importer import infer
from ..shapes import BOOLEAN, INTEGER, STRING, array, obj
from ..validation import query_flag
from ..organizations.model import find_by_name, find_or_create
from .model import CONTACT, DEFAULTS

EXPORT_COLUMNS = ("id", "first_name", "last_name", "email", "other_emails", "phone", "title", "organization",
                  "contact_type", "status", "source", "tags", "notes", "linkedin_url", "city", "state", "country",
                  "location_query", "created_at", "updated_at")
# What the export (as JSON) and the import answer (the OpenAPI document shows it).
EXPORTED = array(obj(id=STRING, first_name=STRING, last_name=STRING))
REPORT = obj(dry_run=BOOLEAN, created=INTEGER, updated=INTEGER, unchanged=INTEGER, errors=array(), warnings=array(STRING),
             rows=array(obj(row=INTEGER, action=STRING)))
LIST_SEPARATOR = "; "
# Header spellings accepted on import → field.
ALIASES = {
    "first_name": "first_name", "firstname": "first_name", "first": "first_name", "given_name": "first_name",
    "last_name": "last_name", "lastname": "last_name", "last": "last_name", "surname": "last_name", "family_name": "last_name",
    "name": "name", "full_name": "name",
    "email": "email", "email_address": "email", "e_mail": "email",
    "other_emails": "other_emails",
    "phone": "phone", "phone_number": "phone", "mobile": "phone",
    "title": "title", "job_title": "title", "role": "title",
    "organization": "organization", "organisation": "organization", "organization_name": "organization",
    "company": "organization", "firm": "organization",
    "contact_type": "contact_type", "type": "contact_type",
    "status": "status", "source": "source", "tags": "tags", "notes": "notes",
    "linkedin_url": "linkedin_url", "linkedin": "linkedin_url",
    "city": "city", "state": "state", "country": "country", "location_query": "location_query", "location": "location_query",
    "id": "id", "created_at": "ignored", "updated_at": "ignored",
}
LIST_FIELDS = ("tags", "other_emails")
MATCH_FIELDS = [name for name in CONTACT.body.fields if name != "organization_id"]


def _export_rows(conn):
    return conn.execute(
        "SELECT contacts.*, organizations.name AS organization FROM contacts "
        "LEFT JOIN organizations ON organizations.id = contacts.organization_id AND organizations.deleted_at IS NULL "
        "WHERE contacts.deleted_at IS NULL ORDER BY contacts.last_name COLLATE NOCASE, contacts.first_name COLLATE NOCASE, contacts.id"
    ).fetchall()


def export_contacts(req):
    """Every live contact as CSV (`format=csv`, the default) or JSON, with the same columns."""
    fmt = req.query.get("format", "csv")
    if fmt not in ("csv", "json"):
        raise Invalid({"format": "must be csv or json"})
    found = [records.decode(CONTACT, r) for r in _export_rows(req.db)]
    if fmt == "json":
        return json_response({"data": [{c: r.get(c) for c in EXPORT_COLUMNS} for r in found], "total": len(found)})
    lines = ([LIST_SEPARATOR.join(r[c]) if c in LIST_FIELDS else r.get(c) for c in EXPORT_COLUMNS] for r in found)
    body = csvio.write(list(EXPORT_COLUMNS), lines).encode("utf-8")
    return Response(200, body, "text/csv; charset=utf-8", {"Content-Disposition": 'attachment; filename="contacts.csv"'})


def _key(header: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", header.strip().lower()).strip("_")


def _incoming_rows(req) -> tuple:
    """[(row number, {header: text})] and the headers, from a CSV or JSON body."""
    if req.content_type in ("text/csv", "application/csv"):
        header, rows = csvio.read(req.body)
        return header, [(line, dict(zip(header, values + [""] * (len(header) - len(values))))) for line, values in rows]
    if req.content_type == "application/json":
        payload = req.json
        rows = payload.get("rows") if isinstance(payload, dict) else None
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise Invalid({"rows": "must be a list of objects"})
        header = list(dict.fromkeys(k for r in rows for k in r))
        return header, [(n + 1, {k: "" if v is None else v for k, v in r.items()}) for n, r in enumerate(rows)]
    raise UnsupportedMediaType("send text/csv, or application/json with {\"rows\": [...]}")


def _to_contact(values: dict, mapping: dict) -> tuple:
    """(contact fields, organization name) from one row's raw values; blank cells are absent."""
    data, organization = {}, None
    for header, raw in values.items():
        field = mapping.get(header)
        value = raw.strip() if isinstance(raw, str) else raw
        if field in (None, "ignored", "id") or value in ("", None, []):
            continue
        if field == "organization":
            organization = str(value)
        elif field == "name":
            parts = str(value).split()
            data.setdefault("first_name", parts[0])
            data.setdefault("last_name", " ".join(parts[1:]) or "-")
        elif field in LIST_FIELDS and isinstance(value, str):
            data[field] = infer.parse_list(value.replace(";", ","))  # the grid importer's reading of list cells
        else:
            data[field] = value
    return data, organization


def _match(conn, data: dict, organization_id):
    if data.get("email"):
        found = conn.execute("SELECT id FROM contacts WHERE email = ? AND deleted_at IS NULL", (data["email"],)).fetchone()
        if found:
            return found["id"]
    if data.get("first_name") and data.get("last_name"):
        found = conn.execute(
            "SELECT id FROM contacts WHERE first_name = ? COLLATE NOCASE AND last_name = ? COLLATE NOCASE "
            "AND organization_id IS ? AND deleted_at IS NULL ORDER BY created_at LIMIT 1",
            (data["first_name"], data["last_name"], organization_id)).fetchone()
        if found:
            return found["id"]
    return None


def _apply_row(conn, req, data: dict, organization: str) -> tuple:
    """Create, update or leave one contact. Returns (action, id)."""
    organization_id = find_by_name(conn, organization) if organization else None
    match = _match(conn, data, organization_id)
    if match is None:
        _require_names(data)
    if organization and organization_id is None:
        organization_id = find_or_create(conn, req, organization)
    if organization_id:
        data["organization_id"] = organization_id
    if match is None:
        return "created", records.insert(conn, req, CONTACT, {**DEFAULTS, **data}, action="import")["id"]
    current = records.fetch(conn, CONTACT, match)
    changed = {k: v for k, v in data.items() if current.get(k) != v}
    if not changed:
        return "unchanged", match
    records.update(conn, req, CONTACT, match, changed, action="import")
    return "updated", match


def _require_names(data: dict) -> None:
    """A new contact needs both names; a matched one keeps its own where the cells are blank."""
    missing = {f: "is required" for f in ("first_name", "last_name") if not data.get(f)}
    if missing:
        raise Invalid(missing)


class _DryRun(Exception):
    """Raised to roll back a dry run after it has been worked out in full."""


def import_contacts(req):
    """Import contacts from CSV (text/csv) or JSON rows; `dry_run=1` reports without writing.

    Upsert by email, else by first + last name + organization. Blank cells never
    erase stored values. Without dry_run it is all-or-nothing: any row error is
    a 422 listing every problem with its row number, and nothing is written.
    """
    dry_run = query_flag(req.query, "dry_run")
    header, rows = _incoming_rows(req)
    if not rows:
        raise Invalid({"file": "has no data rows"})
    mapping = {h: ALIASES.get(_key(h)) for h in header}
    warnings = [f"column {h!r} is not a contact field and was ignored" for h, f in mapping.items() if f is None]
    report = {"dry_run": dry_run, "created": 0, "updated": 0, "unchanged": 0, "errors": [], "warnings": warnings, "rows": []}
    created = set()  # ids this import made: a dry run must not show them, even on a later row that updates one
    try:
        with transaction(req.db):
            for line, values in rows:
                _import_row(req, line, values, mapping, report, created)
            if report["errors"] or dry_run:
                raise _DryRun()
            audit.record(req.db, req, "contact_import", None, "import",
                         {k: [None, report[k]] for k in ("created", "updated", "unchanged")})
    except _DryRun:
        pass
    if report["errors"] and not dry_run:
        raise Invalid({"rows": report["errors"]}, f"{len(report['errors'])} row(s) have problems; nothing was imported")
    return report


def _import_row(req, line, values, mapping, report, created):
    data, organization = _to_contact(values, mapping)
    try:
        data = CONTACT.body.validate(data, partial=True)
        CONTACT.normalise(data)
        action, record_id = _apply_row(req.db, req, data, organization)
    except Invalid as exc:
        for field, message in exc.fields.items():
            report["errors"].append({"row": line, "field": field, "message": message})
        return
    except ApiError as exc:  # a conflict on one row is that row's problem, reported with its number
        report["errors"].append({"row": line, "field": None, "message": exc.message})
        return
    report[action] += 1
    if action == "created":
        created.add(record_id)
    shown_id = None if report["dry_run"] and record_id in created else record_id  # a dry run's new ids never exist
    report["rows"].append({"row": line, "action": action, "id": shown_id})
