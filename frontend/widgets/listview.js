// A searchable, sortable, paginated list over a list route (`?q=&sort=&limit=&offset=`, answered
// {data, total}). Its state lives in the page's URL query, so a deep link or a reload shows the
// same page of the same search, and back/forward walk through them.
//   const list = listView({ url: "/api/contacts", columns: [{ key: "email", label: "Email", sort: "email" }],
//                           onOpen: (item) => navigate(...), label: "Contacts" });
// A column's `render(item)` returns a node or text; `sort` names the API's sort field.
import { apiPage } from "../api.js";
import { h } from "../dom.js";

export function listView({ url, columns, onOpen, label, pageSize = 50, params = {}, empty = "Nothing here yet." }) {
  const query = new URLSearchParams(location.search);
  const state = { q: query.get("q") || "", sort: query.get("sort") || "", offset: Number(query.get("offset")) || 0, params: { ...params } };
  let stopped = false, asked = 0;
  const search = h("input", { type: "search", placeholder: "Search…", "aria-label": `Search ${label}`, value: state.q });
  const heads = columns.map((c) => h("th", { scope: "col", "aria-sort": "none" },
    c.sort ? h("button.sort", { type: "button", onclick: () => sortBy(c.sort) }, c.label) : c.label));
  const body = h("tbody");
  const count = h("span.count", { role: "status" });
  const prev = h("button", { type: "button", onclick: () => go(state.offset - pageSize) }, "← Previous");
  const next = h("button", { type: "button", onclick: () => go(state.offset + pageSize) }, "Next →");
  const table = h("table.list", { "aria-label": label }, h("thead", {}, h("tr", {}, ...heads)), body);
  const element = h("div.list-view", {}, h("div.list-tools", {}, search, count),
    h("div.list-scroll", {}, table), h("div.pager", {}, prev, next));
  let typing;
  search.addEventListener("input", () => {
    clearTimeout(typing);
    typing = setTimeout(() => { state.q = search.value.trim(); state.offset = 0; load(); }, 250);
  });

  function sortBy(field) {
    state.sort = state.sort === field ? `-${field}` : field;
    state.offset = 0;
    load();
  }
  function go(offset) {
    state.offset = Math.max(0, offset);
    load();
  }
  function remember() {
    const shown = new URLSearchParams(location.search);
    for (const [key, value] of [["q", state.q], ["sort", state.sort], ["offset", state.offset || ""]]) {
      if (value) shown.set(key, value); else shown.delete(key);
    }
    const target = `${location.pathname}${shown.size ? `?${shown}` : ""}`;
    if (target !== location.pathname + location.search) history.replaceState(null, "", target);
  }
  async function load() {
    const mine = ++asked;
    remember();
    const ask = new URLSearchParams({ limit: pageSize, offset: state.offset, ...state.params });
    if (state.q) ask.set("q", state.q);
    if (state.sort) ask.set("sort", state.sort);
    count.textContent = "Loading…";
    try {
      const page = await apiPage(`${url}?${ask}`);
      if (stopped || mine !== asked) return;
      body.replaceChildren(...(page.data.length ? page.data.map(row) : [h("tr.empty", {}, h("td", { colSpan: columns.length }, empty))]));
      const last = Math.min(state.offset + page.data.length, page.total);
      count.textContent = page.total ? `${state.offset + 1}–${last} of ${page.total.toLocaleString()}` : "0 found";
      prev.disabled = state.offset === 0;
      next.disabled = last >= page.total;
      columns.forEach((c, i) => heads[i].setAttribute("aria-sort",
        !c.sort || state.sort.replace("-", "") !== c.sort ? "none" : state.sort.startsWith("-") ? "descending" : "ascending"));
    } catch (error) {
      if (stopped || mine !== asked) return;
      count.textContent = `Could not load: ${error.message}`;
    }
  }
  function row(item) {
    const cells = columns.map((c, i) => h("td", {}, i === 0 && onOpen
      ? h("a", { href: "#", onclick: (e) => { e.preventDefault(); onOpen(item); } }, cell(c, item)) : cell(c, item)));
    return h("tr", { dataset: { id: item.id } }, ...cells);
  }
  load();
  return {
    element,
    reload: load,
    setParams(extra) { state.params = { ...params, ...extra }; state.offset = 0; load(); },
    stop() { stopped = true; },
  };
}

function cell(column, item) {
  const value = column.render ? column.render(item) : item[column.key];
  return value === null || value === undefined || value === "" ? "—" : value;
}
