// The grid's live feed: Server-Sent Events read with fetch, because the stream
// needs the Authorization header (EventSource cannot send one). Reconnects with
// Last-Event-ID so no version is missed.
import { authHeaders, unauthorized } from "../api.js";
import { API, TIMING } from "../config.js";

export function openEvents(since, { onEvent, onState }) {
  let stopped = false;
  let controller = null;
  let lastId = since;

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

  async function run() {
    while (!stopped) {
      controller = new AbortController();
      try {
        const headers = authHeaders(lastId !== null && lastId !== undefined ? { "Last-Event-ID": String(lastId) } : {});
        const response = await fetch(API.events, { headers, signal: controller.signal, cache: "no-store" });
        if (response.status === 401) { unauthorized(); return; }
        if (!response.ok) throw new Error(`events: HTTP ${response.status}`);
        onState("live");
        const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = "";
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += value.replace(/\r\n?/g, "\n");
          let end;
          while ((end = buffer.indexOf("\n\n")) >= 0) {
            dispatch(buffer.slice(0, end));
            buffer = buffer.slice(end + 2);
          }
        }
      } catch (error) {
        if (stopped) return;
      }
      if (stopped) return;
      onState("reconnecting");
      await new Promise((resolve) => setTimeout(resolve, TIMING.eventsReconnectMs));
    }
  }
  run();
  return () => { stopped = true; controller?.abort(); };
}
