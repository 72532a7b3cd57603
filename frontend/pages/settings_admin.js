// The admin tabs of Settings (pages/settings.js mounts them): daily digest, backups, Gmail, security,
// audit log, reset all data. Each is `tab(panel, ctx, life)`; `life.stopped` turns true on unmount.
import { api } from "../api.js";
import { API } from "../config.js";
import { h } from "../dom.js";
import { formFields } from "../widgets/form.js";
import { actor, blocklist, busy, pagedTable, statusLine, when } from "../widgets/settingskit.js";

const hour = (n) => `${String(n).padStart(2, "0")}:00`;
const facts = (pairs) => h("dl.settings-facts", {}, ...pairs.flatMap(([label, value, key]) =>
  [h("dt", {}, label), h("dd", { dataset: { fact: key || label } }, value ?? "—")]));
const failed = (panel, what, error) => panel.replaceChildren(h("p.error", { role: "alert" }, `Could not load ${what}: ${error.message}`));

// -- Daily digest ------------------------------------------------------------------------------------

export function digest(panel, ctx, life) {
  panel.replaceChildren(h("p.muted", { role: "status" }, "Loading…"));
  const state = h("div.digest-status");
  const result = statusLine();
  const preview = h("div.digest-preview");

  async function showStatus() {
    const s = await api("GET", API.digestStatus);
    if (life.stopped) return s;
    const last = s.last_send;
    state.replaceChildren(facts([
      ["Last sent", last ? `${when(last.at)} (${last.kind === "send_now" ? "sent by hand" : "on schedule"}, by ${last.transport}, ${last.email_count} emails)`
        : s.last_sent_at ? when(s.last_sent_at) : "Never", "last-sent"],
      ["Last evening digest", s.last_sent_date || "None yet", "last-sent-date"],
      ["Last error", s.last_error ? `${when(s.last_error.at)}: ${s.last_error.message}` : "None", "last-error"],
      ["Next due", s.policy.enabled ? (s.next_due_at ? when(s.next_due_at) : "—") : "Not scheduled: the digest is off", "next-due"],
      ["Recipients", s.recipients.length ? s.recipients.join(", ") : "No one: no active admin with an email address has kept it on", "recipients"],
      ["Sent by", s.transports.length ? s.transports.join(", ") : "Nothing: set SMTP_HOST or turn Gmail capture on", "transports"],
    ]));
    return s;
  }

  (async () => {
    try {
      const [policy, s] = await Promise.all([api("GET", API.digestPolicy), showStatus()]);
      if (life.stopped) return;
      const form = formFields([
        { name: "enabled", label: "Send the daily digest", type: "checkbox" },
        { name: "send_hour", label: `Send time (${s.timezone})`, type: "select", required: true,
          options: Array.from({ length: 24 }, (_, n) => [String(n), hour(n)]) },
        { name: "cold_after_days", label: "Going cold after (days without email; 0: never)", type: "number" },
      ], { ...policy, send_hour: String(policy.send_hour) });
      const save = h("button.primary", { type: "submit" }, "Save");
      const saved = statusLine();
      const policyForm = h("form.settings-form", { "aria-label": "Digest policy" }, form.element, h("div.page-actions", {}, save, saved));
      policyForm.addEventListener("submit", async (event) => {
        event.preventDefault();
        form.clearErrors();
        saved.set("");
        const values = form.read();
        try {
          await busy(save, "Saving…", () => api("PATCH", API.digestPolicy,
            { enabled: values.enabled, send_hour: Number(values.send_hour), cold_after_days: values.cold_after_days ?? 0 }));
          saved.set("Saved.");
          await showStatus();
        } catch (error) {
          form.showErrors(error);
        }
      });
      const test = h("button", { type: "button" }, "Send Test Digest Email");
      test.addEventListener("click", () => act(test, "Sending…", async () => {
        const sent = await api("POST", API.digestTest, {});
        return `Test email sent to ${sent.recipients.join(", ")} by ${sent.transport}.`;
      }));
      const now = h("button", { type: "button" }, "Send Digest Now");
      now.addEventListener("click", () => act(now, "Sending…", async () => {
        const sent = await api("POST", API.digestSendNow);
        await showStatus();
        return `Digest sent to ${sent.recipients.join(", ")} by ${sent.transport}: ${sent.email_count} emails, ${sent.investor_count} investors.`;
      }));
      const show = h("button", { type: "button" }, "Preview");
      show.addEventListener("click", () => act(show, "Building…", async () => {
        const p = await api("GET", API.digestPreview);
        if (life.stopped) return "";
        preview.replaceChildren(h("h3", {}, "Preview: ", p.subject),
          h("p.muted", {}, `${when(p.since)} – ${when(p.until)} · ${p.email_count} emails · ${p.investor_count} investors · ${p.cold_count} going cold · to ${p.recipients.join(", ") || "no one yet"}`),
          // The plain-text part: the HTML part's inline styles would break this page's style policy inside a srcdoc frame.
          h("pre.digest-text", { tabindex: "0", "aria-label": "Digest text" }, p.body));
        return "Preview below (not sent).";
      }));
      panel.replaceChildren(policyForm, h("h3", {}, "Status"), state,
        h("div.page-actions", {}, test, now, show), result, preview);
    } catch (error) {
      if (!life.stopped) failed(panel, "the digest settings", error);
    }
  })();

  const act = actor(result, life);
  return () => {};
}

