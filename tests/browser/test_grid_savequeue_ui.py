"""The save queue (frontend/widgets/savequeue.js) with more edits than one request may carry: a paste of
50,005 cells goes to the real server as two requests in order, the second as soon as the first is
answered and against the version the edits were made on, and every cell is saved."""
import json

from .browser_helpers import column_ids, sign_in

ROWS = 10_001
FIELDS = ("name", "notes", "lead_source", "owner", "organization")  # 5 per row, then name again: 50,005 cells


def test_a_queue_longer_than_a_request_goes_in_parts(pages, server, admin):
    k = column_ids(admin)
    version = admin.get("/api/fundraising/state?rows=0").json()["data"]["version"]
    r = admin.post("/api/fundraising/ops", {"base_version": version, "ops": [
        {"op": "add_row", "row_id": f"q{n}"} for n in range(ROWS)]})
    assert r.status_code == 200, r.text
    base = r.json()["data"]["version"]
    page = pages.open("/")
    sign_in(page)
    posts = []
    page.on("request", lambda req: req.method == "POST" and req.url.endswith("/api/fundraising/ops")
            and posts.append(json.loads(req.post_data)))
    columns = [k[f] for f in FIELDS]
    # The last cell of each row is written twice (name): the queue keeps the later value.
    done = page.evaluate("""async ([base, rows, columns]) => {
      const { SaveQueue, fitting, MAX_CELL_CHANGES } = await import("/widgets/savequeue.js");
      const states = [];
      let resolve;
      const saved = new Promise((r) => { resolve = r; });
      const queue = new SaveQueue(base, {
        status: (state) => { states.push(state); if (state === "saved") resolve(); },
        applied: () => {}, conflict: async () => "mine", rejected: (ops, e) => states.push("rejected " + e.message),
        unfit: () => states.push("unfit"),
      });
      const ops = [];
      for (let n = 0; n < rows; n += 1) {
        for (const c of columns) ops.push({ op: "set_cell", row_id: `q${n}`, column_id: c, value: `v${n} ${c}` });
      }
      for (let n = 0; n < rows; n += 1) ops.push({ op: "set_cell", row_id: `q${n}`, column_id: columns[0], value: `last ${n}` });
      queue.pushMany(ops);  // the second name of each row replaces the first: 50,005 ops waiting
      await saved;
      queue.stop();
      return { states, limit: MAX_CELL_CHANGES, split: fitting(new Array(60000).fill({ op: "set_cell" })),
               rowOps: fitting([{ op: "add_row", cells: { a: 1, b: 2 } }], 1) };
    }""", [base, ROWS, columns])
    assert done["limit"] == 50_000 and done["split"] == 50_000 and done["rowOps"] == 1
    assert not [s for s in done["states"] if s.startswith("rejected") or s == "unfit"], done["states"]
    assert [len(p["ops"]) for p in posts] == [50_000, ROWS * 5 - 50_000]
    assert posts[0]["base_version"] == posts[1]["base_version"] == base
    rows = {r["id"]: r["cells"] for r in admin.get("/api/fundraising/state").json()["data"]["grid"]["rows"]}
    assert len(rows) == ROWS
    for n in (0, 1, 5000, ROWS - 1):
        cells = rows[f"q{n}"]
        assert cells[columns[0]] == f"last {n}" and cells[columns[1]] == f"v{n} {columns[1]}"
        assert cells[columns[4]] == f"v{n} {columns[4]}"
        assert cells[columns[2]] == f"v{n} {columns[2]}"
