"""The compact page of rows: GET /api/fundraising/rows?shape=compact (the SPA asks for it).

The full shape keys every cell by its 36-character column id, and at 10,000 rows x 40 columns
those keys are half of its 19 MB. The compact page names the columns once and gives each row
as one array: the row's fields (`fields`: id, position...), then its cells in `columns` order.

JSON has no "absent", and the full shape tells an empty cell (left out of `cells`) from a null
one (present as null): the columns every row carries (well-known fields, stamps, Relationship)
hold null cells, the others leave empty ones out. So `nulls` lists the indexes (into `columns`)
where a null is a null cell; anywhere else a null is no cell. A row where that does not hold
for some column ends with one element more, the list of those column indexes. `expand` puts a
full row back, exactly (the tests compare both shapes with it; the SPA does the same in
frontend/widgets/rowpages.js).

A row's encoding is made when it is first asked for and kept with its snapshot, like the full
shape's; a snapshot advanced from another carries the untouched rows' over.
"""
import json

from ..errors import Invalid
from . import store

SHAPES = ("full", "compact")
FIELDS = ("id", "position", "created_at", "updated_at", "updated_by", "archived")
ARCHIVED_FIELDS = FIELDS + ("archived_at", "archived_by")  # what the archived listing adds


def shape(query) -> str:
    """The `shape` asked for: full (the default) or compact; anything else is a 422 naming it."""
    raw = query.get("shape")
    if raw is None or raw == "":
        return "full"
    if raw not in SHAPES:
        raise Invalid({"shape": "must be one of: " + ", ".join(SHAPES)})
    return raw


class Layout:
    """One snapshot's columns as the compact page orders them, and its rows' encodings once made."""

    def __init__(self, columns, carried=None, touched=()):
        self.ids = [c.id for c in columns]
        always = store.always_set(columns)
        self.null_is_cell = [c.id in always for c in columns]
        self.nulls = [n for n, flag in enumerate(self.null_is_cell) if flag]
        # copy() is one step under the GIL: safe while another request fills the old layout's.
        self.encoded = carried.encoded.copy() if carried is not None else {}
        for row_id in touched:
            self.encoded.pop(row_id, None)

    def values(self, row, fields=FIELDS) -> list:
        """The row as the compact page's array."""
        cells = row["cells"]
        values = [row[f] for f in fields]
        found = list(map(cells.get, self.ids))
        ids, null_is_cell = self.ids, self.null_is_cell
        odd = [n for n, value in enumerate(found) if value is None and (ids[n] in cells) is not null_is_cell[n]]
        values += found
        if odd:
            values.append(odd)
        return values

    def rows_json(self, rows, own=True, fields=FIELDS) -> bytes:
        """A list of rows as JSON arrays. `own`: rows of this layout's snapshot, whose encodings are kept."""
        if not own:
            return b"[" + b",".join(_encode(self.values(r, fields)) for r in rows) + b"]"
        encoded, parts = self.encoded, []
        for r in rows:
            data = encoded.get(r["id"])
            if data is None:
                data = encoded[r["id"]] = _encode(self.values(r))
            parts.append(data)
        return b"[" + b",".join(parts) + b"]"

    def head(self, fields=FIELDS) -> dict:
        """What a compact page says besides its rows."""
        return {"shape": "compact", "columns": self.ids, "fields": list(fields), "nulls": self.nulls}


def expand(page: dict) -> list:
    """A compact page's rows in the full shape ({..fields, cells}), exactly as the full page gives them."""
    ids, fields, nulls = page["columns"], page["fields"], set(page["nulls"])
    width, rows = len(fields), []
    for values in page["data"]:
        odd = set(values[width + len(ids)]) if len(values) > width + len(ids) else set()
        row = dict(zip(fields, values))
        row["cells"] = {column_id: value for n, (column_id, value) in enumerate(zip(ids, values[width:]))
                        if value is not None or (n in nulls) is not (n in odd)}
        rows.append(row)
    return rows


def _encode(value) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()