// -- Backups -----------------------------------------------------------------------------------------

const KINDS = [["full", "Full (every table)"], ["grid", "Grid only"]];

export function backups(panel, ctx, life) {
  const result = statusLine();
  const restoreBox = h("div.restore-box");
  const policyBox = h("div", {}, h("p.muted", {}, "Loading…"));
  const table = pagedTable({
    url: API.backups, label: "Backups", pageSize: 25,
    columns: [
      { label: "Taken", key: "created_at", render: (b) => when(b.created_at) },
      { label: "Kind", key: "kind" },
      { label: "Why", key: "reason", render: (b) => b.reason.replace(/_/g, " ") },
      { label: "Rows", key: "row_counts", render: (b) => String(Object.values(b.row_counts || {}).reduce((a, n) => a + (Number(n) || 0), 0)) },
      { label: "Verified", key: "verified_ok", render: (b) => b.verified_ok === null || b.verified_ok === undefined ? "Not yet" : b.verified_ok ? "OK" : "Failed" },
      { label: "Actions", key: "actions", render: (b) => h("div.row-actions", {},
        h("button.small", { type: "button", "aria-label": `Verify the backup of ${when(b.created_at)}`, onclick: (e) => act(e.currentTarget, "Verifying…", async () => {
          const v = await api("POST", API.backupVerify, { backup_id: b.id });
          table.reload();
          return v.ok ? "The backup is sound." : "The backup failed verification: do not restore it.";
        }) }, "Verify"),
        h("button.small", { type: "button", "aria-label": `Restore the backup of ${when(b.created_at)}`, onclick: (e) => preview(b, e.currentTarget) }, "Restore…")) },
    ],
  });
  const take = h("button.primary", { type: "button" }, "Take a backup now");
  const kind = h("select", { "aria-label": "Kind of backup" }, ...KINDS.map(([v, l]) => h("option", { value: v }, l)));
  take.addEventListener("click", () => act(take, "Taking a backup…", async () => {
    const b = await api("POST", API.backupTake, { kind: kind.value });
    table.restart();
    return `Backup taken (${b.kind}, ${when(b.created_at)}).`;
  }));

  async function preview(backup, button) {
    result.set("");
    try {
      const p = await busy(button, "Checking…", () => api("POST", API.restorePreview, { backup_id: backup.id }));
      if (life.stopped) return;
      const counts = Object.entries(p.backup.row_counts || {});
      const typed = h("input", { type: "text", id: "restore-confirm", autocomplete: "off" });
      const go = h("button.danger", { type: "button", disabled: true }, "Restore this backup");
      const said = statusLine();
      typed.addEventListener("input", () => { go.disabled = typed.value.trim() !== "RESTORE"; });
      go.addEventListener("click", async () => {
        try {
          const done = await busy(go, "Restoring… (other requests wait)", () => api("POST", API.restore, { backup_id: backup.id }));
          restoreBox.replaceChildren();
          result.set(`Restored the backup of ${when(done.restored.created_at)}. A backup of what was there before was taken first (${when(done.pre_restore_backup.created_at)}).`);
          table.restart();
        } catch (error) {
          said.set(error.message, "error");
        }
      });
      restoreBox.replaceChildren(h("section.restore-preview", { "aria-label": "Restore preview" },
        h("h3", {}, `Restore the ${p.kind} backup of ${when(p.backup.created_at)}?`),
        h("p", {}, p.kind === "grid" ? "The grid's rows, columns and views go back to this backup." : "Every table goes back to this backup.",
          " What is there now is backed up first."),
        counts.length ? h("table.list.compact", { "aria-label": "Rows in the backup" },
          h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Table"), h("th", { scope: "col" }, "Rows"))),
          h("tbody", {}, ...counts.map(([t, n]) => h("tr", {}, h("td", {}, t), h("td", {}, String(n)))))) : null,
        h("label", { for: "restore-confirm" }, "Type RESTORE to confirm"), typed,
        h("div.page-actions", {}, go, h("button", { type: "button", onclick: () => restoreBox.replaceChildren() }, "Cancel"), said)));
      typed.focus();
    } catch (error) {
      result.set(error.message, "error");
    }
  }

  const act = actor(result, life);

  (async () => {
    try {
      const policy = await api("GET", API.backupPolicy);
      if (life.stopped) return;
      const form = formFields([
        { name: "enabled", label: "Take backups automatically", type: "checkbox" },
        { name: "interval_hours", label: "Every (hours)", type: "number" },
        { name: "keep", label: "Automatic backups kept", type: "number" },
        { name: "daily_days", label: "Also keep one a day for (days)", type: "number" },
        { name: "kind_full", label: "Full backups", type: "checkbox" },
        { name: "kind_grid", label: "Grid backups", type: "checkbox" },
      ], { ...policy, kind_full: policy.kinds.includes("full"), kind_grid: policy.kinds.includes("grid") });
      const save = h("button.primary", { type: "submit" }, "Save policy");
      const saved = statusLine();
      const f = h("form.settings-form", { "aria-label": "Backup policy" }, form.element, h("div.page-actions", {}, save, saved));
      f.addEventListener("submit", async (event) => {
        event.preventDefault();
        form.clearErrors();
        saved.set("");
        const { kind_full, kind_grid, ...rest } = form.read();
        const kinds = [kind_full && "full", kind_grid && "grid"].filter(Boolean);
        try {
          await busy(save, "Saving…", () => api("PATCH", API.backupPolicy, { ...rest, kinds }));
          saved.set("Saved.");
        } catch (error) {
          if (error.payload?.fields?.kinds) error.payload.fields = { ...error.payload.fields, kind_full: error.payload.fields.kinds };
          form.showErrors(error);
        }
      });
      policyBox.replaceChildren(f);
    } catch (error) {
      if (!life.stopped) failed(policyBox, "the backup policy", error);
    }
  })();
  panel.replaceChildren(h("h3", {}, "Policy"), policyBox, h("h3", {}, "Backups"),
    h("div.page-actions", {}, kind, take), result, restoreBox, table.element);
  return () => table.stop();
}

