// One captured email, shown safely: its header fields, attachments, and its body. The HTML body
// (sanitised by the server) goes only into an <iframe sandbox> (no scripts, an opaque origin) through
// its srcdoc property, with a Content Security Policy of its own at the top; remote images are taken
// out before the frame sees them and come back only when the reader presses "Load images".
// Used by the Communications page and Email Capture's "View email".
import { h } from "../dom.js";

const FRAME_CSP = "default-src 'none'; img-src data: cid:; style-src 'unsafe-inline'";
const FRAME_CSP_IMAGES = "default-src 'none'; img-src data: cid: https: http:; style-src 'unsafe-inline'";
const REMOTE = /^\s*https?:/i;

/** "Jane Doe <jane@acme.example>" for {name, email}. */
export function person(p) {
  if (!p) return "";
  if (p.name && p.email && p.name !== p.email) return `${p.name} <${p.email}>`;
  return p.name || p.email || "";
}

export const people = (list) => (list || []).map(person).filter(Boolean).join(", ");

/** A stored ISO time in the reader's local time. */
export function localTime(iso) {
  if (!iso) return "";
  const when = new Date(iso);
  return Number.isNaN(when.getTime()) ? iso : when.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

/** 503 from /api/email/*: capture is switched off. Plain words instead of an error. */
export function captureOffNotice(error) {
  const how = (error?.message || "").replace(/^Gmail capture is off:\s*/i, "").trim();
  return h("div.notice.capture-off", { role: "status" },
    h("p", {}, h("strong", {}, "Gmail capture is off: "), "no email is captured on this server, so there is nothing to show here."),
    h("p.muted", {}, "An administrator turns it on on the server: ", how || "CRM_GMAIL_INTEGRATION_ENABLED=1 and the Gmail settings (docs/EMAIL.md)", "."));
}

/** A whole page that only says capture is off (`ctx.features.email_capture` false: nothing is asked). */
export function captureOffPage(root, title) {
  root.replaceChildren(h("section.records-page", { "aria-labelledby": "page-title" },
    h("h1", { id: "page-title", tabindex: "-1" }, title), captureOffNotice()));
  return () => {};
}

/** The header block: from, to, cc, date, subject (and mailboxes / investors when given). */
export function emailFields(email, extra = []) {
  const rows = [["From", person(email.from)], ["To", people(email.to)], ["Cc", people(email.cc)],
    ["Date", h("time", { datetime: email.sent_at }, localTime(email.sent_at))], ["Subject", email.subject || "(no subject)"], ...extra];
  return h("dl.email-fields", {}, ...rows.filter(([, v]) => v !== "" && v !== null && v !== undefined)
    .flatMap(([label, value]) => [h("dt", {}, label), h("dd", { dataset: { field: label.toLowerCase() } }, value)]));
}

export function attachmentList(attachments) {
  const shown = (attachments || []).filter((a) => !a.inline);
  if (!shown.length) return null;
  return h("div.email-attachments", {}, h("h3", {}, `Attachments (${shown.length})`),
    h("ul", {}, ...shown.map((a) => h("li", {}, h("span.attachment-name", {}, a.filename || "(unnamed)"),
      h("span.muted", {}, [a.mime_type, size(a.size)].filter(Boolean).join(" · "))))));
}

function size(bytes) {
  if (!bytes && bytes !== 0) return "";
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/**
 * The body: HTML in a sandboxed frame (remote images held back until asked for), else the text.
 * Returns the element; `title` names the frame for screen readers.
 */
export function emailBody(email, { title = "Email body" } = {}) {
  if (!email.body_html) {
    if (!email.body_text) return h("p.muted.email-nobody", {}, email.has_body === false
      ? "The body of this email was not captured (only its headers)." : "This email has no body.");
    return h("pre.email-text", { tabindex: "0", "aria-label": title }, email.body_text);
  }
  const { html, blocked } = holdBackImages(email.body_html);
  const frame = h("iframe.email-frame", { title, sandbox: "allow-popups allow-popups-to-escape-sandbox", referrerpolicy: "no-referrer" });
  frame.srcdoc = srcdoc(html, FRAME_CSP);
  if (!blocked) return h("div.email-body", {}, frame);
  const note = h("span.muted", { role: "status" },
    `${blocked} remote image${blocked === 1 ? "" : "s"} blocked (they could tell the sender you read this).`);
  const load = h("button", { type: "button", onclick: () => {
    frame.srcdoc = srcdoc(email.body_html, FRAME_CSP_IMAGES);
    note.textContent = "Remote images loaded.";
    load.remove();
  } }, "Load images");
  return h("div.email-body", {}, h("div.email-images", {}, note, load), frame);
}

// Parsed in an inert document (DOMParser loads nothing and runs nothing): remote <img> sources are
// removed, so no request leaves before the reader asks, and the frame's own policy blocks the rest.
function holdBackImages(html) {
  const doc = new DOMParser().parseFromString(html, "text/html");
  let blocked = 0;
  for (const img of doc.querySelectorAll("img")) {
    if (REMOTE.test(img.getAttribute("src") || "")) { img.removeAttribute("src"); blocked += 1; }
    img.removeAttribute("srcset");
  }
  return { html: doc.body.innerHTML, blocked };
}

function srcdoc(bodyHtml, csp) {
  // The policy comes first, before any of the email's markup is parsed.
  const meta = `<meta http-equiv="Content-Security-Policy" content="${csp}">`;
  return `<!doctype html><html><head>${meta}<meta name="referrer" content="no-referrer"><base target="_blank"></head><body>${bodyHtml}</body></html>`;
}
