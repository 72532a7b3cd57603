// Small pieces shared by the contact and organization pages (pages/contacts.js, contact.js,
// organizations.js, organization.js): names, local dates, the edit-in-place form, a CSV download
// through fetch (it needs the Authorization header) and a deleted record's banner with Restore.
import { api, authHeaders, unauthorized } from "../api.js";
import { h } from "../dom.js";
import { formFields } from "./form.js";

export const words = (v) => String(v ?? "").replace(/_/g, " ");
export const fullName = (c) => [c.first_name, c.last_name].filter(Boolean).join(" ").trim() || c.email || "Unnamed contact";

const dateTimeFmt = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
const dateFmt = new Intl.DateTimeFormat(undefined, { dateStyle: "medium" });
const moneyFmt = new Intl.NumberFormat(undefined, { style: "currency", currency: "USD", maximumFractionDigits: 0 });

/** An ISO time shown in the reader's time zone, in a <time> element. */
export function when(iso, { dateOnly = false } = {}) {
  if (!iso) return "—";
  const moment = new Date(iso);
  if (Number.isNaN(moment.getTime())) return String(iso);
  return h("time", { datetime: iso, title: moment.toString() }, (dateOnly ? dateFmt : dateTimeFmt).format(moment));
}

export const money = (v) => (typeof v === "number" ? moneyFmt.format(v) : "—");

/** "a, b" typed in a tags box → ["a", "b"]. */
export const tagList = (text) => String(text || "").split(",").map((t) => t.trim()).filter(Boolean);

export function tagChips(tags) {
  return tags?.length ? h("ul.tag-list", { "aria-label": "Tags" }, ...tags.map((t) => h("li.tag", {}, t))) : "—";
}

/** A form that saves with `save(values)` (which returns the promise of an API call); the server's
 *  422 words appear beside the fields. `onDone(record)` after a save, `onCancel` for Cancel. */
export function recordForm({ fields, values = {}, submitLabel = "Save", busyLabel = "Saving…", prepare = (v) => v, save, onDone, onCancel, label }) {
  const form = formFields(fields, values);
  const submit = h("button.primary", { type: "submit" }, submitLabel);
  const cancel = onCancel ? h("button", { type: "button", onclick: () => onCancel() }, "Cancel") : null;
  const element = h("form.record-form", { "aria-label": label, novalidate: true }, form.element, h("div.form-actions", {}, submit, cancel));
  element.addEventListener("submit", async (event) => {
    event.preventDefault();
    form.clearErrors();
    submit.disabled = true;
    submit.textContent = busyLabel;
    element.setAttribute("aria-busy", "true");
    try {
      const saved = await save(await prepare(form.read(), form));
      onDone?.(saved);
    } catch (error) {
      form.showErrors(error);
    } finally {
      submit.disabled = false;
      submit.textContent = submitLabel;
      element.removeAttribute("aria-busy");
    }
  });
  return { element, form, focus: () => element.querySelector("input, select, textarea")?.focus() };
}

/** Download `url` (a signed-in GET) as `filename`; `button` shows the progress. */
export async function download(url, filename, button, status) {
  const label = button.textContent;
  button.disabled = true;
  button.textContent = "Exporting…";
  status.textContent = "";
  try {
    const response = await fetch(url, { headers: authHeaders() });
    if (response.status === 401) { unauthorized(); return; }
    if (!response.ok) {
      const payload = await response.json().catch(() => ({}));
      throw new Error(payload.error || `HTTP ${response.status}`);
    }
    const blob = await response.blob();
    const link = h("a", { href: URL.createObjectURL(blob), download: filename, hidden: true });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
    status.textContent = `Exported ${filename}.`;
  } catch (error) {
    status.textContent = `Could not export: ${error.message}`;
  } finally {
    button.disabled = false;
    button.textContent = label;
  }
}

/** The banner of a deleted record, with Restore (`url` is the record's path). */
export function deletedBanner(url, onRestored) {
  const message = h("span", {}, "This record is deleted.");
  const button = h("button", { type: "button" }, "Restore");
  button.addEventListener("click", async () => {
    button.disabled = true;
    button.textContent = "Restoring…";
    try {
      onRestored(await api("POST", `${url}/restore`));
    } catch (error) {
      const why = Object.entries(error.payload?.fields || {}).map(([field, text]) => `${words(field.replace(/_id$/, ""))} ${text}`);
      message.textContent = `Could not restore: ${error.message}${why.length ? ` (${why.join("; ")})` : ""}`;
      button.disabled = false;
      button.textContent = "Restore";
    }
  });
  return h("div.deleted-banner", { role: "status" }, message, " ", button);
}

/** A "Show deleted" checkbox (admins), its state in the URL's `deleted=1`. */
export function deletedToggle(onChange) {
  const on = new URLSearchParams(location.search).get("deleted") === "1";
  const box = h("input", { type: "checkbox", id: "show-deleted", checked: on });
  box.addEventListener("change", () => {
    const query = new URLSearchParams(location.search);
    if (box.checked) query.set("deleted", "1"); else query.delete("deleted");
    query.delete("offset");
    history.replaceState(null, "", `${location.pathname}${query.size ? `?${query}` : ""}`);
    onChange(box.checked);
  });
  return { on, element: h("label.inline-check", { for: "show-deleted" }, box, " Show deleted") };
}

/** A filter <select> over a list (`name` is the API's filter and the URL's key). */
export function filterSelect(name, label, choices, onChange) {
  const select = h("select", { id: `filter-${name}`, "aria-label": label },
    h("option", { value: "" }, `Any ${label.toLowerCase()}`), ...choices.map((c) => h("option", { value: c }, words(c))));
  select.value = new URLSearchParams(location.search).get(name) || "";
  select.addEventListener("change", () => {
    const query = new URLSearchParams(location.search);
    if (select.value) query.set(name, select.value); else query.delete(name);
    query.delete("offset");
    history.replaceState(null, "", `${location.pathname}${query.size ? `?${query}` : ""}`);
    onChange();
  });
  return select;
}

/** A restore button for a deleted row of a list. */
export function restoreButton(url, onRestored) {
  const button = h("button.small", { type: "button" }, "Restore");
  button.addEventListener("click", async () => {
    button.disabled = true;
    try { await api("POST", `${url}/restore`); onRestored(); } catch (error) { button.disabled = false; button.title = error.message; button.textContent = "Restore failed"; }
  });
  return button;
}