// -- Gmail -------------------------------------------------------------------------------------------

const ACCOUNT_WORDS = {
  active: "Capturing normally",
  needs_attention: "Needs attention: capture stopped until an admin runs it again",
  paused: "Paused",
};

export function gmail(panel, ctx, life) {
  if (!ctx.features.email_capture) {  // its routes would answer 503: say so without asking
    panel.replaceChildren(h("p.settings-notice", { role: "status" }, "Gmail capture is off on this server. To turn it on: set "
      + "CRM_GMAIL_INTEGRATION_ENABLED=1 with the Gmail settings (docs/EMAIL.md)."));
    return;
  }
  const result = statusLine();
  const accounts = h("div.gmail-accounts");
  const blocks = h("div.blocklist");
  async function load() {
    try {
      const s = await api("GET", API.emailStatus);
      if (life.stopped) return;
      accounts.replaceChildren(...(s.accounts.length ? s.accounts.map(account) : [h("p.muted", {}, "No mailbox is captured yet. Enroll everyone to start.")]));
    } catch (error) {
      if (life.stopped) return;
      panel.replaceChildren(h("p.settings-notice", { role: "status" }, error.status === 503
        ? `Gmail capture is off on this server. ${error.message.replace(/^Gmail capture is off:\s*/i, "To turn it on: ")}`
        : `Could not load Gmail's status: ${error.message}`));
    }
  }
  function account(a) {
    const run = a.last_run;
    const words = ACCOUNT_WORDS[a.status] || a.status;
    const backlog = a.backlog || {};
    return h("section.gmail-account", { "aria-label": a.email, dataset: { status: a.status } },
      h("h3", {}, a.email, " ", h("span.status-tag", { dataset: { status: a.status } }, words)),
      facts([
        ["Last successful sync", a.last_success_at ? when(a.last_success_at) : "Never yet", "last-success"],
        ["Last error", a.last_error ? `${a.last_error}${a.last_error_at ? ` (${when(a.last_error_at)})` : ""}` : "None", "last-error"],
        ["Next attempt", a.next_attempt_at ? when(a.next_attempt_at) : "—", "next-attempt"],
        ["History", backlog.backfill_done ? "Back-filled" : backlog.backfill_started_at ? `Back-filling since ${when(backlog.backfill_started_at)}` : "Not started", "backfill"],
        ["Waiting", `${backlog.bodies_pending ?? 0} bodies, ${backlog.attachments_pending ?? 0} attachments`, "pending"],
        ["Latest run", run ? `${when(run.started_at)}: ${run.kind}, ${run.status === "ok" ? "finished" : run.status}` +
          ` · ${run.listed} listed, ${run.fetched} fetched, ${run.stored} stored, ${run.matched} matched, ${run.deleted} deleted` +
          (Object.keys(run.skipped || {}).length ? ` · skipped ${Object.entries(run.skipped).map(([k, n]) => `${n} ${k.replace(/_/g, " ")}`).join(", ")}` : "") +
          (run.error ? ` · error: ${run.error}` : "") : "None yet", "last-run"],
      ]),
      recentRuns(a),
      h("button.small", { type: "button", onclick: (e) => act(e.currentTarget, "Starting…", async () => {
        await api("POST", API.emailRunNow, { account_id: a.id });
        setTimeout(() => !life.stopped && load(), 2000);
        return `Sync started for ${a.email}.`;
      }) }, "Sync this mailbox now"));
  }
  // The last ten runs of a mailbox, newest first: when, what kind, how it ended, its counts and its error.
  function recentRuns(a) {
    const runs = a.recent_runs || [];
    if (!runs.length) return null;
    const counts = (r) => `${r.listed} listed, ${r.fetched} fetched, ${r.stored} stored, ${r.matched} matched, ${r.deleted} deleted`;
    return h("details.recent-runs", {}, h("summary", {}, `Recent runs (${runs.length})`),
      h("div.list-scroll", {}, h("table.list", { "aria-label": `Recent runs of ${a.email}` },
        h("thead", {}, h("tr", {}, ...["Started", "Kind", "Result", "Counts", "Error"].map((t) => h("th", { scope: "col" }, t)))),
        h("tbody", {}, ...runs.map((r) => h("tr", { dataset: { status: r.status } }, h("td", {}, when(r.started_at)),
          h("td", {}, r.kind), h("td", {}, r.status === "ok" ? "finished" : r.status), h("td", {}, counts(r)),
          h("td", {}, r.error || "—")))))));
  }
  const act = actor(result, life);
  const enroll = h("button.primary", { type: "button" }, "Enroll everyone");
  enroll.addEventListener("click", () => act(enroll, "Enrolling…", async () => {
    const r = await api("POST", API.emailEnrollAll);
    load();
    return [`${r.enrolled.length} enrolled`, `${r.already.length} already captured`,
      r.skipped.length ? `${r.skipped.length} skipped (${r.skipped.map((s) => `${s.username}: ${s.reason}`).join("; ")})` : ""].filter(Boolean).join(", ") + ".";
  }));
  const runAll = h("button", { type: "button" }, "Sync all now");
  runAll.addEventListener("click", () => act(runAll, "Starting…", async () => {
    const r = await api("POST", API.emailRunNow, {});
    setTimeout(() => !life.stopped && load(), 2000);
    return `Sync started for ${r.started.length} mailbox${r.started.length === 1 ? "" : "es"}.`;
  }));
  const refresh = h("button", { type: "button", onclick: () => load() }, "Refresh");
  panel.replaceChildren(h("div.page-actions", {}, enroll, runAll, refresh), result, accounts,
    h("h3", {}, "Blocklist for every mailbox"), blocks);
  accounts.append(h("p.muted", { role: "status" }, "Loading…"));
  load();
  blocklist(blocks, { scope: "all", isAdmin: true, life });
  return () => {};
}

