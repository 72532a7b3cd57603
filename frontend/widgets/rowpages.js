// Pages of grid rows as Tabulator's row data. The grid asks GET /api/fundraising/rows for its compact
// shape (backend fundraising/compact.py): the page column by column, `data` holding one array per
// row field (`fields`), then one per column (`columns`), each with a value per row. A null is a null
// cell in the columns `nulls` lists and no cell elsewhere, except at the [row, column]s in `odd`.

export const ROW_SHAPE = "compact";

/** GET /rows's URL for `params` (view, search, version) at `offset`, `limit` rows, in `shape`: one
 * place, so the boot prefetch (app.js) asks the very URL the grid's first page does. */
export function rowsUrl(base, params, { offset = 0, limit, shape = ROW_SHAPE }) {
  params = new URLSearchParams(params);
  params.set("offset", String(offset));
  params.set("limit", String(limit));
  params.set("shape", shape);  // column by column, each column id once: fewer bytes, read faster (docs/PERFORMANCE.md)
  return `${base}?${params}`;
}

/** The first page of the grid's view `viewId` ("" for none), as the grid asks it before any search. */
export const firstRowsUrl = (base, viewId, limit) => rowsUrl(base, viewId ? { view_id: viewId } : {}, { limit });

// The API's full {id, cells} row as row data; the cells object is reused (no copy of 10,000 rows).
export const fromFull = (row) => Object.assign(row.cells, { id: row.id });

/** A page's rows, in either shape, as row data: {id, <column id>: value...}, empty cells left out as the full shape leaves them. */
export function rowsOf(page) {
  if (page.shape !== ROW_SHAPE) return page.data.map(fromFull);
  const { columns, fields, data } = page;
  const width = fields.length;
  const ids = data[fields.indexOf("id")];
  const rows = new Array(ids.length);
  for (let r = 0; r < ids.length; r++) rows[r] = { id: ids[r] };
  const keepsNull = new Uint8Array(columns.length);
  for (const n of page.nulls) keepsNull[n] = 1;
  // Column by column: every row gains its keys in the same order, so the rows share their shapes.
  for (let n = 0; n < columns.length; n++) {
    const values = data[width + n], key = columns[n];
    if (keepsNull[n]) {
      for (let r = 0; r < rows.length; r++) rows[r][key] = values[r];
    } else {
      for (let r = 0; r < rows.length; r++) if (values[r] !== null) rows[r][key] = values[r];
    }
  }
  for (const [r, n] of page.odd) {  // a null cell where nulls are none, or no cell where they are cells
    if (keepsNull[n]) delete rows[r][columns[n]]; else rows[r][columns[n]] = null;
  }
  return rows;
}
