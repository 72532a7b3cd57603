// The contacts cell: a list of people edited in a dialog, and its text form for copy and paste.
import { h } from "../dom.js";

const FIELDS = [["name", "Name", "text"], ["email", "Email", "email"], ["phone", "Phone", "tel"], ["title", "Title", "text"]];

/** People as one line of text: "Ann Lee <ann@lp.example>, Bo Park" (what Airtable writes for collaborators). */
export function contactsText(people) {
  if (!Array.isArray(people)) return "";
  return people.map((p) => (p.email ? `${p.name || ""} <${p.email}>`.trim() : p.name || "")).filter(Boolean).join(", ");
}

/** The text form back into people; those whose name and email match a current person keep its id. */
export function parseContacts(text, current = []) {
  const people = [];
  for (const part of text.split(/,(?![^<]*>)/).map((s) => s.trim()).filter(Boolean)) {
    const match = part.match(/^(.*?)\s*<([^<>]+)>$/);
    const person = match ? { name: match[1].trim() || null, email: match[2].trim().toLowerCase() }
      : part.includes("@") && !part.includes(" ") ? { name: null, email: part.toLowerCase() } : { name: part, email: null };
    const same = current.find((c) => (person.email && c.email === person.email) || (!person.email && c.name === person.name));
    people.push(same ? { ...same, name: person.name ?? same.name, email: person.email ?? same.email } : person);
  }
  return people;
}

/** A Tabulator editor: a dialog listing the cell's people, each editable, with add and remove. */
export function contactsEditor(column) {
  return (cell, onRendered, success, cancel) => {
    const placeholder = h("span.cell-editor", { "aria-hidden": "true" });
    onRendered(() => editPeople(column.name, cell.getValue() || []).then((people) => (people ? success(people) : cancel())));
    return placeholder;
  };
}

function editPeople(title, current) {
  return new Promise((resolve) => {
    const list = h("ol.people-list");
    const error = h("div.error", { role: "alert" });
    const addLine = (person = {}) => {
      const inputs = FIELDS.map(([key, label, type]) => h("input", { type, value: person[key] || "", "aria-label": label, placeholder: label, dataset: { field: key } }));
      const remove = h("button", { type: "button", "aria-label": "Remove person", title: "Remove" }, "×");
      const line = h("li.person", { dataset: { id: person.id || "", contactId: person.contact_id || "" } }, ...inputs, remove);
      remove.addEventListener("click", () => line.remove());
      list.append(line);
      return inputs[0];
    };
    current.forEach((p) => addLine(p));
    const add = h("button", { type: "button", dataset: { action: "add-person" } }, "+ Add person");
    add.addEventListener("click", () => addLine().focus());
    const save = h("button.primary", { type: "submit", value: "save" }, "Save");
    const dialog = h("dialog.modal.people", { "aria-labelledby": "people-title" },
      h("form", { method: "dialog" }, h("h2", { id: "people-title" }, title), list, add, error,
        h("div.actions", {}, h("button", { type: "submit", value: "cancel", formnovalidate: true }, "Cancel"), save)));
    document.body.append(dialog);
    const read = () => [...list.children].map((line) => {
      const person = Object.fromEntries([...line.querySelectorAll("input")].map((i) => [i.dataset.field, i.value.trim() || null]));
      if (line.dataset.id) person.id = line.dataset.id;
      if (line.dataset.contactId) person.contact_id = line.dataset.contactId;
      return person;
    }).filter((p) => FIELDS.some(([key]) => p[key]));
    save.addEventListener("click", (event) => {
      const nameless = read().findIndex((p) => !p.name && !p.email);
      if (nameless >= 0) { event.preventDefault(); error.textContent = `Person ${nameless + 1} needs a name or an email.`; }
    });
    dialog.addEventListener("close", () => {
      dialog.remove();
      resolve(dialog.returnValue === "save" ? read() : null);
    });
    dialog.showModal();
    (list.querySelector("input") || add).focus();
  });
}