// -- Search index (docs/RETRIEVAL.md) ----------------------------------------------------------------

// Where the index lives, how full it is (local mode is for ~20,000 chunks: the server's `advice` says when
// to move to a Qdrant server), whether dense vectors are on, the last run; run an ingest or a relationship
// refresh now (both also follow every Gmail sync).
export function searchIndex(panel, ctx, life) {
  const result = statusLine();
  const body = h("div.search-index", {}, h("p.muted", { role: "status" }, "Loading…"));
  async function load() {
    try {
      const s = await api("GET", API.ingestStatus);
      if (life.stopped) return;
      const last = s.last_run;
      const embedding = s.embedding.configured
        ? `${s.embedding.model} at ${s.embedding.server}${s.dense_available === false ? " (not answering: search is BM25 only)" : ""}`
        : "None configured: search is BM25 (keywords) only";
      body.replaceChildren(
        s.advice ? h("p.settings-notice", { role: "alert", dataset: { kind: "advice" } }, s.advice) : "",
        s.available ? "" : h("p.error", { role: "alert" }, `The index is not open: ${s.unavailable_because}`),
        facts([
          ["Store", s.store === "local" ? `Embedded (local mode, for up to ~${s.local_guidance.toLocaleString()} chunks): ${s.where}` : `Qdrant server: ${s.where}`, "store"],
          ["Chunks indexed", s.points === null ? "—" : s.points.toLocaleString(), "points"],
          ["Waiting for dense vectors", s.sparse_only === null ? "—" : s.sparse_only.toLocaleString(), "sparse-only"],
          ["Embedding server", embedding, "embedding"],
          ["Last run", last ? `${when(last.finished_at || last.started_at)}: ${last.chunks ?? 0} chunks, ${last.added ?? 0} added, `
            + `${last.reembedded ?? 0} re-embedded, ${last.removed ?? 0} removed` : "Never yet", "last-run"],
          ["Running now", s.running ? `${s.running.done} of ${s.running.total || "?"}` : "No", "running"],
          ["Last error", s.last_error || "None", "last-error"],
        ]));
    } catch (error) {
      if (!life.stopped) body.replaceChildren(h("p.error", { role: "alert" }, `Could not load the search index's status: ${error.message}`));
    }
  }
  const act = actor(result, life);
  const run = h("button.primary", { type: "button" }, "Run ingest now");
  run.addEventListener("click", () => act(run, "Starting…", async () => {
    await api("POST", API.ingestRun, {});
    setTimeout(() => !life.stopped && load(), 2000);
    return "Ingest started: new and changed records are being indexed.";
  }));
  const refresh = h("button", { type: "button" }, "Refresh entities and relationships");
  refresh.addEventListener("click", () => act(refresh, "Refreshing…", async () => {
    const r = await api("POST", API.relationshipsRefresh, {});
    return `Relationships refreshed: ${r.emailed.added} added, ${r.emailed.updated} updated, ${r.emailed.removed} removed.`;
  }));
  const reload = h("button", { type: "button", onclick: () => load() }, "Reload");
  panel.replaceChildren(h("div.page-actions", {}, run, refresh, reload), result, body);
  load();
  return () => {};
}

