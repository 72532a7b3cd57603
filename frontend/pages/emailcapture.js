// Email Capture (admins): notes proposed from captured email (or by an agent, through the CRM MCP
// server), as cards to approve, edit-then-approve or reject. "View email" loads the source email only
// when opened; "Draft reply" makes a reply-all draft in the reader's own Gmail and links to it; an
// agent's card has neither and says "Proposed by <agent>". The list is asked for again every ~25 s, so cards
// decided elsewhere (the Matrix review room, another admin) leave; a card being edited or read stays
// as it is until it is decided or gone. `?offset=` keeps the page of cards in the URL.
import { api, apiPage } from "../api.js";
import { API } from "../config.js";
import { h } from "../dom.js";
import { draftReply, ownIds } from "../widgets/draftreply.js";
import { formFields } from "../widgets/form.js";
import { captureOffNotice, captureOffPage, emailBody, emailFields, localTime, person } from "../widgets/emailview.js";

const PAGE = 20;
const REFRESH_MS = 25_000;
const ISO = /\d{4}-\d\d-\d\dT\d\d:\d\d(?::\d\d(?:\.\d+)?)?(?:Z|[+-]\d\d:\d\d)/g;  // times in the server's words

export function mount(root, ctx) {
  if (!ctx.features.email_capture) return captureOffPage(root, "Email Capture");  // nothing to ask: the routes answer 503
  let stopped = false, timer = null, asked = 0;
  let offset = Number(new URLSearchParams(location.search).get("offset")) || 0;
  const cards = new Map();  // proposal id -> {element, proposal}
  const status = h("p.capture-status", { role: "status", "aria-live": "polite" });
  const count = h("span.count", {}, "Loading…");
  const refreshed = h("span.muted.small", {});
  const refresh = h("button", { type: "button", onclick: () => load() }, "Refresh");
  const list = h("div.proposal-list", { "aria-label": "Proposed notes" });
  const prev = h("button", { type: "button", onclick: () => go(offset - PAGE) }, "← Previous");
  const next = h("button", { type: "button", onclick: () => go(offset + PAGE) }, "Next →");
  const body = h("div.capture-body", {}, h("div.page-actions", {}, count, refresh, refreshed), status, list, h("div.pager", {}, prev, next));
  root.replaceChildren(h("section.records-page.capture-page", { "aria-labelledby": "page-title" },
    h("h1", { id: "page-title", tabindex: "-1" }, "Email Capture"),
    h("p.muted.lead-line", {}, "Notes proposed from captured email or by an agent. Nothing reaches an investor's Notes until someone approves it."),
    body));

  function go(to) {
    offset = Math.max(0, to);
    const shown = new URLSearchParams(location.search);
    if (offset) shown.set("offset", offset); else shown.delete("offset");
    history.pushState(null, "", `${location.pathname}${shown.size ? `?${shown}` : ""}`);
    load();
  }

  async function load() {
    const mine = ++asked;
    clearTimeout(timer);
    try {
      const page = await apiPage(`${API.emailProposals}?status=proposed&limit=${PAGE}&offset=${offset}`);
      if (stopped || mine !== asked) return;
      if (!page.data.length && offset && page.total) { offset = Math.max(0, offset - PAGE); return load(); }
      const ids = new Set(page.data.map((p) => p.id));
      for (const [id, card] of cards) {
        // Gone from the list: decided elsewhere. A card that is mid-decision here stays until it is done.
        if (!ids.has(id) && !card.busy) { card.element.remove(); cards.delete(id); }
      }
      let before = null;
      for (const proposal of [...page.data].reverse()) {
        let card = cards.get(proposal.id);
        if (!card) { card = proposalCard(proposal); cards.set(proposal.id, card); }
        list.insertBefore(card.element, before ? before : null);
        before = card.element;
      }
      if (!page.data.length) list.replaceChildren(h("p.empty.muted", {}, "No proposed notes are waiting. New ones appear here as email is captured."));
      else list.querySelector(":scope > p.empty")?.remove();
      const last = offset + page.data.length;
      count.textContent = page.total ? `${offset + 1}–${last} of ${page.total.toLocaleString()} waiting` : "0 waiting";
      prev.disabled = offset === 0;
      next.disabled = last >= page.total;
      refreshed.textContent = `Updated ${new Date().toLocaleTimeString()}`;
    } catch (error) {
      if (stopped || mine !== asked) return;
      if (error.status === 503) { body.replaceChildren(captureOffNotice(error)); return; }
      refreshed.textContent = `Could not refresh: ${error.message}`;
    }
    if (!stopped) timer = setTimeout(load, REFRESH_MS);
  }

  function say(text) { status.textContent = text; }

  function proposalCard(proposal) {
    const card = { proposal, busy: false };
    const email = proposal.email;
    const headingId = `proposal-${proposal.id}-title`;
    const draft = h("p.proposal-draft", {}, proposal.draft);
    const message = h("p.error.card-error", { role: "alert" });
    const buttons = [];
    const button = (label, onclick, cls = "") => {
      const b = h(`button${cls}`, { type: "button", onclick }, label);
      buttons.push(b);
      return b;
    };

    // Edit-then-approve: the note's words in a form field, with the server's 422 beside it.
    const editForm = formFields([{ name: "text", label: "Note as it should read (one line)", type: "textarea", rows: 3 }],
      { text: proposal.draft });
    ownIds(editForm, "text", `proposal-${proposal.id}-text`);
    const edit = h("div.proposal-edit", { hidden: true }, editForm.element, h("div.page-actions", {},
      button("Approve edited note", () => decide("edit"), ".primary"),
      button("Cancel", () => { edit.hidden = true; editButton.hidden = false; editForm.clearErrors(); })));

    const approve = button("Approve", () => decide("approve"), ".primary");
    const editButton = button("Edit…", () => { edit.hidden = false; editButton.hidden = true; editForm.input("text").focus(); });
    const reject = button("Reject", () => decide("reject"), ".danger");
    // An agent's proposal (the CRM MCP server's) has no email behind it: who proposed it, and when.
    const origin = email ? emailOrigin(proposal) : agentOrigin(proposal);
    const drafted = proposal.drafted_by === "template" ? " (from the email's first line)"
      : proposal.drafted_by === "agent" ? "" : ` (drafted by ${proposal.drafted_by})`;
    const element = h("article.proposal-card", { "aria-labelledby": headingId, dataset: { id: proposal.id, source: proposal.source } },
      h("header.proposal-head", {},
        h("h2", { id: headingId }, h("a", { href: `/?row=${encodeURIComponent(proposal.investor.id)}`, dataset: { link: "" } },
          proposal.investor.name || "(unnamed investor)")),
        h("span.muted", {}, proposal.email_count > 1 ? `${proposal.email_count} emails in this thread` : "")),
      origin.fields,
      proposal.snippet ? h("p.proposal-snippet.muted", {}, proposal.snippet) : null,
      h("div.proposal-note", {}, h("h3", {}, "Proposed note", h("span.muted.small", {}, drafted)), draft),
      h("div.page-actions.proposal-actions", {}, approve, editButton, reject, ...origin.actions),
      edit, message, ...origin.panels);
    card.element = element;

    async function decide(action) {
      const text = action === "edit" ? editForm.read().text : undefined;
      editForm.clearErrors();
      message.textContent = "";
      card.busy = true;
      buttons.forEach((b) => { b.disabled = true; });
      say(action === "reject" ? "Rejecting…" : "Approving…");
      try {
        const done = await api("POST", `${API.emailProposals}/${encodeURIComponent(proposal.id)}/decide`,
          action === "edit" ? { action, text } : { action });
        const who = proposal.investor.name || "the investor";
        say(action === "reject" ? `Rejected the note for ${who}.`
          : `Approved: the note is in ${who}'s Notes${done.communication ? " and logged as a communication" : ""}.`);
        element.remove();
        cards.delete(proposal.id);
        load();
      } catch (error) {
        say("");
        card.busy = false;
        if (error.status === 409) {
          // Someone decided first (another admin, or the review room): say who, and let it go.
          message.textContent = `Not changed: ${error.message.replace(ISO, (iso) => localTime(iso))}.`;
          element.classList.add("decided");
          card.busy = true;
          setTimeout(() => { element.remove(); cards.delete(proposal.id); }, 8000);
          return;
        }
        buttons.forEach((b) => { b.disabled = false; });
        if (action === "edit") editForm.showErrors(error);
        else message.textContent = `Could not ${action}: ${error.message}`;
      }
    }
    return card;
  }

  // What a card from captured email shows: the email's fields, "View email" (loaded when first
  // opened, kept afterwards) and "Draft reply" (a reply-all draft in the reader's own Gmail, never sent from here).
  function emailOrigin(proposal) {
    const email = proposal.email;
    const source = h("div.proposal-email", { id: `proposal-${proposal.id}-email`, hidden: true });
    let sourceLoaded = false;
    const view = h("button", { type: "button", "aria-expanded": "false", "aria-controls": source.id, onclick: async () => {
      const open = source.hidden;
      source.hidden = !open;
      view.setAttribute("aria-expanded", String(open));
      view.textContent = open ? "Hide email" : "View email";
      if (!open || sourceLoaded) return;
      sourceLoaded = true;
      source.replaceChildren(h("p.muted", { role: "status" }, "Loading the email…"));
      try {
        const full = await api("GET", `${API.emailDetail}/${encodeURIComponent(email.id)}`);
        source.replaceChildren(emailFields(full), emailBody(full, { title: `Body of “${full.subject || "(no subject)"}”` }));
      } catch (error) {
        sourceLoaded = false;
        source.replaceChildren(h("p.error", { role: "alert" }, error.status === 404
          ? "This email is no longer available (deleted from every mailbox, or no longer matched)."
          : `Could not load the email: ${error.message}`));
      }
    } }, "View email");
    const reply = draftReply(email.id, `proposal-${proposal.id}-reply`);
    const direction = email.direction === "outbound" ? "Sent to" : "Received from";
    const counterpart = email.direction === "outbound" ? (email.to || []).map(person).join(", ") : person(email.from);
    const fields = h("dl.email-fields.compact", {},
      h("dt", {}, direction), h("dd", {}, counterpart || "—"),
      h("dt", {}, "Subject"), h("dd", {}, email.subject || "(no subject)"),
      h("dt", {}, "Date"), h("dd", {}, h("time", { datetime: email.sent_at }, localTime(email.sent_at))));
    return { fields, actions: [view, reply.button], panels: [reply.element, source] };
  }

  function agentOrigin(proposal) {
    const who = proposal.proposed_by?.username || "an agent";
    const fields = h("dl.email-fields.compact.proposal-origin", {},
      h("dt", {}, "Proposed by"), h("dd", {}, who),
      h("dt", {}, "Date"), h("dd", {}, h("time", { datetime: proposal.created_at }, localTime(proposal.created_at))));
    return { fields, actions: [], panels: [] };
  }

  load();
  return () => { stopped = true; clearTimeout(timer); };
}

