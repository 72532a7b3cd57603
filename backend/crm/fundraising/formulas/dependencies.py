"""The dependency graph between formula columns: cycles, and the order in which to recompute."""
import heapq


def find_cycle(formulas: dict):
    """One cycle among formula columns as [A, B, ..., A], or None. Names that are not formulas are leaves."""
    rank = {name: i for i, name in enumerate(formulas)}

    def successors(name):
        return iter(sorted((n for n in formulas[name] if n in formulas), key=rank.get))

    finished = set()
    for root in formulas:
        if root in finished:
            continue
        # Iterative depth-first search: `path` is the current chain, `where` its index of each name.
        path, where, stack = [root], {root: 0}, [successors(root)]
        while stack:
            following = next(stack[-1], None)
            if following is None:
                done = path.pop()
                del where[done]
                finished.add(done)
                stack.pop()
            elif following in where:
                return path[where[following]:] + [following]
            elif following not in finished:
                where[following] = len(path)
                path.append(following)
                stack.append(successors(following))
    return None


def dependents(formulas: dict, changed: set) -> list:
    """Formula columns to recompute after `changed` fields changed, each after the formulas it reads.

    Includes every formula that reads a changed name directly or through
    other formulas, and changed names that are formulas themselves (their
    definition changed). Ties keep the order of `formulas`; members of a
    cycle (which saving rejects) come last rather than never.
    """
    readers = {}
    for name, names in formulas.items():
        for used in names:
            readers.setdefault(used, set()).add(name)
    affected = {name for name in changed if name in formulas}
    frontier = list(changed)
    while frontier:
        for reader in readers.get(frontier.pop(), ()):
            if reader not in affected:
                affected.add(reader)
                frontier.append(reader)
    return _dependency_order(formulas, affected)


def _dependency_order(formulas: dict, affected: set) -> list:
    rank = {name: i for i, name in enumerate(formulas)}
    waiting = {name: {n for n in formulas[name] if n in affected and n != name} for name in affected}
    readers = {name: set() for name in affected}
    for name, needs in waiting.items():
        for need in needs:
            readers[need].add(name)
    ready = [(rank[name], name) for name, needs in waiting.items() if not needs]
    heapq.heapify(ready)
    ordered = []
    while ready:
        _, name = heapq.heappop(ready)
        ordered.append(name)
        for reader in readers[name]:
            waiting[reader].discard(name)
            if not waiting[reader]:
                heapq.heappush(ready, (rank[reader], reader))
    done = set(ordered)
    ordered.extend(sorted((name for name in affected if name not in done), key=rank.get))
    return ordered
