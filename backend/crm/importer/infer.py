"""What a spreadsheet cell means: parsers for the text Airtable (and hand-edited sheets) write,
and the column type a whole CSV column most likely holds.

Each parser takes the cell text and returns the value as the grid stores it,
or raises ValueError. `infer_column` tries the types from most to least
specific and picks the first that reads (nearly) every non-empty value,
reporting how sure it is and which cells did not fit.
"""
import csv
import io
import re
from datetime import datetime

from ..amounts import PLAIN_NUMBER, parse_amount, parse_percent, tidy as _tidy
from ..validation import EMAIL

COLLABORATOR = re.compile(r"^\s*(.*?)\s*<([^<>\s]+@[^<>\s]+)>\s*$")
ATTACHMENT = re.compile(r"^.+\s\((https?://[^)]+)\)$")
CHECKED = {"checked", "true", "yes", "x", "✓", "✔"}
UNCHECKED = {"", "unchecked", "false", "no"}
DATE_FORMATS = ("%m/%d/%Y", "%Y-%m-%d", "%m/%d/%y", "%Y/%m/%d")
DATE_SHAPE = re.compile(r"^(\d{1,4}[/-]\d{1,2}[/-]\d{1,4})([ T].*)?$")  # (date part, time part)
TIME_SUFFIXES = (" %I:%M%p", " %I:%M %p", " %H:%M", " %H:%M:%S", "T%H:%M:%S", "T%H:%M:%SZ", "T%H:%M:%S.%fZ", "T%H:%M")
MOSTLY = 0.9  # the share of a column's non-empty cells a type must read to be inferred


def parse_number(text: str) -> float:
    """A plain or grouped number (`1,234.5`, `-3`), as inference tells numbers from amounts."""
    cleaned = text.strip()
    if not cleaned or not PLAIN_NUMBER.match(cleaned) or cleaned in ("-", "."):
        raise ValueError("not a number")
    return parse_amount(cleaned)[0]


def parse_currency(text: str) -> tuple:
    """(amount, warning or None) for text with a currency sign: `$1,234.50`, `-$5,000`, `$1.5M`."""
    if not re.search(r"[$€£]", text):
        raise ValueError("not an amount")
    return _amount(text)


def _amount(text: str) -> tuple:
    """Any amount crm.amounts reads (`$1.5M`, `500k`, `(1,000)`, `2,500,000`): the grid reads typing the same way."""
    try:
        return parse_amount(text)
    except ValueError:
        raise ValueError("not an amount") from None


def parse_date(text: str) -> str:
    """M/D/YYYY or YYYY-MM-DD, with or without a time → YYYY-MM-DD (or an ISO date-time when a time is given)."""
    text = text.strip()
    shape = DATE_SHAPE.match(text)
    if not shape:  # cheap: strptime keeps only 5 formats compiled, and inference tries every cell of every column
        raise ValueError("not a date")
    for day in DATE_FORMATS:
        try:
            date = datetime.strptime(shape.group(1), day)
        except ValueError:
            continue
        if not shape.group(2):
            return date.date().isoformat()
        for clock in TIME_SUFFIXES:
            try:
                moment = datetime.strptime(text.upper() if "%p" in clock else text, day + clock)
            except ValueError:
                continue
            return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    raise ValueError("not a date")


