"""Grid columns: the types, the well-known investor fields, and what a cell may hold.

`clean_value(column, value)` is the one place a cell value is checked and
normalised for its column's type; ops, PUT state, imports and automations all
go through it. Select cells hold option names (so CSV and formulas read
naturally); renaming an option rewrites the cells that hold it.
"""
import json
import re
from dataclasses import dataclass

from ..amounts import read_number_text
from ..clock import new_id, parse_iso
from ..validation import EMAIL

TYPES = ("text", "long_text", "number", "currency", "percent", "date", "checkbox", "single_select", "multi_select",
         "email", "url", "phone", "contacts", "fund", "formula", "created_time", "last_modified_time", "last_modified_by", "relationship")
# Computed, never typed: formulas, row stamps, and relationship strength (crm.ingest's scores).
READ_ONLY = {"formula", "created_time", "last_modified_time", "last_modified_by", "relationship"}
NUMERIC = {"number", "currency", "percent", "fund"}
TEXTUAL = {"text", "long_text", "email", "url", "phone", "single_select"}

# Well-known investor fields: stored in their own columns of fundraising_investors
# (or fundraising_contacts) so other features can query them with plain SQL.
WELL_KNOWN = (
    ("name", "Investor", "text"),
    ("organization", "Organization", "text"),
    ("contacts", "Contacts", "contacts"),
    ("lead_source", "Lead Source", "text"),
    ("owner", "Owner", "text"),
    ("status", "Status", "single_select"),
    ("notes", "Notes", "long_text"),
    ("graveyard", "Graveyard", "checkbox"),
    ("follow_up", "Follow Up", "date"),
    ("longshot", "Longshot", "checkbox"),
)
KEY_TYPES = {key: type_ for key, _, type_ in WELL_KNOWN}
BOOL_KEYS = {"graveyard", "longshot"}
DEFAULT_STATUS_OPTIONS = ("Not contacted", "Contacted", "Meeting", "Diligence", "Soft commit", "Committed", "Passed")
PALETTE = ("#dbeafe", "#dcfce7", "#fef9c3", "#fee2e2", "#f3e8ff", "#ffedd5", "#e0f2fe", "#f1f5f9")
CONTACT_FIELDS = ("name", "email", "phone", "title")


class CellError(ValueError):
    """A value does not fit its column; the message says why."""


@dataclass
class Column:
    id: str
    name: str
    type: str
    field_key: str
    position: float
    options: list
    formula: str
    config: dict
    fund: dict = None
    deleted: bool = False

    @classmethod
    def from_row(cls, row: dict, fund: dict = None) -> "Column":
        return cls(row["id"], row["name"], row["type"], row["field_key"], row["position"],
                   json.loads(row["options"]), row["formula"], json.loads(row["config"]), fund,
                   row["deleted_at"] is not None)

    def as_api(self) -> dict:
        shown = {"id": self.id, "name": self.name, "type": self.type, "key": self.field_key,
                 "options": self.options, "config": self.config}
        if self.type == "formula":
            shown["formula"] = self.formula
        if self.type == "fund":
            shown["fund"] = self.fund
        return shown

    @property
    def option_names(self) -> dict:
        return {o["name"].lower(): o["name"] for o in self.options}


def make_options(names) -> list:
    return [{"id": new_id(), "name": n, "color": PALETTE[i % len(PALETTE)]} for i, n in enumerate(names)]


def clean_options(raw) -> list:
    """Select options from the API: names required and unique; ids and colours kept or made."""
    if not isinstance(raw, list):
        raise CellError("options must be a list")
    seen, options = set(), []
    for position, item in enumerate(raw):
        item = {"name": item} if isinstance(item, str) else item
        if not isinstance(item, dict) or not isinstance(item.get("name"), str) or not item["name"].strip():
            raise CellError(f"option {position + 1} needs a name")
        name = item["name"].strip()
        if name.lower() in seen:
            raise CellError(f"option {name!r} appears twice")
        seen.add(name.lower())
        color = item.get("color") or PALETTE[position % len(PALETTE)]
        if not re.fullmatch(r"#[0-9a-fA-F]{6}", color):
            raise CellError(f"option {name!r} colour must look like #2f6fde")
        options.append({"id": item.get("id") or new_id(), "name": name, "color": color})
    return options


