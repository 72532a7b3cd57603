// Import wizard (CSV → mapping → preview → commit → counts) and "Export view as CSV".
//
// The wizard talks to POST /api/fundraising/import/preview (the file as text/csv)
// and /import/commit (JSON {csv, mapping, keys, mode}); see docs/IMPORT.md.
// The preview is computed by the server for its *suggested* mapping, so a
// column whose mapping the user changed is checked again by the commit (a 422
// lists every cell; the wizard keeps its state and shows them per column).
import { authHeaders, unauthorized } from "../api.js";
import { h } from "../dom.js";
import { READ_ONLY, TYPE_LABELS, display } from "./columns.js";

const URLS = {
  preview: "/api/fundraising/import/preview",
  commit: "/api/fundraising/import/commit",
  export: "/api/fundraising/export",
};
// The import and export routes are at the "user" auth level: admins and members, never bots.
const ALLOWED_ROLES = new Set(["admin", "member"]);
const CREATABLE = Object.entries({ ...TYPE_LABELS, contacts: TYPE_LABELS.contacts || "Contacts" })
  .filter(([type]) => !READ_ONLY.has(type));
const typeLabel = (type) => TYPE_LABELS[type] || (type === "contacts" ? "Contacts" : String(type).replace(/_/g, " "));
const MODES = [
  ["upsert", "Update and create", "Investors that match the key are updated; every other row becomes a new investor."],
  ["append", "Always create", "Every row becomes a new investor, even when one with the same key already exists."],
  ["update_only", "Update only", "Investors that match the key are updated; rows without a match are skipped."],
];
const STEPS = [["file", "File"], ["mapping", "Mapping"], ["preview", "Preview"], ["done", "Done"]];
const plural = (n, word) => `${n.toLocaleString()} ${word}${n === 1 ? "" : "s"}`;

/**
 * The toolbar's part: "Import CSV…" and "Export CSV" for the More menu, and the status line the export
 * talks in (nothing for roles the routes refuse).
 */
export function transferTools(grid) {
  if (!ALLOWED_ROLES.has(grid.me?.role)) return {};
  const status = h("span.transfer-status", { role: "status", "aria-live": "polite" });
  let exporting = false;
  const exportView = async () => {
    if (exporting) return;
    exporting = true;
    try { await exportCsv(grid, status); } finally { exporting = false; }
  };
  return {
    more: [
      { label: "Import CSV…", name: "import-csv", popup: "dialog", run: () => importWizard(grid) },
      { label: "Export CSV", name: "export-csv", run: exportView, disabled: () => exporting,
        title: "Download the rows of this view (its filters, sorts and visible columns) as CSV" },
    ],
    messages: [status],
  };
}

// -- HTTP ----------------------------------------------------------------------------------

/** fetch with the Authorization header; answers {ok, status, payload} (the JSON body, or {}). */
async function request(method, url, { body, type, signal } = {}) {
  const hadToken = Boolean(authHeaders().Authorization);
  const response = await fetch(url, { method, headers: authHeaders(type ? { "Content-Type": type } : {}), body, signal });
  const payload = await response.json().catch(() => ({}));
  if (response.status === 401 && hadToken) unauthorized();
  return { ok: response.ok, status: response.status, payload };
}

function failure({ status, payload }) {
  if (status === 413) return "The file is larger than the server accepts.";
  if (status === 401) return "You are signed out. Sign in again and retry.";
  if (status === 403) return "Your role may not import into the grid.";
  // A 422's `error` is often only "invalid fields: file"; its fields say what is wrong.
  const fields = Object.entries(payload.fields || {}).filter(([k]) => k !== "cells")
    .map(([k, v]) => `${k === "file" ? "The file" : k}: ${typeof v === "string" ? v : JSON.stringify(v)}.`);
  return fields.length ? fields.join(" ") : payload.error || `The server answered HTTP ${status}.`;
}

// -- export --------------------------------------------------------------------------------

