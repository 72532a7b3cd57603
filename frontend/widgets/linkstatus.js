// The grid toolbar's two link indicators: the save status line (what the save queue is doing,
// "offline — 3 edits waiting" while the link is down) and the live dot (the event stream's state).
// They are separate because they fail separately: edits can wait while the stream is live, and
// the stream can be reconnecting with every edit saved.
import { h } from "../dom.js";

const edits = (n) => `${n} edit${n === 1 ? "" : "s"}`;

const SAVE_TEXT = {
  saved: () => "All changes saved",
  pending: (n) => `${n} unsaved change${n === 1 ? "" : "s"}…`,
  saving: () => "Saving…",
  offline: (n) => (n ? `offline — ${edits(n)} waiting` : "offline — all edits saved"),
  "signed-out": (n) => `signed out — ${edits(n)} waiting`,
  error: (message) => `Not saved: ${message}`,
};

/** The save status line: a role=status element and `set(state, detail)` for the save queue's status hook. */
export function saveStatus() {
  const el = h("div.save-status", { role: "status", dataset: { saveStatus: "saved" } }, SAVE_TEXT.saved());
  return {
    el,
    set(state, detail) {
      el.dataset.saveStatus = state;
      el.textContent = SAVE_TEXT[state](detail);
    },
  };
}

const LIVE_TEXT = {
  connecting: "Live updates: connecting…",
  live: "Live updates on",
  reconnecting: "Live updates: reconnecting…",
  offline: "Live updates: offline, reconnecting when the link is back",
};

/** The live dot: `set(state)` for openEvents' onState (connecting, live, reconnecting, offline). */
export function liveDot() {
  const el = h("span.live", { role: "img", dataset: { live: "connecting" } });
  const set = (state) => {
    el.dataset.live = state;
    el.title = LIVE_TEXT[state];
    el.setAttribute("aria-label", LIVE_TEXT[state]);
  };
  set("connecting");
  return { el, set };
}
