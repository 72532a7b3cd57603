"""What a view shows of a snapshot, worked out whole or derived from the previous version's answer.

At 100,000 rows, filtering and sorting every row again after each edit costs most of a second
in Python, and every edit moves the version. But an edit touches a few rows: the answer at the
new version is the previous answer without the touched rows, plus those of them that match now,
each put at its place by binary search. `Plan.derive` does that, and gives the same list as
`Plan.compute`: the order is the sorts' (blanks last in either direction), then grid order
(position, id), exactly as filters.sort_rows orders by stable sorts.
"""
from bisect import bisect_left
from functools import cmp_to_key

from . import filters

MAX_DERIVED = 300  # rows placed one by one; beyond this the whole answer is worked out again


class Plan:
    """One view (filter, sorts, search, day) over one set of columns."""

    def __init__(self, config, q, day, columns):
        self.columns = columns
        self.sorts = config.get("sorts") or []
        self.q = q
        self.matches = filters.compile_filter(config["filters"], columns, on_day=day) if config.get("filters") else None
        self._keys = None  # made on first use: compute() checks the sorts (a 422) before derive() may run

    def compute(self, rows, text_of=filters.row_text) -> list:
        """The rows (in grid order) that match, in the view's order; `text_of(row)`: its search text."""
        if self.matches is not None:
            matches = self.matches
            rows = [r for r in rows if matches(r["cells"])]
        rows = filters.search_rows(rows, self.q, text_of)
        return filters.sort_rows(rows, self.sorts, self.columns)

    def shows(self, row) -> bool:
        return (self.matches is None or self.matches(row["cells"])) and bool(filters.search_rows([row], self.q))

    def derive(self, previous, touched, row_of):
        """The answer from `previous` (the same plan's at an earlier version, on the same columns),
        the ids of every row touched since, and `row_of(id)`: the row now, None when not live.
        None when too many rows changed (compute it whole then)."""
        if len(touched) > MAX_DERIVED * 4:
            return None
        fresh = [row for row in map(row_of, touched) if row is not None and self.shows(row)]
        if len(fresh) > MAX_DERIVED:
            return None
        kept = [r for r in previous if r["id"] not in touched]
        order = cmp_to_key(self.compare)
        for row in sorted(fresh, key=order):
            kept.insert(bisect_left(kept, order(row), key=order), row)
        return kept

    def compare(self, a, b) -> int:
        if self._keys is None:
            self._keys = _sort_keys(self.sorts, self.columns)
        for empty, key, descending in self._keys:
            ea, eb = empty(a), empty(b)
            if ea != eb:
                return 1 if ea else -1
            if ea:
                continue
            ka, kb = key(a), key(b)
            if ka < kb:
                return 1 if descending else -1
            if kb < ka:
                return -1 if descending else 1
        pa, pb = (a["position"], a["id"]), (b["position"], b["id"])
        return -1 if pa < pb else (1 if pb < pa else 0)


def _sort_keys(sorts, columns) -> list:
    """[(is this row's cell blank, its sort key, descending)] per sort, most significant first."""
    by_id = {c.id: c for c in columns}
    keys = []
    for spec in sorts:
        column = by_id[spec["column_id"]]
        empty_cell = filters.empty_for(column)
        keys.append((lambda row, e=empty_cell, c=column.id: e(row["cells"].get(c)), filters.key_for(column),
                     spec.get("direction", "asc") == "desc"))
    return keys