// -- Security ----------------------------------------------------------------------------------------

export function security(panel, ctx, life) {
  panel.replaceChildren(h("p.muted", { role: "status" }, "Loading…"));
  api("GET", API.securityStatus).then((s) => {
    if (life.stopped) return;
    panel.replaceChildren(
      h("p.settings-notice", { dataset: { ok: String(s.ok) } }, s.ok ? `Ready to go live (${s.env}).` : `Not ready to go live (${s.env}): fix the items marked ✗.`),
      h("ul.checklist", { "aria-label": "Security checklist" }, ...s.checks.map((c) => h("li", { dataset: { ok: String(c.ok) } },
        h("span.mark", { "aria-hidden": "true" }, c.ok ? "✓" : "✗"),
        h("span.sr-only", {}, c.ok ? "Passed: " : "Failed: "),
        h("strong", {}, c.name.replace(/_/g, " ")), " ", h("span.muted", {}, c.detail)))),
      facts([["HSTS", s.hsts ? "On" : "Off"], ["Banned addresses now", String(s.banned_addresses)], ["Banned users now", String(s.banned_users)]]));
  }).catch((error) => !life.stopped && failed(panel, "the security status", error));
  return () => {};
}

// -- Audit log ---------------------------------------------------------------------------------------

export function audit(panel, ctx, life) {
  const query = new URLSearchParams(location.search);
  const form = formFields([
    { name: "entity_type", label: "Entity type" },
    { name: "action", label: "Action" },
    { name: "actor_id", label: "Who", type: "select", options: [] },
    { name: "since", label: "From", type: "date" },
    { name: "until", label: "Until (inclusive)", type: "date" },
  ], Object.fromEntries(["entity_type", "action", "actor_id", "since", "until"].map((k) => [k, query.get(k) || ""])));
  const actor = form.input("actor_id");
  const people = new Map();
  api("GET", `${API.users}?limit=1000`).then((users) => {
    if (life.stopped) return;
    for (const u of users) people.set(u.id, u.display_name || u.username);
    const picked = query.get("actor_id") || "";
    actor.replaceChildren(h("option", { value: "" }, "Anyone"), ...users.map((u) => h("option", { value: u.id }, u.display_name || u.username)));
    actor.value = picked;
    table.reload();
  }).catch(() => {});
  const apply = h("button.primary", { type: "submit" }, "Filter");
  const clear = h("button", { type: "button" }, "Clear");
  const filters = h("form.settings-form.audit-filters", { "aria-label": "Audit log filters" }, form.element, h("div.page-actions", {}, apply, clear));
  const dayStart = (d) => (d ? new Date(`${d}T00:00:00`).toISOString() : "");
  const dayAfter = (d) => { if (!d) return ""; const t = new Date(`${d}T00:00:00`); t.setDate(t.getDate() + 1); return t.toISOString(); };
  function current() {
    const v = form.read();
    return { entity_type: v.entity_type, action: v.action, actor_id: v.actor_id, since: v.since, until: v.until };
  }
  const table = pagedTable({
    url: API.auditLog, label: "Audit log", pageSize: 50, empty: "No entries match.",
    params: () => { const v = current(); return { ...v, since: dayStart(v.since), until: dayAfter(v.until) }; },
    columns: [
      { label: "When", key: "at", render: (e) => when(e.at) },
      { label: "Who", key: "actor_id", render: (e) => people.get(e.actor_id) || e.actor_id || e.actor_kind },
      { label: "What", key: "entity_type", render: (e) => `${e.entity_type}${e.entity_id ? ` ${e.entity_id}` : ""}` },
      { label: "Action", key: "action" },
      { label: "Changes", key: "changes", render: (e) => changes(e.changes) },
    ],
  });
  function remember() {
    const shown = new URLSearchParams();
    for (const [k, v] of Object.entries(current())) if (v) shown.set(k, v);
    history.replaceState(null, "", `${location.pathname}${shown.size ? `?${shown}` : ""}`);
  }
  filters.addEventListener("submit", (event) => { event.preventDefault(); form.clearErrors(); remember(); table.restart(); });
  clear.addEventListener("click", () => { filters.reset(); actor.value = ""; remember(); table.restart(); });
  panel.replaceChildren(filters, table.element);
  return () => table.stop();
}

