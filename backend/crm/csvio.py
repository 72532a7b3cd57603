"""CSV in and out, in one place: what spreadsheets write, and what is safe to open in one.

Reading accepts UTF-8 with or without a byte-order mark, CRLF or LF, and
quoted fields holding commas, quotes and newlines (the csv module's dialect
is what Airtable, Google Sheets and Excel write). Writing guards against
formula injection: a cell that a spreadsheet would evaluate (=, @, or + / -
followed by more than a number) is prefixed with an apostrophe, and reading
removes exactly that prefix again, so an export imports back unchanged.
"""
import csv
import io
import re

from .errors import Invalid

_SAFE_SIGNED = re.compile(r"^[+-][\d\s().,-]*$")


def needs_guard(text: str) -> bool:
    if not text:
        return False
    if text[0] == "'":  # "'=x" is stored text: guard it too, or reading would strip its own apostrophe
        return needs_guard(text[1:])
    if text[0] in "=@\t\r":
        return True
    return text[0] in "+-" and not _SAFE_SIGNED.match(text)


_RISKY_FIRST = frozenset("'=@\t\r+-")  # needs_guard is False for text starting with anything else


def guard(value) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text and text[0] in _RISKY_FIRST and needs_guard(text) else text


def unguard(text: str) -> str:
    return text[1:] if text.startswith("'") and needs_guard(text[1:]) else text


def write(header: list, rows) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([guard(v) for v in row])
    return out.getvalue()


def read(data: bytes) -> tuple:
    """(header, rows) from CSV bytes; rows are lists of strings, wholly blank rows dropped.

    Each row is paired with its row number as a spreadsheet shows it (header = row 1): a quoted
    cell spanning several lines is still one row, so the numbers are counted, not reader.line_num.
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Invalid({"file": f"is not UTF-8 text (bad byte at position {exc.start})"}) from None
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
        if header is None or not any(h.strip() for h in header):
            raise Invalid({"file": "has no header row"})
        rows = []
        for number, values in enumerate(reader, start=2):
            if any(v.strip() for v in values):
                rows.append((number, [unguard(v) for v in values]))
    except csv.Error as exc:
        raise Invalid({"file": f"is not valid CSV near line {reader.line_num}: {exc}"}) from None
    return [h.strip() for h in header], rows
