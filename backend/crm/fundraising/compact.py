"""The compact page of rows: GET /api/fundraising/rows?shape=compact (the SPA asks for it).

The full shape keys every cell by its 36-character column id, and at 10,000 rows x 40 columns
those keys are half of its 19 MB. The compact page names the fields and columns once and sends
the page column by column: `data` is one array per row field (`fields`: id, position...), then
one per column (`columns`), each holding that field or cell for every row of the page, in order.
Column by column rather than row by row because like values then sit together: gzip makes the
page ~15% smaller than the same values as row arrays (docs/PERFORMANCE.md), and the browser
reads it no slower.

JSON has no "absent", and the full shape tells an empty cell (left out of `cells`) from a null
one (present as null): the columns every row carries (well-known fields, stamps, Relationship)
hold null cells, the others leave empty ones out. So `nulls` lists the column indexes where a
null is a null cell; anywhere else a null is no cell. `odd` lists the [row, column] indexes of
the cells for which that does not hold. `expand` puts full rows back, exactly (the tests compare
both shapes with it; frontend/widgets/rowpages.js reads the page the same way).

Nothing is kept per row: a page is encoded from the snapshot's rows when asked for (at 10,000
rows a whole listing costs about what sending the full shape's kept JSON does, and at 100,000
rows no memory at all).
"""
import json

from ..errors import Invalid
from . import store

SHAPES = ("full", "compact", "ids")  # ids: only the rows' ids, for the SPA's window of rows (grid.py)
FIELDS = ("id", "position", "created_at", "updated_at", "updated_by", "archived")
ARCHIVED_FIELDS = FIELDS + ("archived_at", "archived_by")  # what the archived listing adds


def shape(query) -> str:
    """The `shape` asked for: full (the default), compact or ids; anything else is a 422 naming it."""
    raw = query.get("shape")
    if raw is None or raw == "":
        return "full"
    if raw not in SHAPES:
        raise Invalid({"shape": "must be one of: " + ", ".join(SHAPES)})
    return raw


class Layout:
    """One snapshot's columns as the compact page orders them."""

    def __init__(self, columns):
        self.ids = [c.id for c in columns]
        always = store.always_set(columns)
        self.null_is_cell = [c.id in always for c in columns]
        self.nulls = [n for n, flag in enumerate(self.null_is_cell) if flag]

    def page(self, rows, fields=FIELDS) -> dict:
        """The page's `data` and `odd`, as Python values."""
        data = [[r[f] for r in rows] for f in fields]
        cells = [r["cells"] for r in rows]
        odd = []
        for n, (column_id, null_is_cell) in enumerate(zip(self.ids, self.null_is_cell)):
            values = [c.get(column_id) for c in cells]
            if None in values:  # one scan in C; most columns of most pages have an empty cell
                odd += [[i, n] for i, value in enumerate(values)
                        if value is None and (column_id in cells[i]) is not null_is_cell]
            data.append(values)
        return {"data": data, "odd": odd}

    def page_json(self, rows, fields=FIELDS) -> tuple:
        """(`data` as JSON bytes, the rest of what the page says besides the rows)."""
        page = self.page(rows, fields)
        head = {"shape": "compact", "fields": list(fields), "columns": self.ids, "nulls": self.nulls, "odd": page["odd"]}
        return json.dumps(page["data"], separators=(",", ":")).encode(), head


def expand(page: dict) -> list:
    """A compact page's rows in the full shape ({..fields, cells}), exactly as the full page gives them."""
    fields, ids, data = page["fields"], page["columns"], page["data"]
    width, nulls = len(fields), set(page["nulls"])
    odd = {(r, c) for r, c in page["odd"]}
    count = len(data[0]) if data else 0
    rows = [{f: data[n][r] for n, f in enumerate(fields)} for r in range(count)]
    for r, row in enumerate(rows):
        row["cells"] = {column_id: data[width + n][r] for n, column_id in enumerate(ids)
                        if data[width + n][r] is not None or (n in nulls) is not ((r, n) in odd)}
    return rows
