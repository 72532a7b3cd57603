// The row detail drawer: fields, contacts, commitments, communications, history, comments.
/** Open the drawer for row `rowId`. */
export function openDrawer(grid, rowId) {
}
