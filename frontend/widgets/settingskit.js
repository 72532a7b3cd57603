// Small pieces the Settings and Feature requests pages share: a paginated table whose page lives in
// the URL (?offset=), a button that shows progress while its action runs, a copyable link, local dates,
// and the email blocklist (Me: your own; Gmail: everyone's).
import { api, apiPage } from "../api.js";
import { API } from "../config.js";
import { h } from "../dom.js";
import { formFields } from "./form.js";

/** An ISO time in the reader's local time ("—" when there is none). */
export function when(iso) {
  if (!iso) return "—";
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? String(iso) : date.toLocaleString();
}

/** A status line (role=status) with set(text, kind): kind "error" colours it. */
/** act(button, working, run): run the action with the button busy, and say its words (or its error) on `result`. */
export function actor(result, life) {
  return async (button, working, run) => {
    result.set("");
    try {
      const said = await busy(button, working, run);
      if (!life.stopped) result.set(said);
    } catch (error) {
      if (!life.stopped) result.set(error.message, "error");
    }
  };
}

export function statusLine() {
  const el = h("p.settings-status", { role: "status" });
  return Object.assign(el, {
    set(text, kind = "") {
      el.textContent = text || "";
      el.dataset.kind = kind;
    },
  });
}

/** Run `action` with the button disabled and saying `working` (aria-busy), then put it back. */
export async function busy(button, working, action) {
  const label = button.textContent;
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  const text = button.tagName === "BUTTON";  // a select keeps its options
  if (text) button.textContent = working;
  try {
    return await action();
  } finally {
    button.disabled = false;
    button.removeAttribute("aria-busy");
    if (text) button.textContent = label;
  }
}

/** A one-time link in a read-only field with a Copy button. */
export function linkBox(title, url, note) {
  const input = h("input.link-field", { type: "text", readOnly: true, value: url, "aria-label": title });
  const said = h("span.muted", { role: "status" });
  const copy = h("button", { type: "button", onclick: async () => {
    input.select();
    try {
      await navigator.clipboard.writeText(url);
      said.textContent = "Copied.";
    } catch {
      said.textContent = "Selected: press Ctrl+C (⌘C) to copy.";
    }
  } }, "Copy");
  return h("div.link-box", {}, h("strong", {}, title), h("div.link-row", {}, input, copy, said), note ? h("p.muted", {}, note) : null);
}

/** A table over a list route answered {data, total}, `pageSize` rows a page; the offset is kept in
 *  the URL query (`offset`) so a reload or a deep link shows the same page. `params()` adds filters. */
export function pagedTable({ url, columns, label, pageSize = 50, params = () => ({}), empty = "Nothing here yet." }) {
  let offset = Number(new URLSearchParams(location.search).get("offset")) || 0;
  let stopped = false, asked = 0;
  const body = h("tbody");
  const count = h("span.count", { role: "status" });
  const prev = h("button", { type: "button", onclick: () => go(offset - pageSize) }, "← Previous");
  const next = h("button", { type: "button", onclick: () => go(offset + pageSize) }, "Next →");
  const table = h("table.list", { "aria-label": label },
    h("thead", {}, h("tr", {}, ...columns.map((c) => h("th", { scope: "col" }, c.label)))), body);
  const element = h("div.list-view", {}, h("div.list-scroll", {}, table), h("div.pager", {}, count, prev, next));

  function go(to) {
    offset = Math.max(0, to);
    const shown = new URLSearchParams(location.search);
    if (offset) shown.set("offset", offset); else shown.delete("offset");
    history.replaceState(null, "", `${location.pathname}${shown.size ? `?${shown}` : ""}`);
    load();
  }
  async function load() {
    const mine = ++asked;
    const ask = new URLSearchParams({ limit: pageSize, offset });
    for (const [key, value] of Object.entries(params())) if (value) ask.set(key, value);
    count.textContent = "Loading…";
    try {
      const page = await apiPage(`${url}?${ask}`);
      if (stopped || mine !== asked) return;
      body.replaceChildren(...(page.data.length
        ? page.data.map((item) => h("tr", { dataset: { id: item.id } }, ...columns.map((c) => h("td", { dataset: { col: c.key || "" } }, shown(c, item)))))
        : [h("tr.empty", {}, h("td", { colSpan: columns.length }, empty))]));
      const last = Math.min(offset + page.data.length, page.total);
      count.textContent = page.total ? `${offset + 1}–${last} of ${page.total.toLocaleString()}` : "0 found";
      prev.disabled = offset === 0;
      next.disabled = last >= page.total;
    } catch (error) {
      if (stopped || mine !== asked) return;
      count.textContent = `Could not load: ${error.message}`;
    }
  }
  load();
  return { element, reload: load, restart: () => go(0), stop() { stopped = true; } };
}