def _number(value):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value or value in (float("inf"), float("-inf")):
        raise CellError("must be a number")
    return value


def _text(value, limit=100_000):
    if not isinstance(value, str):
        raise CellError("must be text")
    if len(value) > limit:
        raise CellError(f"must be at most {limit} characters")
    return value


def _date(value):
    text = _text(value, 40).strip()
    try:
        parse_iso(text)
    except ValueError:
        raise CellError("must be a date like 2026-01-31 (or an ISO date-time)") from None
    return text


def _contacts(value):
    if not isinstance(value, list):
        raise CellError("must be a list of contacts")
    cleaned = []
    for position, item in enumerate(value):
        if not isinstance(item, dict):
            raise CellError(f"contact {position + 1} must be an object")
        unknown = set(item) - set(CONTACT_FIELDS) - {"id", "contact_id"}
        if unknown:
            raise CellError(f"contact {position + 1} has unknown fields: {', '.join(sorted(unknown))}")
        contact = {"id": item.get("id")}
        for name in CONTACT_FIELDS:
            raw = item.get(name)
            contact[name] = _text(raw, 300).strip() if raw not in (None, "") else None
        if contact["email"]:
            contact["email"] = contact["email"].lower()
            if not EMAIL.match(contact["email"]):
                raise CellError(f"contact {position + 1} email is not an email address")
        if not contact["name"] and not contact["email"]:
            raise CellError(f"contact {position + 1} needs a name or an email")
        cleaned.append(contact)
    return cleaned


def clean_value(column: Column, value):
    """The value as stored for this column, or CellError. None (or "") clears a cell."""
    kind = column.type
    if kind in READ_ONLY:
        raise CellError(f"{column.name} is computed and cannot be edited")
    if value is None or value == "" or (value == [] and kind in ("multi_select", "contacts")):
        return [] if kind in ("multi_select", "contacts") else (False if kind == "checkbox" else None)
    if kind in NUMERIC:
        if isinstance(value, str):
            # What people type ($1.5M, 500k, (1,000), 50%), read as the importer reads it.
            try:
                value = read_number_text(kind, value)[0]
            except ValueError:
                what = "a percentage" if kind == "percent" else "a number"
                raise CellError(f"{value.strip()!r} is not {what} for {column.name}") from None
        value = _number(value)
        if kind == "fund" and value < 0:
            raise CellError(f"a commitment cannot be negative ({column.name})")
        return value
    if kind == "checkbox":
        if not isinstance(value, bool):
            raise CellError("must be true or false")
        return value
    if kind == "date":
        return _date(value)
    if kind == "email":
        value = _text(value, 254).strip().lower()
        if not EMAIL.match(value):
            raise CellError("must be an email address")
        return value
    if kind == "url":
        value = _text(value, 2000).strip()
        if not re.match(r"^https?://[^\s]+$", value):
            raise CellError("must be a web address starting with http:// or https://")
        return value
    if kind == "single_select":
        name = column.option_names.get(_text(value, 300).strip().lower())
        if name is None:
            raise CellError(f"{value.strip()!r} is not a {column.name} option")
        return name
    if kind == "multi_select":
        if not isinstance(value, list):
            raise CellError("must be a list of option names")
        names = []
        for item in value:
            name = column.option_names.get(_text(item, 300).strip().lower()) if isinstance(item, str) else None
            if name is None:
                raise CellError(f"{item!r} is not a {column.name} option")
            if name not in names:
                names.append(name)
        return names
    if kind == "contacts":
        return _contacts(value)
    return _text(value, 100_000 if kind == "long_text" else 10_000)


def is_blank(value) -> bool:
    return value is None or value == "" or value == [] or value is False
