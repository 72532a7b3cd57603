"""A batch's cell writes, stored one UPDATE per row when the batch finishes.

A paste of 5,000 rows x 10 columns is 50,000 set_cell ops. Written one by one, each cell
was two UPDATEs of its row (the cell, then updated_at), each rewriting the row's whole record
(~3 KB of JSON at 40 columns): 100,000 statements. Here a row's cells wait in memory (the
batch's own copy of the row already shows them) and are written together: the investor-field
columns, the other cells by one json_set / json_remove over `fields`, and updated_at once; rows
of the same shape share one executemany. Fund and contacts cells live in tables of their own
and are written at once, as before.
"""
import json

from ..clock import now_iso
from .columns import BOOL_KEYS
from .store import INVESTOR_KEYS, write_cell

AT_ONCE = ("fund", "contacts")


class CellWrites:
    def __init__(self, conn, user_id):
        self.conn, self.user_id = conn, user_id
        self.rows = {}  # row id -> {column id: (column, value)} waiting; {} for a row only to touch

    def write(self, row_id, column, value):
        """Store a cleaned value (now, or at flush); returns the value as stored (contacts gain ids)."""
        cells = self.rows.setdefault(row_id, {})
        if column.type in AT_ONCE:
            return write_cell(self.conn, row_id, column, value, self.user_id, touch=False)
        cells[column.id] = (column, value)
        return value

    def flush(self) -> None:
        """Write what waits. Called before anything reads the rows back from the database: a column
        op of the same request, and the batch's end."""
        if not self.rows:
            return
        at, shapes = now_iso(), {}
        for row_id, cells in self.rows.items():
            keys, removed, changed = [], [], []
            for column_id, (column, value) in cells.items():
                if column.field_key in INVESTOR_KEYS:
                    keys.append((column.field_key, int(value) if column.field_key in BOOL_KEYS else value))
                elif value is None or value == [] or value is False:
                    removed.append(f'$."{column_id}"')
                else:
                    changed += [f'$."{column_id}"', json.dumps(value)]
            shape = (tuple(k for k, _ in keys), len(removed), len(changed) // 2)
            shapes.setdefault(shape, []).append((*(v for _, v in keys), *removed, *changed, at, self.user_id, row_id))
        self.rows = {}
        for (keys, removed, changed), params in shapes.items():
            self.conn.executemany(_update_sql(keys, removed, changed), params)


def _update_sql(keys, removed: int, changed: int) -> str:
    """The UPDATE for one shape; `keys` are investor-field column names (store.INVESTOR_KEYS only)."""
    fields = "fields"
    if removed:
        fields = f"json_remove({fields}, {', '.join('?' for _ in range(removed))})"
    if changed:
        fields = f"json_set({fields}, {', '.join('?, json(?)' for _ in range(changed))})"
    sets = [f"{key} = ?" for key in keys] + ([f"fields = {fields}"] if removed or changed else [])
    return f"UPDATE fundraising_investors SET {', '.join(sets + ['updated_at = ?', 'updated_by = ?'])} WHERE id = ?"
