// The server's group totals, for a grouped view held as a window of rows (rowwindow.js): Tabulator's
// groups hold every row's placeholder but only the fetched rows' cells, so a header summing its rows
// would count only those. GET /rows answers each group's count and sums (filters.group_rows), keyed as
// the server groups; the table's groups are keyed by viewtools' groupKey (the value as shown). Both
// come in the order their first row appears in the listing, so the listing's grouped values
// (shape=ids' group_values) pair them: the n-th new table key is the n-th server group.

export class GroupTotals {
  /**
   * `groups`: the server's [{key, count, sums}]; `values`: the grouped column's value of each row of the
   * listing, in order; `keyOf(value)`: the table's group key of a value. Unusable (`ok` false) when the two
   * keyings do not split the rows alike (the counts differ): the headers then sum the rows held.
   */
  constructor(groups, values, keyOf) {
    this.tableKey = new Map();  // String(server key) -> the table's key
    this.totals = new Map();    // the table's key -> {count, sums}
    const counts = new Map();
    for (const value of values) {
      const key = keyOf(value);
      const n = counts.get(key);
      if (n === undefined && !this.pair(groups[counts.size], key)) { this.ok = false; return; }
      counts.set(key, (n || 0) + 1);
    }
    this.ok = counts.size === groups.length && [...counts].every(([key, n]) => this.totals.get(key).count === n);
  }

  pair(group, key) {
    if (!group) return false;
    this.tableKey.set(String(group.key), key);
    this.totals.set(key, group);
    return true;
  }

  /** The server's {count, sums} of the table's group `key`, or null (unknown: a group made since). */
  get(key) { return (this.ok && this.totals.get(key)) || null; }

  /** Newer totals from the server (after edits): the groups already paired take them. */
  update(groups) {
    const now = new Map((groups || []).map((group) => [String(group.key), group]));
    for (const [serverKey, key] of this.tableKey) this.totals.set(key, now.get(serverKey) || { key: serverKey, count: 0, sums: {} });
  }
}
