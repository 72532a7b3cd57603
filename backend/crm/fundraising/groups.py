"""A grouped view's groups, worked out whole or derived from the previous version's.

At 100,000 rows summing every group again after each edit costs ~0.5 s (every row's fund, currency
and number cells). An edit touches a few rows, so the groups at the new version are the previous
version's, less what the touched rows brought to them then, plus what they bring now. The groups'
order (first appearance in the view's sorted rows) follows from each group's first row, kept
with the groups: it stays first unless a touched row now comes before it (only when a group's
first row was itself touched are the rows read from the top until every group is seen). `derive` gives what `filters.group_rows` gives:
counts exactly, and sums exactly while the amounts are whole numbers (floats add exactly below
2**53). Fractional amounts can differ in the last bits from a sum in another order, so a derived
answer is worked out whole again after `MAX_GENERATIONS` derivations and never drifts further.
"""
from operator import itemgetter

from .filters import group_key, group_rows

MAX_GENERATIONS = 64
NUMBERS = (int, float)  # exactly: a bool is an int subclass, and is not summed
FEW = 32                # touched rows found one by one (list.index); more: one pass over the ids
_ID = itemgetter("id")


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


def derive(previous: Groups, previous_rows, rows, touched, columns):
    """The groups of `rows` from `previous` (the groups of `previous_rows`, the same view's answer at
    an earlier version) and `touched` (the ids of every row changed since). None when it cannot be
    derived (other columns, or derived too many times over): compute it whole then."""
    if previous.columns is not columns or previous.generation >= MAX_GENERATIONS:
        return None
    by_key = {str(g["key"]): {"key": g["key"], "count": g["count"], "sums": dict(g["sums"])} for g in previous.listed}
    now, places = [], {}  # the touched rows the view shows now; where they and the groups' first rows are
    if touched:
        _, before = _places(previous_rows, touched)
        _add(previous, by_key, [previous_rows[n] for n in before.values()], -1)
        ids, places = _places(rows, touched)
        now = [rows[n] for n in sorted(places.values())]
        _add(previous, by_key, now, 1)
        for row_id in previous.firsts.values():
            if row_id not in places and row_id not in touched:
                try:
                    places[row_id] = ids.index(row_id)  # an untouched group's first row is still shown
                except ValueError:  # it is not (the view changed otherwise): work the groups out whole
                    return None
    live = {name: g for name, g in by_key.items() if g["count"] > 0}
    groups = Groups(previous.column_id, columns, [], {}, previous.generation + 1)
    firsts = _moved_firsts(previous, live, touched, now, places)
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


def _places(rows, touched) -> tuple:
    """(the rows' ids, {id: place in rows} of the touched ones there). The ids are read at C speed
    (itemgetter) and a few touched ids found by list.index: a loop over 100,000 rows in Python
    costs ~50 ms, this a few."""
    ids = list(map(_ID, rows))
    if len(touched) <= FEW:
        places = {}
        for row_id in touched:
            try:
                places[row_id] = ids.index(row_id)
            except ValueError:  # not shown (any more)
                pass
        return ids, places
    return ids, {row_id: n for n, row_id in enumerate(ids) if row_id in touched}


def _moved_firsts(previous: Groups, live: dict, touched, now, places):
    """{group name: its first row's id} in order, from the previous firsts and the touched rows now
    shown: a group's first row is its previous one (untouched rows keep their order) or a touched
    row placed before it. None when a group's previous first row was itself touched."""
    first = {}
    for name in live:
        row_id = previous.firsts.get(name)
        if row_id is not None and row_id in touched:
            return None
        if row_id is not None:
            first[name] = row_id
    for row in now:
        name = str(group_key(row["cells"], previous.column_id, previous.by_level))
        held = first.get(name)
        if name in live and (held is None or places[row["id"]] < places[held]):
            first[name] = row["id"]
    if len(first) != len(live):
        return None
    if not now:  # no touched row is shown now: the untouched first rows keep their order
        return {name: first[name] for name in previous.firsts if name in live}
    return dict(sorted(first.items(), key=lambda item: places[item[1]]))


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