function changes(value) {
  if (!value || typeof value !== "object" || !Object.keys(value).length) return "—";
  return h("ul.audit-changes", {}, ...Object.entries(value).map(([field, change]) => h("li", {}, h("strong", {}, field), ": ",
    Array.isArray(change) && change.length === 2 ? `${text(change[0])} → ${text(change[1])}` : text(change))));
}
const text = (v) => (v === null || v === undefined ? "∅" : typeof v === "object" ? JSON.stringify(v) : String(v));

// -- Reset all data ----------------------------------------------------------------------------------

const PHRASE = "RESET ALL DATA";

export function reset(panel, ctx, life) {
  const form = formFields([{ name: "confirm", label: `Type ${PHRASE} to confirm`, required: true }]);
  form.input("confirm").autocomplete = "off";
  const go = h("button.danger", { type: "submit", disabled: true }, "Reset all data");
  const said = statusLine();
  form.input("confirm").addEventListener("input", () => { go.disabled = form.input("confirm").value.trim() !== PHRASE; });
  const f = h("form.settings-form", { "aria-label": "Reset all data" }, form.element, h("div.page-actions", {}, go, said));
  f.addEventListener("submit", async (event) => {
    event.preventDefault();
    form.clearErrors();
    said.set("");
    try {
      const done = await busy(go, "Backing up, then deleting…", () => api("POST", API.resetAll, { confirm: form.input("confirm").value.trim() }));
      if (life.stopped) return;
      const total = Object.values(done.deleted).reduce((a, n) => a + n, 0);
      f.reset();
      go.disabled = true;
      said.set(`Done: ${total.toLocaleString()} records deleted. A full backup was taken first (${done.pre_reset_backup}); restore it from Backups if this was a mistake.`);
    } catch (error) {
      form.showErrors(error);
    }
  });
  panel.replaceChildren(
    h("p", {}, "Deletes every business record: investors in the grid, contacts, organizations, opportunities, communications, LP profiles, tags and feature requests. ",
      "Users, settings, the audit log and the grid's columns, views and rules stay. A full backup is taken first."),
    f);
  return () => {};
}
