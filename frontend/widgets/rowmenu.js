// A row's right-click menu (details, log communication, archive) and the archived-rows list.
/** Tabulator context menu items for `row`. */
export function rowMenu(grid, row) {
  return [];
}

/** Toolbar elements: the archived rows button. */
export function rowTools(grid) {
  return [];
}
