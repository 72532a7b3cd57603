"""A grouped view's groups, worked out whole or derived from the previous version's.

At 100,000 rows summing every group again after each edit costs ~0.5 s (every row's fund, currency
and number cells). An edit touches a few rows, so the groups at the new version are the previous
version's, less what the touched rows brought to them then, plus what they bring now; only the
groups' order (first appearance in the view's sorted rows) is found again, by reading the rows
from the top until every group has been seen. `derive` gives what `filters.group_rows` gives:
counts exactly, and sums exactly while the amounts are whole numbers (floats add exactly below
2**53). Fractional amounts can differ in the last bits from a sum in another order, so a derived
answer is worked out whole again after `MAX_GENERATIONS` derivations and never drifts further.
"""
from .filters import group_key, group_rows

MAX_GENERATIONS = 64
NUMBERS = (int, float)  # exactly: a bool is an int subclass, and is not summed


class Groups:
    """One view's groups over one list of rows, for one set of columns."""

    __slots__ = ("column_id", "columns", "summed", "by_level", "listed", "generation")

    def __init__(self, column_id, columns, listed, generation=0):
        self.column_id, self.columns, self.listed, self.generation = column_id, columns, listed, generation
        self.summed = [c.id for c in columns if c.type in ("fund", "currency", "number")]
        self.by_level = any(c.id == column_id and c.type == "relationship" for c in columns)


def compute(rows, column_id, columns) -> Groups:
    return Groups(column_id, columns, group_rows(rows, column_id, columns))


def derive(previous: Groups, previous_rows, rows, touched, columns):
    """The groups of `rows` from `previous` (the groups of `previous_rows`, the same view's answer at
    an earlier version) and `touched` (the ids of every row changed since). None when it cannot be
    derived (other columns, or derived too many times over): compute it whole then."""
    if previous.columns is not columns or previous.generation >= MAX_GENERATIONS:
        return None
    by_key = {str(g["key"]): {"key": g["key"], "count": g["count"], "sums": dict(g["sums"])} for g in previous.listed}
    if touched:
        _add(previous, by_key, (r for r in previous_rows if r["id"] in touched), -1)
        _add(previous, by_key, (r for r in rows if r["id"] in touched), 1)
    live = {name: g for name, g in by_key.items() if g["count"] > 0}
    return Groups(previous.column_id, columns, _in_order(previous, live, rows), previous.generation + 1)


def _add(groups: Groups, by_key: dict, rows, sign: int) -> None:
    for row in rows:
        cells = row["cells"]
        key = group_key(cells, groups.column_id, groups.by_level)
        group = by_key.get(str(key))
        if group is None:
            group = by_key[str(key)] = {"key": key, "count": 0, "sums": {c: 0 for c in groups.summed}}
        group["count"] += sign
        sums = group["sums"]
        for c in groups.summed:
            v = cells.get(c)
            if v.__class__ in NUMBERS:
                sums[c] += v if sign > 0 else -v


def _in_order(groups: Groups, live: dict, rows) -> list:
    """The groups in order of their first row in `rows`: read from the top until each is seen."""
    ordered, missing = [], len(live)
    seen = set()
    column_id, by_level = groups.column_id, groups.by_level
    for row in rows:
        if not missing:
            break
        name = str(group_key(row["cells"], column_id, by_level))
        if name not in seen:
            seen.add(name)
            ordered.append(live[name])
            missing -= 1
    return ordered
