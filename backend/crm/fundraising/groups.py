"""A grouped view's groups, worked out whole or derived from the previous version's.

At 100,000 rows summing every group again after each edit costs ~0.5 s (every row's fund, currency
and number cells). An edit touches a few rows, so the groups at the new version are the previous
version's, less what the touched rows brought to them then, plus what they bring now. The groups'
order (first appearance in the view's sorted rows) follows from each group's first row, kept
with the groups: it stays first unless a touched row now comes before it in the view's order
(only when a group's first row was itself touched are the rows read from the top until every
group is seen). So after an edit only the touched rows are looked at, not the 100,000.
`derive` gives what `filters.group_rows` gives: counts exactly, and sums exactly while the amounts are whole numbers (floats add exactly below
2**53). Fractional amounts can differ in the last bits from a sum in another order, so a derived
answer is worked out whole again after `MAX_GENERATIONS` derivations and never drifts further.
"""
from functools import cmp_to_key

from .filters import group_key, group_rows

MAX_GENERATIONS = 64
NUMBERS = (int, float)  # exactly: a bool is an int subclass, and is not summed


class Groups:
    """One view's groups over one list of rows, for one set of columns; `firsts`: each group's first row's id."""

    __slots__ = ("column_id", "columns", "summed", "by_level", "listed", "firsts", "generation")

    def __init__(self, column_id, columns, listed, firsts, generation=0):
        self.column_id, self.columns, self.listed, self.firsts, self.generation = column_id, columns, listed, firsts, generation
        self.summed = [c.id for c in columns if c.type in ("fund", "currency", "number")]
        self.by_level = any(c.id == column_id and c.type == "relationship" for c in columns)


def compute(rows, column_id, columns) -> Groups:
    groups = Groups(column_id, columns, group_rows(rows, column_id, columns), {})
    groups.firsts = _firsts(groups, rows, len(groups.listed))
    return groups


def derive(previous: Groups, old_row_of, row_of, touched, plan, rows, columns):
    """The groups of `rows` (the view's answer now) from `previous` (the same view's groups at an
    earlier version), `old_row_of(id)` / `row_of(id)` (a live row then / now, None when not),
    `touched` (the ids of every row changed since) and `plan` (the view: which rows it shows, and
    its order as a comparison). Only the touched rows are looked at. None when it cannot be derived
    (other columns, or derived too many times over): compute it whole then."""
    if previous.columns is not columns or previous.generation >= MAX_GENERATIONS:
        return None
    by_key = {str(g["key"]): {"key": g["key"], "count": g["count"], "sums": dict(g["sums"])} for g in previous.listed}
    shown = lambda found: [r for r in found if r is not None and plan.shows(r)]  # noqa: E731
    _add(previous, by_key, shown(map(old_row_of, touched)), -1)
    now = shown(map(row_of, touched))
    _add(previous, by_key, now, 1)
    live = {name: g for name, g in by_key.items() if g["count"] > 0}
    groups = Groups(previous.column_id, columns, [], {}, previous.generation + 1)
    firsts = _moved_firsts(previous, live, touched, now, row_of, cmp_to_key(plan.compare))
    if firsts is None:  # a group's first row was touched: its new first row is found by reading from the top
        firsts = _firsts(groups, rows, len(live))
    groups.firsts = firsts
    groups.listed = [live[name] for name in firsts]
    return groups


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


def _moved_firsts(previous: Groups, live: dict, touched, now, row_of, order):
    """{group name: its first row's id} in the view's order (`order`: its sort key), from the previous
    firsts and the touched rows shown now: a group's first row is its previous one (untouched rows
    keep their order) or a touched row before it. None when a group's previous first row was itself
    touched (or is gone)."""
    first = {}
    for name in live:
        row_id = previous.firsts.get(name)
        if row_id is None:
            continue
        row = row_of(row_id)
        if row_id in touched or row is None:
            return None
        first[name] = row
    for row in now:
        name = str(group_key(row["cells"], previous.column_id, previous.by_level))
        held = first.get(name)
        if name in live and (held is None or order(row) < order(held)):
            first[name] = row
    if len(first) != len(live):
        return None
    return {name: row["id"] for name, row in sorted(first.items(), key=lambda item: order(item[1]))}


def _firsts(groups: Groups, rows, count: int) -> dict:
    """{group name: its first row's id}, in order: read from the top until `count` groups are seen."""
    found = {}
    column_id, by_level = groups.column_id, groups.by_level
    for row in rows:
        if len(found) >= count:
            break
        name = str(group_key(row["cells"], column_id, by_level))
        if name not in found:
            found[name] = row["id"]
    return found
