// The header's mentions: a button with your unread count, and a list of the comments that mention
// you; choosing one marks it read and opens its row (the grid's drawer). The count comes from the
// grid's event stream (`mentions` events, passed on as "crm:mentions") and, on pages without the
// stream, from GET /mentions/unread every minute. Built with h() only: comments are text, never HTML.
import { api } from "../api.js";
import { API, ROUTES } from "../config.js";
import { h } from "../dom.js";
import { display } from "./columns.js";

const POLL_MS = 60000;
const LIST_SIZE = 30;
const clip = (text, n = 140) => (text.length > n ? `${text.slice(0, n)}…` : text);

let stopCurrent = null;  // one header at a time: a new shell replaces the old one's

/** The mentions button for the header; `navigate(path)` changes page (the router's). */
export function mentionsWidget({ navigate }) {
  stopCurrent?.();
  const count = h("span.unread-count", { hidden: true, dataset: { unread: "0" } });
  const button = h("button.mentions-button", { type: "button", "aria-haspopup": "dialog", "aria-expanded": "false", title: "Mentions" },
    h("span", { "aria-hidden": "true" }, "@"), h("span.sr-only", {}, "Mentions"), count);
  const list = h("ol.mention-inbox", { "aria-label": "Comments that mention you" });
  const readAll = h("button.link", { type: "button", dataset: { action: "read-all" } }, "Mark all read");
  const message = h("p.mention-inbox-message", { role: "status" });
  const panel = h("div.mentions-panel", { role: "dialog", "aria-label": "Mentions", hidden: true, tabindex: "-1" },
    h("div.mentions-head", {}, h("strong", {}, "Mentions"), readAll), message, list);
  const root = h("div.mentions", {}, button, panel);
  let unread = 0;
  let stopped = false;

  function setCount(n) {
    unread = n;
    count.hidden = n === 0;
    count.textContent = n > 99 ? "99+" : String(n);
    count.dataset.unread = String(n);
    button.setAttribute("aria-label", n ? `Mentions: ${n} unread` : "Mentions");
    readAll.disabled = n === 0;
  }
  setCount(0);

  async function refreshCount() {
    try { setCount((await api("GET", API.mentionsUnread, undefined, { quiet: true })).unread); } catch { /* next time */ }
  }

  async function load() {
    message.textContent = "Loading…";
    try {
      const found = await api("GET", `${API.mentions}?limit=${LIST_SIZE}`);
      if (stopped) return;
      message.textContent = found.length ? "" : "Nobody has mentioned you yet. Type @ and a name in a comment to mention someone.";
      list.replaceChildren(...found.map(item));
    } catch (error) {
      message.textContent = `Could not load your mentions: ${error.message}`;
    }
  }

  function item(m) {
    const link = h("a.mention-item", { href: `${ROUTES.grid}?row=${encodeURIComponent(m.row_id)}`, dataset: { commentId: m.comment_id, rowId: m.row_id, ...(m.read ? {} : { unread: "" }) } },
      h("span.mention-row", {}, m.row_name || "Untitled investor"),
      h("span.mention-text", {}, h("strong", {}, m.author), `: ${clip(m.body)}`),
      h("time", { datetime: m.created_at }, display({ type: "created_time" }, m.created_at)));
    link.addEventListener("click", (event) => {
      if (event.metaKey || event.ctrlKey || event.shiftKey || event.button !== 0) return;  // a new tab: the link as it is
      event.preventDefault();
      open(m);
    });
    return h("li", {}, link);
  }

  async function open(m) {
    close();
    if (!m.read) {
      api("POST", API.mentionsRead, { comment_ids: [m.comment_id] }).then((answer) => setCount(answer.unread), () => {});
    }
    // On the grid its drawer opens beside the rows; elsewhere the grid opens with the row (`/?row=`).
    if (location.pathname === ROUTES.grid && document.querySelector("#grid")) {
      window.dispatchEvent(new CustomEvent("crm:open-row", { detail: { rowId: m.row_id } }));
    } else {
      navigate(`${ROUTES.grid}?row=${encodeURIComponent(m.row_id)}`);
    }
  }

  function show() {
    panel.hidden = false;
    button.setAttribute("aria-expanded", "true");
    panel.focus();
    load();
  }
  function close({ focus = false } = {}) {
    if (panel.hidden) return;
    panel.hidden = true;
    button.setAttribute("aria-expanded", "false");
    if (focus) button.focus();
  }

  button.addEventListener("click", () => (panel.hidden ? show() : close()));
  readAll.addEventListener("click", async () => {
    try {
      setCount((await api("POST", API.mentionsRead, {})).unread);
      for (const a of list.querySelectorAll("a[data-unread]")) delete a.dataset.unread;
    } catch (error) { message.textContent = error.message; }
  });
  panel.addEventListener("keydown", (event) => {
    if (event.key === "Escape") { event.preventDefault(); event.stopPropagation(); close({ focus: true }); }
  });
  const onDocumentClick = (event) => { if (!root.contains(event.target)) close(); };
  const onStream = (event) => { if (typeof event.detail?.unread === "number") setCount(event.detail.unread); };
  document.addEventListener("click", onDocumentClick);
  window.addEventListener("crm:mentions", onStream);
  const poll = setInterval(() => { if (document.visibilityState === "visible") refreshCount(); }, POLL_MS);
  refreshCount();

  stopCurrent = () => {
    stopped = true;
    clearInterval(poll);
    document.removeEventListener("click", onDocumentClick);
    window.removeEventListener("crm:mentions", onStream);
    stopCurrent = null;
  };
  return root;
}
