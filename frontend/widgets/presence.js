// Presence on the grid: this tab's heartbeats (where its cursor is, whether it is editing), the
// others' avatars in the header and their cells outlined, the cells they are editing locked here,
// and a closing tab leaving the others' screens at once.
import { api, authHeaders, token } from "../api.js";
import { API, TIMING } from "../config.js";
import { h, initials } from "../dom.js";

/**
 * `grid`: the grid's API (me, table, view, rowOf); `activeCell()`: the selected cell;
 * `editingActive()`: whether its editor is open; `el`: the header's presence element.
 */
export function presence(grid, { activeCell, editingActive, el }) {
  const me = grid.me;
  const tab = crypto.randomUUID();  // this tab's own presence: a person may have several tabs open
  let people = [];                  // presence of others (one entry per tab they have open)
  let lastBeat = "";
  let lastBeatAt = 0;
  let beatTimer = null;
  let beating = Promise.resolve();  // one heartbeat at a time, so the server sees them in order
  let outlined = [];

  function lockedByOther(cell) {
    // Tabulator asks this of every cell it draws; getIndex copies the row's data, so first the cheap test.
    if (!people.some((p) => p.editing)) return false;
    const rowId = cell.getRow().getIndex();
    return people.some((p) => p.user_id !== me.id && p.editing && p.cell?.row_id === rowId && p.cell?.column_id === cell.getField());
  }

  function heartbeat(cell = activeCell(), editing = false) {
    clearTimeout(beatTimer);
    // While editing, look every second whether the editor closed: keeping a value unchanged closes it with no event.
    beatTimer = setTimeout(() => heartbeat(activeCell(), editingActive()), editing ? 1000 : TIMING.heartbeatMs);
    const body = { view_id: grid.view()?.id ?? null, cell: cell ? { row_id: cell.getRow().getIndex(), column_id: cell.getField() } : null, editing, tab };
    const key = JSON.stringify(body);
    if (navigator.onLine === false) return;  // it could only fail; the next one after the link is back says it
    if (key === lastBeat && Date.now() - lastBeatAt < TIMING.heartbeatMs - 1000) return;  // the same, said lately
    lastBeat = key;
    lastBeatAt = Date.now();
    beating = beating.then(() => api("POST", API.heartbeat, body, { quiet: true }).then(showMine, () => {}));
  }

  // Your own avatar in the header takes the colour the others see you in.
  function showMine(answer) {
    const mine = document.querySelector(".topbar .avatar.me");
    if (mine && answer?.you?.color) { mine.style.backgroundColor = answer.you.color; mine.dataset.coloured = ""; }
  }

  // A closing tab says so, and leaves the others' screens at once (otherwise it would expire after
  // 60 s). sendBeacon cannot carry the Authorization header: a keepalive fetch can, and outlives the page.
  function leave() {
    clearTimeout(beatTimer);
    if (!token()) return;
    fetch(API.leave, { method: "POST", keepalive: true, headers: authHeaders({ "Content-Type": "application/json" }), body: JSON.stringify({ tab }) }).catch(() => {});
  }

  // Back from the back-forward cache: present again at once.
  const onPageShow = (event) => { if (event.persisted && grid.table) { lastBeat = ""; heartbeat(); } };
  window.addEventListener("pageshow", onPageShow);

  function show(list) {
    people = list.filter((p) => p.user_id !== me.id);
    // One avatar a person, however many tabs they have open; each tab's cell is outlined.
    const persons = new Map();
    for (const p of people) persons.set(p.user_id, { ...p, editing: p.editing || Boolean(persons.get(p.user_id)?.editing) });
    el?.replaceChildren(...[...persons.values()].map((p) => {
      const a = h("span.avatar", { title: `${p.display_name || p.username}${p.editing ? " (editing)" : ""}`, dataset: { userId: p.user_id, coloured: "" } }, initials(p));
      a.style.backgroundColor = p.color;
      return a;
    }));
    for (const cell of outlined) { cell.classList.remove("peer-cell"); cell.style.removeProperty("--peer"); delete cell.dataset.peer; }
    outlined = [];
    for (const p of people) {
      if (!p.cell || !grid.table) continue;
      const cell = (grid.rowOf(p.cell.row_id)?.getCell(p.cell.column_id) || null)?.getElement();
      if (!cell) continue;
      cell.classList.add("peer-cell");
      cell.style.setProperty("--peer", p.color);
      if (p.editing) cell.dataset.peer = p.display_name || p.username;  // their name on the cell (app.css); it is read-only here
      outlined.push(cell);
    }
  }

  return {
    lockedByOther, heartbeat, show, leave,
    stop() { leave(); window.removeEventListener("pageshow", onPageShow); },
  };
}