/** A file name from a view's name: no path separators or characters file systems refuse. */
function fileName(view) {
  const base = (view?.name || "fundraising").replace(/[\\/:*?"<>|\u0000-\u001f]+/g, "-").replace(/^[\s.]+|[\s.]+$/g, "");
  return `${base || "fundraising"}.csv`;
}

async function exportCsv(grid, status) {
  const view = grid.view();
  const params = new URLSearchParams({ format: "csv" });
  if (view) params.set("view_id", view.id);
  if (grid.search()) params.set("q", grid.search());  // the export reads `q` as GET /rows does
  status.textContent = "Preparing CSV…";
  try {
    const response = await fetch(`${URLS.export}?${params}`, { headers: authHeaders() });
    if (response.status === 401) { unauthorized(); throw new Error("signed out"); }
    if (!response.ok) {
      const payload = await response.json().catch(() => ({}));
      throw new Error(payload.error || `HTTP ${response.status}`);
    }
    const url = URL.createObjectURL(await response.blob());
    const link = h("a", { href: url, download: fileName(view), hidden: true });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
    status.textContent = `Downloaded ${fileName(view)}`;
  } catch (error) {
    status.textContent = `Export failed: ${error.message}`;
  }
}

// -- import wizard ---------------------------------------------------------------------------

function importWizard(grid) {
  const state = {
    step: "file",
    fileName: "",
    text: "",          // the file as read; the commit sends the same text
    preview: null,     // the server's preview
    lines: [],         // one per CSV column: {info, select, name, type, key, errors, row}
    mode: "upsert",
    refusal: null,     // the last 422 of a commit: {message, cells, fields}
    result: null,
    busy: false,
    committing: false, // the commit request is out
    controller: null,
  };

  // Frame: title, steps, the current step's panel, progress, actions.
  const title = h("h2", { id: "import-title" }, "Import CSV");
  const stepList = h("ol.wizard-steps", { "aria-label": "Import steps" },
    STEPS.map(([id, label], i) => h("li", { dataset: { step: id } }, `${i + 1}. ${label}`)));
  const panel = h("div.wizard-panel");
  const progress = h("progress", { "aria-label": "Progress" });
  const progressText = h("span");
  const progressBox = h("div.wizard-progress", { role: "status", "aria-live": "polite" }, progress, progressText);
  progressBox.hidden = true;
  const error = h("div.error", { role: "alert" });
  const cancel = h("button", { type: "button", dataset: { action: "cancel" } }, "Cancel");
  const back = h("button", { type: "button", dataset: { action: "back" } }, "Back");
  const next = h("button.primary", { type: "submit", dataset: { action: "next" } }, "Next");
  const form = h("form", { novalidate: true }, title, stepList, panel, progressBox, error, h("div.actions", {}, cancel, back, next));
  const dialog = h("dialog.modal.import-wizard", { "aria-labelledby": "import-title", dataset: { importWizard: "" } }, form);
  document.body.append(dialog);

  // -- step 1: the file ------------------------------------------------------------------------
  const fileInput = h("input", { type: "file", id: "import-file", accept: ".csv,text/csv,text/plain", "aria-describedby": "import-file-help" });
  const fileInfo = h("p.file-info", { "aria-live": "polite" });
  const dropZone = h("div.drop-zone", {},
    h("label", { for: "import-file" }, "CSV file"),
    fileInput,
    h("p", { id: "import-file-help" }, "Choose the file, or drop it here. In Airtable: the view's menu → Download CSV."),
    fileInfo);
  const filePanel = h("section", { dataset: { panel: "file" }, "aria-label": "Choose a file" }, dropZone);
  fileInput.addEventListener("change", () => { if (fileInput.files[0]) choose(fileInput.files[0]); });
  dropZone.addEventListener("dragover", (event) => { event.preventDefault(); dropZone.classList.add("over"); });
  dropZone.addEventListener("dragleave", () => dropZone.classList.remove("over"));
  dropZone.addEventListener("drop", (event) => {
    event.preventDefault();
    dropZone.classList.remove("over");
    const file = event.dataTransfer?.files?.[0];
    if (file) choose(file);
  });

  async function choose(file) {
    state.controller?.abort();
    const controller = new AbortController();
    state.controller = controller;
    error.textContent = "";
    fileInfo.textContent = "";
    Object.assign(state, { preview: null, lines: [], refusal: null });  // Next waits for this file's preview
    busy(true, `Reading ${file.name}…`);
    try {
      const text = await file.text();
      busy(true, `Uploading ${file.name} and checking every cell…`);
      const answer = await request("POST", URLS.preview, { body: text, type: "text/csv", signal: controller.signal });
      if (controller !== state.controller) return;
      if (!answer.ok) { error.textContent = `This file cannot be imported. ${failure(answer)}`; return; }
      Object.assign(state, { fileName: file.name, text, preview: answer.payload.data, mode: "upsert" });
      fileInfo.textContent = `${file.name}: ${plural(state.preview.rows, "row")}, ${plural(state.preview.columns.length, "column")}.`;
      buildMapping();
      busy(false);
      go("mapping");
    } catch (e) {
      if (e.name !== "AbortError") error.textContent = `Could not read or upload the file: ${e.message}`;
    } finally {
      if (controller === state.controller) { state.controller = null; busy(false); }
    }
  }

  // -- step 2: mapping ---------------------------------------------------------------------------
  const mappingPanel = h("section", { dataset: { panel: "mapping" }, "aria-label": "Mapping" });
  // A refusal was about the mapping as it was: any change makes it stale (each line keeps its own errors until its select changes).
  mappingPanel.addEventListener("change", () => { state.refusal = null; });

  function buildMapping() {
    const editable = grid.columns().filter((c) => !READ_ONLY.has(c.type));
    const keys = new Set(state.preview.default_keys || []);
    state.lines = state.preview.columns.map((info) => {
      const header = info.header;
      const select = h("select", { "aria-label": `Import "${header}" into` },
        h("optgroup", { label: "Existing columns" }, editable.map((c) => h("option", { value: `column:${c.id}` }, `${c.name} (${typeLabel(c.type)})`))),
        h("option", { value: "create" }, "Create a new column"),
        h("option", { value: "skip" }, "Skip (do not import)"));
      const suggested = info.suggested || {};
      const createSpec = suggested.create || { name: header, type: info.inferred_type };
      const name = h("input", { type: "text", value: createSpec.name || header, autocomplete: "off", "aria-label": `Name of the new column for "${header}"` });
      const type = h("select", { "aria-label": `Type of the new column for "${header}"` },
        CREATABLE.map(([value, label]) => h("option", { value }, label)));
      type.value = CREATABLE.some(([t]) => t === createSpec.type) ? createSpec.type : "text";
      const key = h("input", { type: "checkbox", checked: keys.has(header), "aria-label": `"${header}" identifies an investor (key)` });
      const create = h("div.create-fields", {}, name, h("span.of-type", { "aria-hidden": "true" }, "of type"), type);
      const errors = h("ul.line-errors", { "aria-live": "polite" });
      const detected = info.confidence > 0
        ? [typeLabel(info.inferred_type), h("span.confidence", { title: "Share of the non-empty cells that read as this type" }, ` · ${Math.round(info.confidence * 100)}%`)]
        : [typeLabel(info.inferred_type), h("span.confidence", {}, " · empty column")];
      const example = sampleText(info);
      const row = h("tr", { dataset: { importColumn: header } },
        h("th", { scope: "row" }, h("span.csv-header", {}, header), h("span.muted", {}, ` column ${info.number}`),
          example ? h("div.example", {}, `e.g. ${example}`) : null),
        h("td.detected", {}, detected),
        h("td", {}, select, create, errors),
        h("td.key", {}, key));
      const wanted = suggested.column_id && editable.some((c) => c.id === suggested.column_id) ? `column:${suggested.column_id}` : "create";
      select.value = wanted;
      const line = { info, select, name, type, key, create, errors, row };
      const sync = () => {
        create.hidden = select.value !== "create";
        key.disabled = select.value === "skip";
        if (key.disabled) key.checked = false;
      };
      select.addEventListener("change", () => { sync(); line.errors.replaceChildren(); });
      sync();
      return line;
    });
    const modeGroup = h("fieldset.modes", {}, h("legend", {}, "How rows are matched to investors already in the grid"),
      MODES.map(([value, label, sentence]) => h("label.mode", {},
        h("input", { type: "radio", name: "import-mode", value, checked: value === state.mode, "aria-describedby": `mode-${value}` }),
        h("strong", {}, label), h("span", { id: `mode-${value}` }, ` ${sentence}`))));
    modeGroup.addEventListener("change", (event) => { if (event.target.name === "import-mode") state.mode = event.target.value; });
    mappingPanel.replaceChildren(
      h("p.lead", {}, `${plural(state.preview.rows, "row")} in ${state.fileName}. Choose where each column goes. `,
        "Tick the key column(s) that identify an investor: a row whose key matches an investor updates it."),
      h("div.table-scroll", {}, h("table.import-mapping", {},
        h("caption.sr-only", {}, "Where each CSV column is imported"),
        h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "CSV column"), h("th", { scope: "col" }, "Detected type"),
          h("th", { scope: "col" }, "Import into"), h("th", { scope: "col" }, "Key"))),
        h("tbody", {}, state.lines.map((l) => l.row)))),
      modeGroup);
  }

  function sampleText(info) {
    for (const sample of state.preview.sample || []) {
      const text = display(suggestedColumn(info), sample[info.header]);
      if (text) return text.length > 40 ? `${text.slice(0, 40)}…` : text;
    }
    return "";
  }

  /** The column the server's preview converted this CSV column for (its suggestion). */
  function suggestedColumn(info) {
    const s = info.suggested || {};
    if (s.column_id) return grid.column(s.column_id) || { name: s.name, type: s.type, options: [], config: {} };
    return { name: s.create?.name || info.header, type: s.create?.type || info.inferred_type, options: [], config: {} };
  }

  function targetOf(line) {
    const value = line.select.value;
    if (value === "skip") return { skip: true };
    if (value === "create") return { create: { name: line.name.value.trim() || line.info.header, type: line.type.value } };
    return { column_id: value.slice("column:".length) };
  }

  /** Whether the user's mapping converts cells differently from the suggestion the preview used. */
  function changed(line) {
    const target = targetOf(line);
    const suggested = line.info.suggested || {};
    if (target.skip) return true;
    if (target.column_id) return target.column_id !== suggested.column_id;
    return !suggested.create || suggested.create.type !== target.create.type;
  }

  function checkMapping() {
    const keys = state.lines.filter((l) => l.key.checked && l.select.value !== "skip");
    if (!keys.length) return "Tick at least one key column (for example the investor's name) that is imported.";
    const names = new Map();
    for (const line of state.lines) {
      if (line.select.value !== "create") continue;
      const name = (line.name.value.trim() || line.info.header).toLowerCase();
      if (names.has(name)) return `"${line.info.header}" and "${names.get(name)}" would both create a column named "${line.name.value.trim() || line.info.header}".`;
      names.set(name, line.info.header);
    }
    return "";
  }

  // -- step 3: preview -------------------------------------------------------------------------------
  const previewPanel = h("section", { dataset: { panel: "preview" }, "aria-label": "Preview" });

  function problemTable(list, caption) {
    return h("div.table-scroll.short", {}, h("table.import-problems", {},
      h("caption", {}, caption),
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Row"), h("th", { scope: "col" }, "Column"), h("th", { scope: "col" }, "Problem"))),
      h("tbody", {}, list.map((p) => h("tr", { dataset: { row: String(p.row), column: String(p.column) } },
        h("td", {}, `row ${p.row}`), h("td", {}, `column ${p.column}${p.header ? ` (${p.header})` : ""}`), h("td", {}, p.message))))));
  }

  /** The preview's problems, sorted by what the commit will do with them. */
  function sortProblems() {
    const byHeader = new Map(state.lines.map((l) => [l.info.header, l]));
    const out = { blocking: [], recheck: [], ignored: [], skipped: 0 };
    for (const problem of state.preview.problems || []) {
      const line = problem.header ? byHeader.get(problem.header) : null;
      if (!line) out.ignored.push(problem);  // cells beyond the last header: the commit leaves them out
      else if (line.select.value === "skip") out.skipped += 1;
      else if (changed(line)) out.recheck.push(problem);
      else out.blocking.push(problem);
    }
    return out;
  }

  function buildPreview() {
    const preview = state.preview;
    const problems = sortProblems();
    const unlisted = Math.max(0, (preview.problem_count || 0) - (preview.problems || []).length);
    const mapped = state.lines.filter((l) => l.select.value !== "skip");
    const skippedHeaders = new Set(state.lines.filter((l) => l.select.value === "skip").map((l) => l.info.header));
    const warnings = (preview.warnings || []).filter((w) => !skippedHeaders.has(w.header));
    const recheck = mapped.filter(changed).map((l) => l.info.header);
    const parts = [];

    const keys = state.lines.filter((l) => l.key.checked && l.select.value !== "skip").map((l) => l.info.header);
    const mode = MODES.find(([m]) => m === state.mode);
    parts.push(h("p.lead", {}, `${plural(preview.rows, "row")} · ${plural(mapped.length, "column")} imported, ${skippedHeaders.size} skipped · `,
      `key: ${keys.join(" + ")} · ${mode[1]}: ${mode[2]}`));

    if (state.refusal) parts.push(refusalBox(state.refusal));
    if (problems.blocking.length) {
      parts.push(h("div.refusal", { role: "alert", dataset: { refused: "" } },
        h("strong", {}, `${plural(problems.blocking.length, "cell")} do${problems.blocking.length === 1 ? "es" : ""} not fit ${problems.blocking.length === 1 ? "its" : "their"} column, so the import will be refused and nothing will be written. `),
        "Go Back and map those columns elsewhere (or skip them), or fix the file and choose it again."));
      parts.push(problemTable(problems.blocking, "Problems"));
    } else if (unlisted) {
      parts.push(h("div.refusal", { role: "alert" }, `The server found ${plural(preview.problem_count, "problem")} and lists only the first ${preview.problems.length}; the import will check them all.`));
    }
    if (problems.recheck.length) {
      parts.push(h("p.note", {}, `These cells do not fit the suggested column; you changed where ${problems.recheck.length === 1 ? "it goes" : "they go"}, so the import checks them again against your choice:`));
      parts.push(problemTable(problems.recheck, "Cells to be checked again"));
    }
    if (problems.ignored.length) parts.push(problemTable(problems.ignored, "Ignored (not imported)"));
    if (problems.skipped) parts.push(h("p.note", {}, `${plural(problems.skipped, "problem")} in skipped columns ${problems.skipped === 1 ? "is" : "are"} ignored.`));
    if (warnings.length) parts.push(problemTable(warnings, "Warnings (imported as shown)"));
    if (!problems.blocking.length && !(preview.problems || []).length) parts.push(h("p.ok", {}, "Every cell fits its column."));
    if (recheck.length) parts.push(h("p.note", {}, `The sample shows ${recheck.join(", ")} as first suggested; your mapping for ${recheck.length === 1 ? "it" : "them"} is checked when you import.`));

    const headerOf = (line) => {
      const target = targetOf(line);
      const into = target.create ? `${target.create.name} (new)` : grid.column(target.column_id)?.name || "?";
      return h("th", { scope: "col" }, into, h("span.muted", {}, ` ← ${line.info.header}`));
    };
    parts.push(h("div.table-scroll", {}, h("table.import-sample", {},
      h("caption", {}, `The first ${plural((preview.sample || []).length, "row")} as they will be stored`),
      h("thead", {}, h("tr", {}, mapped.map(headerOf))),
      h("tbody", {}, (preview.sample || []).map((sample) => h("tr", {},
        mapped.map((line) => h("td", {}, display(suggestedColumn(line.info), sample[line.info.header])))))))));
    previewPanel.replaceChildren(...parts);
    previewPanel.dataset.blocked = problems.blocking.length ? "1" : "0";
  }

  function refusalBox(refusal) {
    return h("div.refusal", { role: "alert", dataset: { serverRefusal: "" } },
      h("strong", {}, "The server refused the import; nothing was written. "), refusal.message ? `(${refusal.message}.)` : null,
      refusal.fields.length ? h("ul", {}, refusal.fields.map(([k, v]) => h("li", {}, `${k.replace(/^mapping\./, "")}: ${v}`))) : null,
      refusal.cells.length ? problemTable(refusal.cells, "Cells that do not fit their column") : null);
  }

  /** A 422 from the commit: kept on the wizard and shown on each mapping line it names. */
  function showRefusal(payload) {
    const fields = Object.entries(payload.fields || {}).filter(([k]) => k !== "cells");
    const cells = Array.isArray(payload.fields?.cells) ? payload.fields.cells : [];
    state.refusal = { message: payload.error || "", fields, cells };
    for (const line of state.lines) {
      const mine = cells.filter((c) => c.header === line.info.header);
      const field = fields.find(([k]) => k === `mapping.${line.info.header}`);
      line.errors.replaceChildren(
        ...(field ? [h("li", {}, String(field[1]))] : []),
        ...mine.slice(0, 5).map((c) => h("li", {}, `row ${c.row}, column ${c.column}: ${c.message}`)),
        ...(mine.length > 5 ? [h("li", {}, `and ${mine.length - 5} more`)] : []));
    }
  }

  // -- step 4: commit and result ---------------------------------------------------------------------
  const donePanel = h("section", { dataset: { panel: "done" }, "aria-label": "Result" });

  async function commit() {
    const mapping = Object.fromEntries(state.lines.map((l) => [l.info.header, targetOf(l)]));
    const keys = state.lines.filter((l) => l.key.checked && l.select.value !== "skip").map((l) => l.info.header);
    state.committing = true;  // before busy(): Cancel and Escape are refused while the server writes
    busy(true, `Importing ${plural(state.preview.rows, "row")}…`);
    error.textContent = "";
    let answer;
    try {
      answer = await request("POST", URLS.commit, { body: JSON.stringify({ csv: state.text, mapping, keys, mode: state.mode }), type: "application/json" });
    } catch (e) {
      error.textContent = `The import did not reach the server: ${e.message}. Nothing was imported; try again.`;
      return;
    } finally {
      state.committing = false;
      busy(false);
    }
    if (answer.status === 422) {
      showRefusal(answer.payload);
      buildPreview();
      render();
      previewPanel.querySelector("[data-server-refusal]")?.scrollIntoView({ block: "nearest" });
      return;
    }
    if (!answer.ok) { error.textContent = `Nothing was imported. ${failure(answer)}`; return; }
    state.result = answer.payload.data;
    buildDone(state.result);
    go("done");
    grid.emit("imported", state.result);  // the grid makes the import's edits one undo step
    grid.reloadColumns().catch(() => {});
  }

  function buildDone(result) {
    const count = (name, value, label) => h("div.count-box", { dataset: { count: name } }, h("strong", {}, String(value)), h("span", {}, label));
    const skipped = result.skipped || [];
    donePanel.replaceChildren(...[
      h("p.lead", { tabIndex: -1 }, "Import complete."),
      h("div.counts", {}, count("created", result.created, "created"), count("updated", result.updated, "updated"),
        count("unchanged", result.unchanged, "unchanged"), count("skipped", skipped.length, "skipped")),
      skipped.length
        ? h("div.table-scroll.short", {}, h("table.import-problems", {}, h("caption", {}, "Skipped rows"),
          h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Row"), h("th", { scope: "col" }, "Reason"))),
          h("tbody", {}, skipped.map((s) => h("tr", {}, h("td", {}, `row ${s.row}`), h("td", {}, s.reason))))))
        : null,
      h("p", { dataset: { columnsCreated: "" } }, (result.columns_created || []).length
        ? `New columns: ${result.columns_created.join(", ")}.` : "No new columns."),
      h("p", { dataset: { backup: "" } }, "A backup of the grid was taken before the import: ",
        h("code", {}, String(result.pre_import_backup)), ". An admin can restore it from the backups."),
    ].filter(Boolean));
  }

  // -- navigation --------------------------------------------------------------------------------------
  const panels = { file: filePanel, mapping: mappingPanel, preview: previewPanel, done: donePanel };
  panel.append(filePanel, mappingPanel, previewPanel, donePanel);

  function busy(on, message = "") {
    state.busy = on;
    progressBox.hidden = !on;
    progressText.textContent = message;
    panel.setAttribute("aria-busy", on ? "true" : "false");
    render();
  }

  function go(step) {
    state.step = step;
    error.textContent = "";
    render();
    const first = step === "file" ? fileInput : step === "mapping" ? state.lines[0]?.select : panels[step].querySelector("[tabindex='-1'], .lead");
    if (first) { if (!first.hasAttribute("tabindex") && !/^(INPUT|SELECT|BUTTON)$/.test(first.tagName)) first.tabIndex = -1; first.focus(); }
  }

  function render() {
    for (const [id, el] of Object.entries(panels)) el.hidden = id !== state.step;
    for (const li of stepList.children) {
      if (li.dataset.step === state.step) li.setAttribute("aria-current", "step"); else li.removeAttribute("aria-current");
    }
    const step = state.step;
    back.hidden = step === "file" || step === "done";
    cancel.hidden = step === "done";
    cancel.disabled = Boolean(state.committing);
    next.textContent = step === "preview" ? `Import ${plural(state.preview?.rows || 0, "row")}` : step === "done" ? "Close" : "Next";
    back.disabled = state.busy;
    next.disabled = state.busy || (step === "file" && !state.preview) || (step === "preview" && previewPanel.dataset.blocked === "1");
    dialog.setAttribute("aria-busy", state.busy ? "true" : "false");
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (state.busy || next.disabled) return;
    if (state.step === "file") go("mapping");
    else if (state.step === "mapping") {
      const problem = checkMapping();
      if (problem) { error.textContent = problem; return; }
      buildPreview();
      go("preview");
    } else if (state.step === "preview") commit();
    else dialog.close();
  });
  back.addEventListener("click", () => {
    if (state.step === "preview") go("mapping");
    else if (state.step === "mapping") go("file");
  });
  cancel.addEventListener("click", () => dialog.close());
  dialog.addEventListener("cancel", (event) => {
    // Escape cancels, except while the commit is out: the server is writing, the result must be seen.
    if (state.committing) event.preventDefault();
  });
  dialog.addEventListener("close", () => {
    state.controller?.abort();
    dialog.remove();
  });

  render();
  dialog.showModal();
  go("file");
}
