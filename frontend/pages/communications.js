// Communications (admins): the email-activity panel over every captured mailbox. Filters (investor,
// mailbox, direction, words, dates) and the open email live in the URL query, so a deep link or a
// reload shows the same list and the same email, and back closes an email opened from the list.
//   /communications?investor_id=&account_id=&direction=&q=&since=YYYY-MM-DD&until=YYYY-MM-DD&offset=&email=<id>
// `since`/`until` are local dates (until inclusive); they are sent as ISO instants.
import { api, ApiError } from "../api.js";
import { API } from "../config.js";
import { h } from "../dom.js";
import { draftReply } from "../widgets/draftreply.js";
import { listView } from "../widgets/listview.js";
import { attachmentList, captureOffNotice, captureOffPage, emailBody, emailFields, localTime, person } from "../widgets/emailview.js";

const FILTERS = ["investor_id", "account_id", "direction", "since", "until"];

export function mount(root, ctx) {
  if (!ctx.features.email_capture) return captureOffPage(root, "Communications");  // nothing to ask: the routes answer 503
  let stopped = false;
  let detailAsked = 0;
  const mailboxNames = new Map();  // account id -> its address, from the mailbox picker
  const query = new URLSearchParams(location.search);
  const chosen = Object.fromEntries(FILTERS.map((k) => [k, query.get(k) || ""]));

  const investor = h("select", { id: "comm-investor" }, h("option", { value: "" }, "All investors"));
  const mailbox = h("select", { id: "comm-mailbox" }, h("option", { value: "" }, "All mailboxes"));
  const direction = h("select", { id: "comm-direction" }, h("option", { value: "" }, "Both directions"),
    h("option", { value: "inbound" }, "Received (inbound)"), h("option", { value: "outbound" }, "Sent (outbound)"));
  const since = h("input", { type: "date", id: "comm-since" });
  const until = h("input", { type: "date", id: "comm-until" });
  direction.value = chosen.direction;
  since.value = chosen.since;
  until.value = chosen.until;
  const filterError = h("p.error", { role: "alert" });
  const clear = h("button", { type: "button", onclick: () => {
    for (const el of [investor, mailbox, direction, since, until]) el.value = "";
    applyFilters();
  } }, "Clear filters");
  const field = (label, input) => h("div.filter", {}, h("label", { for: input.id }, label), input);
  const filters = h("div.comm-filters", { role: "group", "aria-label": "Filters" },
    field("Investor", investor), field("Mailbox", mailbox), field("Direction", direction),
    field("From date", since), field("To date (inclusive)", until), clear);

  const detail = h("section.comm-detail", { "aria-label": "Email", tabindex: "-1" },
    h("p.muted", {}, "Choose an email to read it here."));
  // listView's setParams adds to the params it was made with; they are emptied first so that a
  // cleared filter is really gone (the same object, which listView keeps).
  const initial = sent(chosen);
  const list = listView({
    url: API.emailActivity, label: "Captured email", pageSize: 25, params: initial,
    empty: "No captured email matches these filters.",
    columns: [
      { key: "subject", label: "Subject", render: (e) => e.subject || "(no subject)" },
      { key: "from", label: "From", render: (e) => person(e.from) },
      { key: "direction", label: "Direction", render: (e) => h("span.direction", { dataset: { direction: e.direction } },
        e.direction === "outbound" ? "Sent" : "Received") },
      { key: "investors", label: "Investors", render: (e) => e.investors.map((i) => i.name || "(unnamed)").join(", ") },
      { key: "sent_at", label: "Date", render: (e) => h("time", { datetime: e.sent_at }, localTime(e.sent_at)) },
    ],
    onOpen: (email) => {
      const shown = new URLSearchParams(location.search);
      shown.set("email", email.id);
      history.pushState(null, "", `${location.pathname}?${shown}`);
      showEmail(email.id, true);
    },
  });
  const layout = h("div.comm-layout", {}, h("div.comm-results", {}, list.element), detail);
  const body = h("div.comm-body", {}, filters, filterError, layout);
  root.replaceChildren(h("section.records-page.comm-page", { "aria-labelledby": "page-title" },
    h("h1", { id: "page-title", tabindex: "-1" }, "Communications"),
    h("p.muted.lead-line", {}, "Email captured from the team's mailboxes that involves known investors."), body));

  // The list answers 503 when capture is off: say so once, in plain words, instead of the panel.
  const probe = api("GET", `${API.emailActivity}?limit=1`).catch((error) => error);
  probe.then((answer) => {
    if (stopped || !(answer instanceof ApiError)) return;
    if (answer.status === 503) { list.stop(); body.replaceChildren(captureOffNotice(answer)); }
  });
  loadPickers();
  for (const el of [investor, mailbox, direction, since, until]) el.addEventListener("change", applyFilters);
  if (query.get("email")) showEmail(query.get("email"), false);

  async function loadPickers() {
    const [investors, accounts] = await Promise.all([
      api("GET", API.emailActivityInvestors).catch((e) => e), api("GET", API.emailAccounts).catch((e) => e)]);
    if (stopped) return;
    if (Array.isArray(investors)) {
      investor.append(...investors.map((i) => h("option", { value: i.id }, `${i.name || "(unnamed)"} (${i.email_count})`)));
    }
    // A deep link to an investor the picker leaves out (the graveyard) still filters by it.
    if (chosen.investor_id && ![...investor.options].some((o) => o.value === chosen.investor_id)) {
      investor.append(h("option", { value: chosen.investor_id }, "(an investor not in the picker)"));
    }
    investor.value = chosen.investor_id;
    if (Array.isArray(accounts)) for (const a of accounts) mailboxNames.set(a.id, a.email);
    if (Array.isArray(accounts)) mailbox.append(...accounts.map((a) => h("option", { value: a.id }, a.email)));
    if (chosen.account_id && ![...mailbox.options].some((o) => o.value === chosen.account_id)) {
      mailbox.append(h("option", { value: chosen.account_id }, "(a mailbox no longer listed)"));
    }
    mailbox.value = chosen.account_id;
  }

  function applyFilters() {
    Object.assign(chosen, { investor_id: investor.value, account_id: mailbox.value, direction: direction.value,
      since: since.value, until: until.value });
    filterError.textContent = chosen.since && chosen.until && chosen.until < chosen.since
      ? "The To date is before the From date: nothing can match." : "";
    const shown = new URLSearchParams(location.search);
    for (const key of FILTERS) { if (chosen[key]) shown.set(key, chosen[key]); else shown.delete(key); }
    shown.delete("offset");
    history.replaceState(null, "", `${location.pathname}${shown.size ? `?${shown}` : ""}`);
    for (const key of Object.keys(initial)) delete initial[key];
    list.setParams(sent(chosen));
  }

  async function showEmail(id, focus) {
    const mine = ++detailAsked;
    detail.replaceChildren(h("p.muted", { role: "status" }, "Loading the email…"));
    for (const tr of list.element.querySelectorAll("tbody tr")) tr.classList.toggle("selected", tr.dataset.id === id);
    try {
      const email = await api("GET", `${API.emailDetail}/${encodeURIComponent(id)}`);
      if (stopped || mine !== detailAsked) return;
      const thread = await api("GET", `${API.emailThreads}/${encodeURIComponent(email.thread_id)}`).catch(() => null);
      if (stopped || mine !== detailAsked) return;
      const attachments = thread?.messages?.find((m) => m.id === email.id)?.attachments || [];
      const investors = email.investors.map((i, n) => [n ? ", " : "", h("a", { href: `/?row=${encodeURIComponent(i.id)}`, dataset: { link: "" } },
        i.name || "(unnamed)")]).flat();
      const close = h("button.close-detail", { type: "button", "aria-label": "Close the email", onclick: () => {
        const shown = new URLSearchParams(location.search);
        shown.delete("email");
        history.pushState(null, "", `${location.pathname}${shown.size ? `?${shown}` : ""}`);
        detailAsked += 1;
        detail.replaceChildren(h("p.muted", {}, "Choose an email to read it here."));
      } }, "×");
      const reply = draftReply(email.id, "comm-reply");
      detail.replaceChildren(...[
        h("div.comm-detail-head", {}, h("h2", {}, email.subject || "(no subject)"), h("div.page-actions", {}, reply.button, close)),
        reply.element,
        emailFields(email, [["Direction", email.direction === "outbound" ? "Sent" : "Received"],
          ["Investors", investors.length ? h("span", {}, ...investors) : ""],
          ["Mailboxes", email.mailboxes.map((id) => mailboxNames.get(id) || id).join(", ")]]),
        attachmentList(attachments),
        emailBody(email, { title: `Body of “${email.subject || "(no subject)"}”` })].filter(Boolean));
      if (focus) detail.focus({ preventScroll: false });
    } catch (error) {
      if (stopped || mine !== detailAsked) return;
      detail.replaceChildren(error.status === 503 ? captureOffNotice(error) : h("p.error", { role: "alert" },
        error.status === 404 ? "This email is no longer listed (deleted from every mailbox, or no longer matched)."
          : `Could not load this email: ${error.message}`));
    }
  }

  return () => { stopped = true; list.stop(); };
}

// The API's filters from the page's: dates are local days, sent as ISO instants (until: the next midnight).
function sent(chosen) {
  const out = {};
  for (const key of ["investor_id", "account_id", "direction"]) if (chosen[key]) out[key] = chosen[key];
  if (chosen.since) out.since = midnight(chosen.since, 0);
  if (chosen.until) out.until = midnight(chosen.until, 1);
  return out;
}

function midnight(day, plusDays) {
  const [y, m, d] = day.split("-").map(Number);
  const when = new Date(y, m - 1, d + plusDays);
  return Number.isNaN(when.getTime()) ? day : when.toISOString();
}