function shown(column, item) {
  const value = column.render ? column.render(item) : item[column.key];
  return value === null || value === undefined || value === "" ? "—" : value;
}

/** The email blocklist: entries for everyone and one's own; add (scope `scope`) and remove. One line
 *  instead when Gmail capture is off (`capture` false: its routes would answer 503, so none is asked). */
export function blocklist(box, { scope, isAdmin, life, capture = true }) {
  if (!capture) {
    box.replaceChildren(h("p.muted", { role: "status" }, "Email capture is off on this server, so there is no blocklist to keep."));
    return;
  }
  const list = h("ul.block-entries", { "aria-label": scope === "all" ? "Blocklist for every mailbox" : "My blocklist" });
  const said = statusLine();
  const form = formFields([
    { name: "pattern", label: "Address or domain", required: true },
    { name: "note", label: "Note" },
  ]);
  form.input("pattern").placeholder = "name@example.com or @example.com";
  const add = h("button.primary", { type: "submit" }, "Block");
  const addForm = h("form.settings-form", { "aria-label": "Add to the blocklist" }, form.element, h("div.page-actions", {}, add, said));
  addForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    form.clearErrors();
    said.set("");
    try {
      const entry = await busy(add, "Blocking…", () => api("POST", API.blocklist, { ...form.read(), scope }));
      addForm.reset();
      said.set(`${entry.pattern} is blocked${entry.bodies_removed ? `; ${entry.bodies_removed} captured bodies removed` : ""}.`);
      load();
    } catch (error) {
      form.showErrors(error);
    }
  });
  const PAGE = 50;
  let offset = 0;
  const count = h("span.count", { role: "status" });
  const prev = h("button.small", { type: "button", onclick: () => { offset = Math.max(0, offset - PAGE); load(); } }, "← Previous");
  const next = h("button.small", { type: "button", onclick: () => { offset += PAGE; load(); } }, "Next →");
  const pager = h("div.pager", {}, count, prev, next);
  box.replaceChildren(h("p.muted", { role: "status" }, "Loading…"));
  async function load() {
    try {
      const page = await apiPage(`${API.blocklist}?limit=${PAGE}&offset=${offset}`);
      if (life.stopped) return;
      if (!page.data.length && offset > 0) { offset = Math.max(0, offset - PAGE); return load(); }
      const entries = page.data;
      count.textContent = page.total ? `${offset + 1}–${offset + entries.length} of ${page.total}` : "";
      prev.disabled = offset === 0;
      next.disabled = offset + entries.length >= page.total;
      pager.hidden = page.total <= PAGE;
      const lead = scope === "all"
        ? "Mail to or from these is never captured from any mailbox; what was captured already loses its body."
        : "Mail to or from these is never captured from your mailbox. Entries marked \u201cfor everyone\u201d were set by an admin.";
      list.replaceChildren(...(entries.length ? entries.map((e) => h("li", { dataset: { id: e.id } },
        h("span.pattern", {}, e.pattern), " ",
        h("span.status-tag", {}, e.scope === "all" ? "for everyone" : "mine"),
        e.note ? h("span.muted", {}, ` ${e.note}`) : null,
        (e.scope === scope || (isAdmin && e.scope === "all"))
          ? h("button.small", { type: "button", "aria-label": `Remove ${e.pattern}`, onclick: async (ev) => {
            try {
              await busy(ev.currentTarget, "Removing…", () => api("DELETE", `${API.blocklist}/${encodeURIComponent(e.id)}`));
              said.set(`${e.pattern} is no longer blocked.`);
              load();
            } catch (error) { said.set(error.message, "error"); }
          } }, "Remove") : null))
        : [h("li.muted", {}, "Nothing blocked yet.")]));
      box.replaceChildren(h("p.muted", {}, lead), list, pager, addForm);
    } catch (error) {
      if (life.stopped) return;
      box.replaceChildren(h("p.muted", { role: "status" }, error.status === 503
        ? "Email capture is off on this server, so there is no blocklist to keep."
        : `Could not load the blocklist: ${error.message}`));
    }
  }
  load();
}

