// The grid's live feed: Server-Sent Events read with fetch, because the stream
// needs the Authorization header (EventSource cannot send one). Reconnects with
// Last-Event-ID so no version is missed: the server replays every op after it
// (or sends `reset` when there are too many, and the grid reloads its rows).
//
// Over a flaky link a stream can die without an error (a half-open connection over
// Tor or a sleeping hotspot), so: the window's `offline` event drops it at once, the
// `online` event reconnects at once, a stream silent for longer than a few of the
// server's 15 s keep-alives is dropped and reopened, and failed reconnects back off.
import { authHeaders, unauthorized } from "../api.js";
import { API, TIMING } from "../config.js";

export function openEvents(since, { onEvent, onState }) {
  let stopped = false;
  let controller = null;
  let lastId = since;
  let attempt = 0;
  let wake = null;                 // cuts the wait before the next try short
  let silence = null;

  function dispatch(block) {
    let name = "message", id = null;
    const data = [];
    for (const line of block.split("\n")) {
      if (!line || line.startsWith(":")) continue;
      const colon = line.indexOf(":");
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
      if (field === "event") name = value;
      else if (field === "data") data.push(value);
      else if (field === "id") id = value;
    }
    if (id !== null) lastId = Number(id);
    if (!data.length) return;
    let payload;
    try { payload = JSON.parse(data.join("\n")); } catch { return; }
    onEvent(name, payload, id === null ? null : Number(id));
  }

  // Anything read (a keep-alive comment included) proves the stream alive.
  function heard() {
    clearTimeout(silence);
    silence = setTimeout(() => controller?.abort(), TIMING.eventsSilenceMs);
  }

  const pause = (ms) => new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    wake = () => { clearTimeout(timer); resolve(); };
  }).finally(() => { wake = null; });

  const online = () => { attempt = 0; wake?.(); };
  const offline = () => { controller?.abort(); };  // the socket may look open, but nothing will come through it
  window.addEventListener("online", online);
  window.addEventListener("offline", offline);

  async function read(response) {
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      heard();
      buffer += value.replace(/\r\n?/g, "\n");
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        dispatch(buffer.slice(0, end));
        buffer = buffer.slice(end + 2);
      }
    }
  }

  async function run() {
    while (!stopped) {
      if (navigator.onLine === false) {
        // No request while the browser knows there is no link (it could only fail): wait for `online`.
        onState("offline");
        await pause(TIMING.retryMs.at(-1));
        continue;
      }
      controller = new AbortController();
      try {
        const headers = authHeaders(lastId !== null && lastId !== undefined ? { "Last-Event-ID": String(lastId) } : {});
        const response = await fetch(API.events, { headers, signal: controller.signal, cache: "no-store" });
        if (response.status === 401) { unauthorized(); return; }
        if (!response.ok) throw new Error(`events: HTTP ${response.status}`);
        onState("live");
        attempt = 0;
        heard();
        await read(response);
      } catch (error) {
        if (stopped) return;
      } finally {
        clearTimeout(silence);
      }
      if (stopped) return;
      onState(navigator.onLine === false ? "offline" : "reconnecting");
      // The first retry soon (a server restart), then more slowly, jittered so that tabs do not come back in step.
      const wait = attempt === 0 ? TIMING.eventsReconnectMs : TIMING.retryMs[Math.min(attempt, TIMING.retryMs.length - 1)];
      attempt += 1;
      await pause(Math.round(wait * (0.8 + Math.random() * 0.4)));
    }
  }
  run();
  return () => {
    stopped = true;
    controller?.abort();
    clearTimeout(silence);
    wake?.();
    window.removeEventListener("online", online);
    window.removeEventListener("offline", offline);
  };
}
