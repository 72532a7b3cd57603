// Import wizard (CSV → mapping → preview → commit → counts) and "Export view as CSV".
/** Toolbar elements: Import and Export buttons. */
export function transferTools(grid) {
  return [];
}
