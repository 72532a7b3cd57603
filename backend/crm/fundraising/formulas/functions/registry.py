"""The function registry: each function's parameter kinds, result type, implementation and help, by name.

`usage` and `doc` (how it is called and one line on what it gives) are what the
formula editor lists as you type (`GET /api/fundraising/formula/vocabulary`).
"""
from dataclasses import dataclass


@dataclass(frozen=True)
class _Function:
    name: str
    params: tuple       # kinds, a trailing "?" marks optional, "*" or "+" repeats the last kind
    result: object      # a type name, or fn(call node, arg types) -> type
    impl: object        # fn(ctx, *values), or fn(ctx, *nodes) when lazy
    lazy: bool = False
    usage: str = ""     # e.g. "ROUND(number, [digits])"
    doc: str = ""       # one line: what it gives

    def kind(self, index: int) -> str:
        return self.params[min(index, len(self.params) - 1)].rstrip("?*+")

    def arity(self) -> tuple:
        required = sum(1 for p in self.params if p[-1] not in "?*")
        repeats = self.params and self.params[-1][-1] in "*+"
        return required, None if repeats else len(self.params)

    def arity_problem(self, count: int):
        low, high = self.arity()
        if low <= count and (high is None or count <= high):
            return None
        if high is None:
            wanted = f"at least {low} argument{'s' * (low != 1)}"
        elif low == high:
            wanted = f"{low} argument{'s' * (low != 1)}" if low else "no arguments"
        else:
            wanted = f"{low} to {high} arguments"
        return f"{self.name} takes {wanted}, got {count}"


FUNCTIONS: dict = {}


def _function(name: str, params: str, result, lazy: bool = False, usage: str = "", doc: str = ""):
    kinds = tuple(p.strip() for p in params.split(",") if p.strip())

    def register(impl):
        FUNCTIONS[name] = _Function(name, kinds, result, impl, lazy, usage or f"{name}()", doc)
        return impl
    return register


def described() -> list:
    """Every function as the editor lists it: {name, usage, doc}, in alphabetical order."""
    return [{"name": f.name, "usage": f.usage, "doc": f.doc} for f in sorted(FUNCTIONS.values(), key=lambda f: f.name)]
