"""Amounts as people write them: the one reader of number text for the importer and the grid.

`parse_amount("$1.5M")` → (1500000, "'$1.5M' read as 1,500,000"): plain and grouped numbers
(`2,500,000`, `-5`, `.5`), a currency sign before the number (`$`, `€`, `£`), a k/m/b
shorthand (`500k`, `1.5m`, `€250k`), and accounting negatives (`(1,000)`, `($5,000)`).
The warning (None for a plain number) says how a shorthand was read. Anything else is a
ValueError whose message names the text in plain words. The cases both sides rely on are in
tests/test_grid_typing.py; the importer (`importer/infer.py`) and the grid's cell check
(`fundraising/columns.clean_value`, which takes such text for number, currency, fund and
percent cells) both read through here (`read_number_text`).
"""
import re

AMOUNT = re.compile(
    r"^(?P<sign>-)?\s*(?P<cur>[$€£])?\s*(?P<sign2>-)?\s*"
    r"(?P<num>(\d{1,3}(,\d{3})+|\d+)?(\.\d+)?)\s*(?P<suffix>[kKmMbB])?$")
SUFFIX = {"k": 1e3, "m": 1e6, "b": 1e9}
PERCENT = re.compile(r"^(-?\d+(\.\d+)?)\s*%$")
PLAIN_NUMBER = re.compile(r"^-?(\d{1,3}(,\d{3})+|\d+)?(\.\d+)?$")


def read_number_text(kind: str, text: str) -> tuple:
    """(value, warning or None) for text typed or imported into a number, currency, fund or
    percent cell: `50%` is 0.5 in a number or percent cell, amounts as parse_amount reads them."""
    if kind in ("number", "percent") and text.strip().endswith("%"):
        return parse_percent(text), None
    if kind == "percent" and not PLAIN_NUMBER.match(text.strip()):
        raise ValueError(f"{text.strip()!r} is not a percentage")  # no money shorthand for a share
    return parse_amount(text)


def parse_percent(text: str) -> float:
    """`12.5%` → 0.125: percentages are stored as fractions."""
    match = PERCENT.match(text.strip())
    if not match:
        raise ValueError(f"{text.strip()!r} is not a percentage")
    return tidy(round(float(match.group(1)) / 100, 12))


def parse_amount(text: str) -> tuple:
    """(number, warning or None), or ValueError: the text is not an amount."""
    if not isinstance(text, str):
        raise ValueError("not an amount")
    cleaned = text.strip()
    body = cleaned
    accounting = body.startswith("(") and body.endswith(")")
    if accounting:
        body = body[1:-1].strip()
    match = AMOUNT.match(body)
    if not match or not match.group("num") or match.group("num") == "." or (accounting and (match.group("sign") or match.group("sign2"))):
        raise ValueError(f"{cleaned!r} is not a number")
    if match.group("sign") and match.group("sign2"):
        raise ValueError(f"{cleaned!r} is not a number")
    amount = float(match.group("num").replace(",", ""))
    warning = None
    if match.group("suffix"):
        amount = round(amount * SUFFIX[match.group("suffix").lower()], 6)  # 1.1m is 1100000, not ...0002
        warning = f"{cleaned!r} read as {amount:,.0f}" if amount.is_integer() else f"{cleaned!r} read as {amount:,}"
    if match.group("sign") or match.group("sign2") or accounting:
        amount = -amount
    return tidy(amount), warning


def tidy(number: float):
    """Whole floats as ints (1500000.0 → 1500000), so JSON and the grid show no trailing .0."""
    return int(number) if float(number).is_integer() and abs(number) < 2 ** 53 else number
