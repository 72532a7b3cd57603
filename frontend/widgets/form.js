// A form from field specs, with the server's 422 errors shown beside the fields they name.
//   const form = formFields([{ name: "first_name", label: "First name", required: true }, ...], record);
//   root.append(form.element); ... try { await api(...form.read()) } catch (e) { form.showErrors(e) }
// Types: text (default), textarea, email, number, date, select (options: [[value, label]] or values), checkbox.
import { h } from "../dom.js";

export function formFields(fields, values = {}) {
  const inputs = new Map();
  const errors = new Map();
  const rows = fields.map((field) => {
    const input = control(field, values[field.name]);
    input.name = field.name;
    input.id = `field-${field.name}`;
    const error = h("span.field-error", { id: `field-${field.name}-error`, role: "alert" });
    input.setAttribute("aria-describedby", error.id);
    inputs.set(field.name, input);
    errors.set(field.name, error);
    const label = h("label", { for: input.id }, field.label, field.required ? h("span.required", { "aria-hidden": "true" }, " *") : null);
    return h("div.form-row", { dataset: { field: field.name } }, label, input, error);
  });
  const general = h("p.error.form-error", { role: "alert" });
  return {
    element: h("div.form-fields", {}, ...rows, general),
    input: (name) => inputs.get(name),
    /** {name: value} of every field; blank text is null, numbers are numbers. */
    read() {
      const out = {};
      for (const field of fields) {
        const input = inputs.get(field.name);
        if (field.type === "checkbox") out[field.name] = input.checked;
        else if (field.type === "number") out[field.name] = input.value === "" ? null : Number(input.value);
        else out[field.name] = input.value.trim() === "" ? (field.blank ?? null) : input.value.trim();
      }
      return out;
    },
    /** Put an ApiError's words beside the fields it names (the rest above the buttons). */
    showErrors(error) {
      this.clearErrors();
      const named = error?.payload?.fields || {};
      const unplaced = [];
      for (const [name, words] of Object.entries(named)) {
        const key = name.split(/[.[]/)[0];
        if (errors.has(key)) {
          errors.get(key).textContent = words;
          inputs.get(key).setAttribute("aria-invalid", "true");
        } else unplaced.push(`${name}: ${words}`);
      }
      general.textContent = unplaced.length ? unplaced.join("; ") : (Object.keys(named).length ? "" : error?.message || String(error));
      (Object.keys(named).map((n) => inputs.get(n.split(/[.[]/)[0])).find(Boolean))?.focus();
    },
    clearErrors() {
      general.textContent = "";
      for (const [name, el] of errors) {
        el.textContent = "";
        inputs.get(name).removeAttribute("aria-invalid");
      }
    },
  };
}

function control(field, value) {
  if (field.type === "textarea") return h("textarea", { rows: field.rows || 4 }, value ?? "");
  if (field.type === "select") {
    const options = (field.options || []).map((o) => (Array.isArray(o) ? o : [o, String(o).replace(/_/g, " ")]));
    const select = h("select", {}, field.required ? null : h("option", { value: "" }, "—"),
      ...options.map(([v, label]) => h("option", { value: v }, label)));
    select.value = value ?? (field.required ? options[0]?.[0] ?? "" : "");
    return select;
  }
  if (field.type === "checkbox") return h("input", { type: "checkbox", checked: Boolean(value) });
  const type = { email: "email", number: "number", date: "date" }[field.type] || "text";
  const input = h("input", { type, step: field.type === "number" ? "any" : null });
  input.value = value ?? "";
  return input;
}
