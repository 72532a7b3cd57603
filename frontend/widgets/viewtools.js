// View tools: filter builder, sorts, group-by, hidden fields, frozen columns, and saving views.
/** Toolbar elements for the current view. */
export function viewTools(grid) {
  return [];
}