def parse_checkbox(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in CHECKED:
        return True
    if lowered in UNCHECKED:
        return False
    raise ValueError("not a checkbox")


def parse_list(text: str) -> list:
    """Comma-separated items, where an item holding a comma is quoted ("Smith, Jones", Acme)."""
    if not text.strip():
        return []
    items = next(csv.reader(io.StringIO(text), skipinitialspace=True))
    seen = []
    for item in (i.strip() for i in items):
        if item and item not in seen:
            seen.append(item)
    return seen


def parse_people(text: str) -> list:
    """Collaborator or contact cells: `Name <email>, Other <email>` (names alone are kept too)."""
    people = []
    for item in parse_list(text):
        match = COLLABORATOR.match(item)
        if match:
            people.append({"name": match.group(1) or None, "email": match.group(2).lower()})
        elif EMAIL.match(item):
            people.append({"name": None, "email": item.lower()})
        else:
            people.append({"name": item, "email": None})
    return people


def parse_email(text: str) -> str:
    value = text.strip().lower()
    if not EMAIL.match(value):
        raise ValueError("not an email address")
    return value


def parse_url(text: str) -> str:
    value = text.strip()
    if not re.match(r"^https?://\S+$", value):
        raise ValueError("not a web address")
    return value


def convert(text: str, column_type: str):
    """Cell text → the value a column of `column_type` stores. Returns (value, warning); raises ValueError."""
    text = text if text is not None else ""
    if column_type == "checkbox":
        return parse_checkbox(text), None
    if not text.strip():
        return None, None
    if column_type in ("number", "percent") and text.strip().endswith("%"):
        return parse_percent(text), None
    if column_type in ("number", "currency", "fund"):
        return _amount(text)
    if column_type == "percent":
        return parse_number(text), None
    if column_type == "date":
        return parse_date(text), None
    if column_type == "email":
        return parse_email(text), None
    if column_type == "url":
        return parse_url(text), None
    if column_type == "multi_select":
        return parse_list(text), None
    if column_type == "contacts":
        return parse_people(text), None
    if column_type == "single_select":
        return text.strip(), None
    return text if column_type == "long_text" else text.strip(), None


# -- inference -------------------------------------------------------------------

def _reads(values, column_type, total) -> tuple:
    """(how many read, problems [(index, message)], warnings), or None as soon as too many failed for
    the type to be chosen (a column of names need not be read in full as numbers, dates, emails and
    web addresses). Each distinct text is read once: a column repeats its statuses, owners and amounts."""
    good, problems, warnings, seen = 0, [], [], {}
    for index, text in values:
        found = seen.get(text)
        if found is None:
            try:
                found = (True, convert(text, column_type)[1])
            except ValueError as exc:
                found = (False, str(exc))
            seen[text] = found
        if found[0]:
            good += 1
            if found[1]:
                warnings.append((index, found[1]))
        else:
            problems.append((index, found[1]))
            if (total - len(problems)) / total < MOSTLY:
                return None
    return good, problems, warnings


def infer_column(header: str, cells: list) -> dict:
    """The likely type of a column from its cells: {type, confidence, problems, warnings, options}."""
    values = [(i, c) for i, c in enumerate(cells) if c is not None and c.strip()]
    if not values:
        return {"type": "text", "confidence": 0.0, "problems": [], "warnings": [], "options": []}
    total = len(values)
    lowered = {c.strip().lower() for _, c in values}
    if lowered <= {"checked"} or lowered <= {"true", "false"}:  # Airtable writes "checked" or nothing
        return _result("checkbox", total, total, [], [])
    for column_type in ("percent", "currency", "number", "date", "email", "url"):
        if column_type == "percent" and not all(c.strip().endswith("%") for _, c in values):
            continue
        if column_type == "currency" and not any(re.search(r"[$€£]", c) for _, c in values):
            continue
        read = _reads(values, column_type, total)
        if read is None:
            continue
        good, problems, warnings = read
        if good / total >= MOSTLY:
            return _result(column_type, good, total, problems, warnings)
    if all(COLLABORATOR.match(item) for _, c in values for item in parse_list(c)):
        return _result("contacts", total, total, [], [])
    if any("\n" in c or len(c) > 255 for _, c in values):
        return _result("long_text", total, total, [], [])
    return _select_or_text(values, total, header)


def _select_or_text(values, total, header) -> dict:
    parsed = {}
    items = [parsed[c] if c in parsed else parsed.setdefault(c, parse_list(c)) for _, c in values]
    distinct = {i for row in items for i in row}
    several = sum(1 for row in items if len(row) > 1)
    if several and len(distinct) <= max(3, total // 3) and not any(ATTACHMENT.match(c) for _, c in values):
        return {**_result("multi_select", total, total, [], []), "options": sorted(distinct, key=str.lower)}
    whole = {c.strip() for _, c in values}
    if len(whole) <= min(30, max(2, total // 4)) and total >= 4:
        return {**_result("single_select", total, total, [], []), "options": sorted(whole, key=str.lower)}
    return _result("text", total, total, [], [])


def _result(column_type, good, total, problems, warnings) -> dict:
    return {"type": column_type, "confidence": round(good / total, 3), "problems": problems, "warnings": warnings, "options": []}


def normalise_header(text: str) -> str:
    """`  Fund III (USD) ` → `fund iii usd`: how headers are compared with column names."""
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text.lower()).split())
