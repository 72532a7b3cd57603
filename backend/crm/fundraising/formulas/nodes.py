"""The syntax tree: a frozen dataclass per kind of node, and the walks every later stage shares.

`position` is where the node starts (for Unary and Binary: the operator). It
is left out of equality so that a reprinted formula parses back equal.
"""
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Number:
    value: object                   # int or float, never negative from the parser
    position: int = field(default=0, compare=False)


@dataclass(frozen=True)
class String:
    value: str
    position: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Boolean:
    value: bool
    position: int = field(default=0, compare=False)


@dataclass(frozen=True)
class FieldRef:
    name: str
    position: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Unary:
    op: str                         # "-" or "+"
    operand: object
    position: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Binary:
    op: str
    left: object
    right: object
    position: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Call:
    name: str                       # upper case
    args: tuple
    position: int = field(default=0, compare=False)


def _spine(node):
    """A left-deep chain of Binary nodes as (leftmost operand, binaries innermost first).

    Walking chains iteratively keeps `1+1+...+1` (thousands long, yet only one
    nesting level) from exhausting Python's recursion limit.
    """
    chain = []
    while isinstance(node, Binary):
        chain.append(node)
        node = node.left
    chain.reverse()
    return node, chain


def _start(node) -> int:
    """Where the text of `node` begins (a Binary's own position is its operator)."""
    while isinstance(node, Binary):
        node = node.left
    return node.position


def _children(node) -> tuple:
    if isinstance(node, Binary):
        return (node.left, node.right)
    if isinstance(node, Unary):
        return (node.operand,)
    if isinstance(node, Call):
        return node.args
    return ()


def references(node) -> set:
    """The field names `node` refers to."""
    names, stack = set(), [node]
    while stack:
        current = stack.pop()
        if isinstance(current, FieldRef):
            names.add(current.name)
        stack.extend(_children(current))
    return names
