// Ranges as tab-separated text, the way Google Sheets and Excel write and read it: a cell
// holding a tab, a line break or a quote is quoted, quotes doubled; lines end in CRLF.
import { contactsText } from "./contacts.js";

/** Rows of cell texts → TSV. */
export function toTsv(rows) {
  const quote = (text) => (/[\t\r\n"]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text);
  return rows.map((cells) => cells.map(quote).join("\t")).join("\r\n");
}

/** TSV → rows of cell texts (quoted cells may hold tabs and line breaks; one trailing line break is dropped). */
export function parseTsv(text) {
  const rows = [];
  let row = [];
  let cell = "";
  let i = 0;
  let quoted = false;
  let atCellStart = true;
  while (i < text.length) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { cell += '"'; i += 2; continue; }
      if (c === '"') { quoted = false; i += 1; continue; }
      cell += c; i += 1; continue;
    }
    if (c === '"' && atCellStart) { quoted = true; atCellStart = false; i += 1; continue; }
    atCellStart = false;
    if (c === "\t") { row.push(cell); cell = ""; atCellStart = true; i += 1; continue; }
    if (c === "\r" || c === "\n") {
      row.push(cell); rows.push(row); row = []; cell = ""; atCellStart = true;
      i += c === "\r" && text[i + 1] === "\n" ? 2 : 1;
      continue;
    }
    cell += c; i += 1;
  }
  if (!atCellStart || cell || row.length) { row.push(cell); rows.push(row); }
  return rows;
}

/** A cell value as clipboard text that pastes back into the same column (and reads well in a sheet). */
export function cellText(column, value) {
  if (value === null || value === undefined || value === "") return "";
  if (typeof value === "object" && !Array.isArray(value) && "error" in value) return String(value.error);
  switch (column?.type) {
    case "contacts": return contactsText(value);
    case "multi_select": return Array.isArray(value) ? value.join(", ") : String(value);
    case "checkbox": return value ? "checked" : "";
    case "percent": return typeof value === "number" ? `${Math.round(value * 1e10) / 1e8}%` : String(value);
    default: return Array.isArray(value) ? value.join(", ") : String(value);
  }
}
