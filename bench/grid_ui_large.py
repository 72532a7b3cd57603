"""grid_ui_bench's large-range operations: select a range of N rows x 10 columns, copy it, paste it, fill down.

Driven the way a person does it, on a page with every row in:
  - select: a click on the range's top-left cell, then (scrolled there) a
    Shift+click on its bottom-right one; timed from the Shift+click's start
    (Python's clock) to two animation frames after it (the range drawn);
  - copy: Ctrl+C (the grid answers it with document.execCommand("copy") and
    writes the range as TSV in its copy listener): timed in page time from the
    keydown to the end of the grid's copy listener; the TSV must be N lines of
    10 cells;
  - paste: a click on one cell N rows further down (same first column), then
    a paste event carrying that TSV dispatched where the focus is (what the
    browser does on Ctrl+V; headless Chromium has no system clipboard to read):
    timed to the end of the grid's handler and to two frames after; then until
    the save line says "All changes saved" (the ops sent and answered). Copying
    the pasted range again must give the same TSV;
  - fill: the range of N rows below that (top row the source), Ctrl+D: timed
    from the keydown to two frames after, and until saved; copying it again
    must give N copies of its first line.
Anything else (a page error, a console error, an ops request answered with
an error status, a save line that never says saved) is a problem of the run.
"""
import re
import time

import grid_ui_js as js

SAVE_TIMEOUT_MS = 300_000


def columns_for(page, investor: str, want: int = 10) -> list:
    """`want` data columns from the second visible one on (the first, Investor, is the remote edits' cell)."""
    fields = [c["field"] for c in page.evaluate(js.HEADER_FIELDS) if c["field"] != investor]
    return fields[:want]


def row_cell(page, n: int, field: str):
    """Row n's (1-based, as numbered) cell in `field`, once drawn."""
    number = page.locator(".row-number").filter(has_text=re.compile(rf"^{n}$"))
    return page.locator("#grid .tabulator-row").filter(has=number).locator(f".tabulator-cell[tabulator-field='{field}']").first


def click_cell(page, n: int, field: str, shift: bool = False) -> None:
    if not page.evaluate(js.SHOW_CELL, [n, field]):
        raise RuntimeError(f"row {n}'s cell {field} was never drawn")
    row_cell(page, n, field).click(modifiers=["Shift"] if shift else None)


def select(page, top: int, bottom: int, fields: list) -> float:
    """Select rows top..bottom x fields; ms from the Shift+click's start to two frames after."""
    click_cell(page, top, fields[0])
    page.evaluate(js.FRAMES)
    if not page.evaluate(js.SHOW_CELL, [bottom, fields[-1]]):
        raise RuntimeError(f"row {bottom} never drawn")
    target = row_cell(page, bottom, fields[-1])
    target.wait_for()
    t0 = time.perf_counter()
    target.click(modifiers=["Shift"])
    page.evaluate(js.FRAMES)
    return (time.perf_counter() - t0) * 1000


def copy(page) -> dict:
    page.evaluate(js.COPY_WATCH)
    page.keyboard.press("Control+c")
    page.wait_for_function("() => window.__copy !== null", polling=50)
    return page.evaluate(js.COPIED)


def wait_saved(page, since: float, problems: list, what: str) -> float:
    ms = page.evaluate(js.SAVED, [since, SAVE_TIMEOUT_MS])
    if ms is None:
        problems.append(f"{what}: never saved (save line: {page.evaluate(js.STATUS)!r})")
    return ms


def run(page, size: int, rows: int, investor: str, samples: dict, problems: list) -> None:
    """The four operations on ranges of `rows` rows x 10 columns; figures into samples[...] lists."""
    fields = columns_for(page, investor)
    if len(fields) < 10:
        problems.append(f"only {len(fields)} data columns to select")
    src, dst, fill = 2, 2 + rows, 2 + 2 * rows   # three ranges, one after the other, none holding row 1
    if fill + rows - 1 > size:
        raise RuntimeError(f"{size} rows hold no three ranges of {rows}")
    samples["select_ms"].append(select(page, src, src + rows - 1, fields))
    got = copy(page)
    samples["copy_ms"].append(got["ms"])
    if (got["lines"], got["fields"]) != (rows, len(fields)):
        problems.append(f"copy: {got['lines']} lines x {got['fields']} cells, not {rows} x {len(fields)}")
    text = page.evaluate(js.COPIED_TEXT)
    samples["copy_mib"].append(got["chars"] / 2**20)

    click_cell(page, dst, fields[0])
    page.evaluate(js.FRAMES)
    t0 = page.evaluate(js.NOW)
    pasted = page.evaluate(js.PASTE, text)
    samples["paste_ms"].append(pasted["handled_ms"])
    samples["paste_frame_ms"].append(pasted["frame_ms"])
    samples["paste_saved_ms"].append(wait_saved(page, t0, problems, "paste"))
    select(page, dst, dst + rows - 1, fields)
    again = copy(page)
    if page.evaluate(js.COPIED_TEXT) != text:
        problems.append(f"paste: the pasted range copies back differently ({again['lines']} lines)")

    select(page, fill, fill + rows - 1, fields)
    page.evaluate(js.KEY_WATCH)
    t0 = page.evaluate(js.NOW)
    page.keyboard.press("Control+d")
    samples["fill_ms"].append(page.evaluate(js.KEY_DONE))
    samples["fill_saved_ms"].append(wait_saved(page, t0, problems, "fill"))
    copy(page)
    lines = (page.evaluate(js.COPIED_TEXT) or "").split("\r\n")
    if len(lines) != rows or len(set(lines)) != 1:
        problems.append(f"fill: {len(lines)} lines, {len(set(lines))} different")
