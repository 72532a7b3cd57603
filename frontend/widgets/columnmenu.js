// A column header's menu: edit (name, type, options, fund, formula), hide, sort, freeze, delete.
/** Tabulator menu items for the column `columnId`. */
export function columnMenu(grid, columnId) {
  return [];
}
