// The header's search box (Ctrl/Cmd+K from anywhere): investors, contacts, organizations and, for
// admins when capture is on (`features`, GET /api/features), captured email, five of each as the reader types; a hit opens its record. A combobox with
// a listbox (arrow keys move, Enter opens, Escape closes), asked again 200 ms after the last key.
import { api } from "../api.js";
import { h } from "../dom.js";

const LIMIT = 5;
const WAIT_MS = 200;

// Each source: what it asks and how a hit reads and opens. `admin`: for admins only.
const SOURCES = [
  { name: "Investors", ask: (q) => `/api/fundraising/rows?limit=${LIMIT}&q=${q}`,
    hit: (row, names) => ({ label: names.name(row) || "Unnamed investor", detail: names.organization(row), href: `/?row=${encodeURIComponent(row.id)}` }) },
  { name: "Contacts", ask: (q) => `/api/contacts?limit=${LIMIT}&q=${q}`,
    hit: (c) => ({ label: [c.first_name, c.last_name].filter(Boolean).join(" ") || c.email || "Unnamed contact", detail: c.email, href: `/contacts/${encodeURIComponent(c.id)}` }) },
  { name: "Organizations", ask: (q) => `/api/organizations?limit=${LIMIT}&q=${q}`,
    hit: (o) => ({ label: o.name, detail: o.domain, href: `/organizations/${encodeURIComponent(o.id)}` }) },
  { name: "Email", admin: true, ask: (q) => `/api/email/activity?limit=${LIMIT}&q=${q}`,
    hit: (e) => ({ label: e.subject || "(no subject)", detail: e.from?.name || e.from?.email, href: `/communications?q=${encodeURIComponent(e.subject || "")}&email=${encodeURIComponent(e.id)}` }) },
];

export function searchBox({ me, navigate, features }) {
  const input = h("input.global-search", { type: "search", placeholder: "Search  (Ctrl K)", role: "combobox",
    "aria-label": "Search everything: investors, contacts, organizations", "aria-expanded": "false", "aria-controls": "global-search-results",
    "aria-autocomplete": "list", autocomplete: "off" });
  const list = h("ul.search-results", { id: "global-search-results", role: "listbox", "aria-label": "Search results", hidden: true });
  const element = h("div.search", { role: "search" }, input, list);
  const sources = SOURCES.filter((s) => (!s.admin || me.role === "admin") && (s.name !== "Email" || features.email_capture));
  let names = null, waiting, asked = 0, options = [], active = -1;

  async function columnNames() {  // the grid's Investor and Organization columns, found once
    if (!names) {
      const state = await api("GET", "/api/fundraising/state?rows=0");
      const by = Object.fromEntries(state.grid.columns.filter((c) => c.key).map((c) => [c.key, c.id]));
      names = { name: (row) => row.cells[by.name], organization: (row) => row.cells[by.organization] };
    }
    return names;
  }

  async function find(text) {
    const mine = ++asked;
    const q = encodeURIComponent(text);
    const found = await Promise.all(sources.map(async (source) => {
      try {
        const items = await api("GET", source.ask(q), undefined, { quiet: true });
        const columns = source.name === "Investors" ? await columnNames() : null;
        return { source, hits: items.map((item) => source.hit(item, columns)) };
      } catch (error) {  // a source that failed says so, and the rest still show
        return { source, hits: [], problem: error.message };
      }
    }));
    if (mine === asked) show(found);
  }

  function show(found) {
    options = [];
    const groups = found.filter((g) => g.hits.length || g.problem).map(({ source, hits, problem }) =>
      h("li.search-group", { role: "presentation" }, h("div.search-group-name", { role: "presentation" }, source.name),
        problem ? h("div.muted", { role: "presentation" }, problem) : null,
        h("ul", { role: "group", "aria-label": source.name }, ...hits.map((hit) => {
          const option = h("li.search-hit", { role: "option", id: `search-hit-${options.length}`, "aria-selected": "false",
            onmousedown: (e) => { e.preventDefault(); open(hit); } },
            h("span.search-hit-label", {}, hit.label), hit.detail ? h("span.search-hit-detail", {}, hit.detail) : null);
          options.push({ option, hit });
          return option;
        }))));
    list.replaceChildren(...(groups.length ? groups : [h("li.muted", { role: "presentation" }, "Nothing found.")]));
    active = options.length ? 0 : -1;
    mark();
    setOpen(true);
  }

  function mark() {
    options.forEach(({ option }, i) => option.setAttribute("aria-selected", String(i === active)));
    if (active >= 0) {
      input.setAttribute("aria-activedescendant", options[active].option.id);
      options[active].option.scrollIntoView({ block: "nearest" });
    } else input.removeAttribute("aria-activedescendant");
  }

  function setOpen(open) {
    list.hidden = !open;
    input.setAttribute("aria-expanded", String(open));
  }

  function open(hit) {
    setOpen(false);
    input.value = "";
    input.blur();
    navigate(hit.href);
  }

  input.addEventListener("input", () => {
    clearTimeout(waiting);
    const text = input.value.trim();
    if (!text) { asked++; setOpen(false); return; }
    waiting = setTimeout(() => find(text), WAIT_MS);
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      if (!options.length) return;
      event.preventDefault();
      active = (active + (event.key === "ArrowDown" ? 1 : options.length - 1)) % options.length;
      mark();
    } else if (event.key === "Enter" && active >= 0 && !list.hidden) {
      event.preventDefault();
      open(options[active].hit);
    } else if (event.key === "Escape") {
      setOpen(false);
    }
  });
  input.addEventListener("blur", () => setTimeout(() => setOpen(false), 100));
  input.addEventListener("focus", () => { if (options.length && input.value.trim()) setOpen(true); });
  return element;
}

// Ctrl+K (Cmd+K on a Mac) focuses the search box from anywhere, an editor included.
document.addEventListener("keydown", (event) => {
  if ((event.ctrlKey || event.metaKey) && !event.altKey && event.key.toLowerCase() === "k") {
    const box = document.querySelector("input.global-search");
    if (!box) return;
    event.preventDefault();
    box.focus();
    box.select();
  }
});
