"""The grammar: `parse` turns formula text into a syntax tree, `unparse` prints a tree back as canonical text."""
from .errors import FormulaError, _short
from .lexer import _lex, _Token
from .limits import LIMITS, Limits
from .nodes import Binary, Boolean, Call, FieldRef, Number, String, Unary, _spine


# Lowest precedence first; every level is left-associative. Unary signs bind
# tighter than all of them.
_LEVELS = (("=", "!=", "<", ">", "<=", ">="), ("&",), ("+", "-"), ("*", "/"))
_PRECEDENCE = {op: rank for rank, ops in enumerate(_LEVELS) for op in ops}


def parse(text: str, limits: Limits = LIMITS):
    """The AST of `text`, or FormulaError naming the first problem and where it is."""
    if len(text) > limits.max_length:
        raise FormulaError(limits.max_length, f"formula is longer than {limits.max_length} characters")
    return _Parser(_lex(text), limits).formula()


class _Parser:
    def __init__(self, tokens: list, limits: Limits):
        self.tokens, self.index, self.depth, self.limits = tokens, 0, 0, limits

    @property
    def token(self) -> _Token:
        return self.tokens[self.index]

    def advance(self) -> _Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def enter(self, position: int) -> None:
        # Bounding depth here bounds the recursion of every later tree walk.
        self.depth += 1
        if self.depth > self.limits.max_nesting:
            raise FormulaError(position, f"formula is nested too deeply (more than {self.limits.max_nesting} levels)")

    def formula(self):
        if self.token.kind == "end":
            raise FormulaError(0, "empty formula")
        node = self.binary(0)
        if self.token.kind != "end":
            hint = " (no matching '(')" if self.token.kind == ")" else "; is an operator or comma missing?"
            raise FormulaError(self.token.position, f"unexpected {_describe_token(self.token)}{hint}")
        return node

    def binary(self, level: int):
        if level == len(_LEVELS):
            return self.unary()
        left = self.binary(level + 1)
        while self.token.kind == "op" and self.token.value in _LEVELS[level]:
            op = self.advance()
            left = Binary(op.value, left, self.binary(level + 1), op.position)
        return left

    def unary(self):
        if self.token.kind == "op" and self.token.value in "+-":
            op = self.advance()
            self.enter(op.position)
            operand = self.unary()
            self.depth -= 1
            return Unary(op.value, operand, op.position)
        return self.primary()

    def primary(self):
        token = self.advance()
        if token.kind == "number":
            return Number(token.value, token.position)
        if token.kind == "string":
            return String(token.value, token.position)
        if token.kind == "field":
            return FieldRef(token.value, token.position)
        if token.kind == "name":
            return self.name(token)
        if token.kind == "(":
            self.enter(token.position)
            node = self.binary(0)
            self.close(f"missing ')' for the '(' at position {token.position}")
            self.depth -= 1
            return node
        raise FormulaError(token.position, f"expected a value, found {_describe_token(token)}")

    def name(self, token: _Token):
        upper = token.value.upper()
        if self.token.kind != "(":
            if upper in ("TRUE", "FALSE"):
                return Boolean(upper == "TRUE", token.position)
            return FieldRef(token.value, token.position)    # Airtable allows a one-word field name bare
        opening = self.advance()
        self.enter(token.position)
        args = []
        if self.token.kind != ")":
            args.append(self.binary(0))
            while self.token.kind == ",":
                self.advance()
                args.append(self.binary(0))
        self.close(f"expected ',' or ')' in the arguments of {upper} (opened at position {opening.position})")
        self.depth -= 1
        if upper in ("TRUE", "FALSE"):
            if args:
                raise FormulaError(token.position, f"{upper} takes no arguments")
            return Boolean(upper == "TRUE", token.position)
        return Call(upper, tuple(args), token.position)

    def close(self, problem: str) -> None:
        if self.token.kind != ")":
            raise FormulaError(self.token.position, f"{problem}, found {_describe_token(self.token)}")
        self.advance()


def _describe_token(token: _Token) -> str:
    if token.kind == "end":
        return "the end of the formula"
    if token.kind == "number":
        return f"number {token.value}"
    if token.kind == "string":
        return f"text {_short(token.value)!r}"
    if token.kind == "field":
        return f"field {{{token.value}}}"
    if token.kind == "name":
        return f"name {token.value}"
    return repr(token.value)


def unparse(node) -> str:
    """Canonical text for `node`; parse(unparse(node)) == node for any tree the parser can build."""
    if isinstance(node, Binary):
        leaf, chain = _spine(node)
        text = unparse(leaf)
        for binary in chain:
            rank = _PRECEDENCE[binary.op]
            if isinstance(binary.left, Binary) and _PRECEDENCE[binary.left.op] < rank:
                text = f"({text})"
            right = unparse(binary.right)
            if isinstance(binary.right, Binary) and _PRECEDENCE[binary.right.op] <= rank:
                right = f"({right})"
            text = f"{text} {binary.op} {right}"
        return text
    if isinstance(node, Unary):
        operand = unparse(node.operand)
        return f"{node.op}({operand})" if isinstance(node.operand, Binary) else f"{node.op}{operand}"
    if isinstance(node, Call):
        return f"{node.name}({', '.join(unparse(arg) for arg in node.args)})"
    if isinstance(node, Number):
        return repr(node.value) if isinstance(node.value, float) else str(node.value)
    if isinstance(node, String):
        escaped = node.value.replace("\\", "\\\\").replace('"', '\\"')
        return '"' + escaped.replace("\n", "\\n").replace("\t", "\\t").replace("\r", "\\r") + '"'
    if isinstance(node, Boolean):
        return "TRUE" if node.value else "FALSE"
    if isinstance(node, FieldRef):
        return "{" + node.name + "}"
    raise TypeError(f"not a formula node: {node!r}")
