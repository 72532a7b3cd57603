"""The lexer: formula text to tokens (numbers, quoted text, {fields}, names, operators, parentheses, commas)."""
import math
import re
from dataclasses import dataclass

from .errors import FormulaError


@dataclass(frozen=True)
class _Token:
    kind: str       # number, string, field, name, op, (, ), ",", end
    value: object
    position: int


_NUMBER = re.compile(r"([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r"}
_TWO_CHAR_OPS = {"!=": "!=", "<>": "!=", "<=": "<=", ">=": ">="}
_ONE_CHAR_OPS = set("+-*/&=<>")


def _lex(text: str) -> list:
    tokens, i = [], 0
    while i < len(text):
        c = text[i]
        if c.isspace():
            i += 1
        elif c in "0123456789" or (c == "." and _NUMBER.match(text, i)):
            token, i = _lex_number(text, i)
            tokens.append(token)
        elif c in "\"'":
            token, i = _lex_string(text, i)
            tokens.append(token)
        elif c == "{":
            end = text.find("}", i + 1)
            if end < 0:
                raise FormulaError(i, "missing '}' to close the field name")
            name = text[i + 1:end].strip()
            if not name:
                raise FormulaError(i, "empty field name {}")
            tokens.append(_Token("field", name, i))
            i = end + 1
        elif _NAME.match(text, i):
            match = _NAME.match(text, i)
            tokens.append(_Token("name", match.group(), i))
            i = match.end()
        elif text[i:i + 2] in _TWO_CHAR_OPS:
            tokens.append(_Token("op", _TWO_CHAR_OPS[text[i:i + 2]], i))
            i += 2
        elif c in _ONE_CHAR_OPS:
            tokens.append(_Token("op", c, i))
            i += 1
        elif c in "(),":
            tokens.append(_Token(c, c, i))
            i += 1
        else:
            raise FormulaError(i, f"unexpected character {c!r}")
    tokens.append(_Token("end", None, len(text)))
    return tokens


def _lex_number(text: str, i: int):
    match = _NUMBER.match(text, i)
    literal = match.group()
    if "." in literal or match.group(2):
        value = float(literal)
        if not math.isfinite(value):
            raise FormulaError(i, f"number too large: {literal}")
    else:
        value = int(literal)
    return _Token("number", value, i), match.end()


def _lex_string(text: str, start: int):
    quote, chars, i = text[start], [], start + 1
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text):
            chars.append(_ESCAPES.get(text[i + 1], text[i + 1]))
            i += 2
        elif c == quote:
            return _Token("string", "".join(chars), start), i + 1
        else:
            chars.append(c)
            i += 1
    raise FormulaError(start, f"unterminated text: missing the closing {quote}")
