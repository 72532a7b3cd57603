// The one way the front end talks to the server: api(method, url, body).
// A 401 on a signed-in request clears the token and fires "crm:unauthorized";
// the router shows sign-in and returns here afterwards (queued edits are kept).
import { STORAGE } from "./config.js";

export const token = () => sessionStorage.getItem(STORAGE.token);
export const setToken = (value) => value ? sessionStorage.setItem(STORAGE.token, value) : sessionStorage.removeItem(STORAGE.token);

export class ApiError extends Error {
  constructor(status, payload) {
    // In plain words: the server's message, or for its generic "invalid fields: a, b" what it says of
    // each field (never the field names, which are ids and paths such as ops[1].value).
    const generic = !payload.error || /^invalid fields: /.test(payload.error);
    const detail = payload.fields && generic ? Object.values(payload.fields).join("; ") : "";
    super(detail || payload.error || `HTTP ${status}`);
    this.status = status;
    this.payload = payload;
  }
}

export function authHeaders(extra = {}) {
  const headers = { ...extra };
  if (token()) headers.Authorization = `Bearer ${token()}`;
  return headers;
}

export function unauthorized() {
  setToken(null);
  window.dispatchEvent(new CustomEvent("crm:unauthorized"));
}

/** `quiet`: a 401 is only thrown, not turned into a sign-out (for background calls such as presence). */
export async function api(method, url, body, options = {}) {
  if (method === "GET" && prefetched.has(url)) return (await takePrefetched(url, options)).data;
  return (await request(method, url, body, options)).data;
}

// At boot the router asks the first page's first GET together with /me and /features, rather than
// one round trip after them (issue 21). The answer is taken once, by the first api("GET", url), and
// the router forgets what was not taken as soon as the page is mounted: never a stale answer later.
const prefetched = new Map();  // url -> the request's promise

/** Ask GET `url` now; the next api("GET", url) (the same string) takes its answer. */
export function prefetch(url) {
  if (prefetched.has(url)) return;
  const pending = request("GET", url, undefined, { quiet: true });  // a 401 signs out when taken, not before
  pending.catch(() => {});  // not taken: nobody waits for it
  prefetched.set(url, pending);
}

/** A prefetched GET's whole answer ({data, total...}) when `url` was prefetched, else null; taken once. */
export function takePrefetchedPage(url) {
  return prefetched.has(url) ? takePrefetched(url) : null;
}

export function forgetPrefetched() {
  prefetched.clear();
}

async function takePrefetched(url, { quiet = false } = {}) {
  const pending = prefetched.get(url);
  prefetched.delete(url);
  try {
    return await pending;
  } catch (error) {
    if (error.status === 401 && token() && !quiet) unauthorized();
    throw error;
  }
}

/** A list route's whole answer: {data, total, limit, offset}. */
export async function apiPage(url, options = {}) {
  return request("GET", url, undefined, options);
}

// While any request is out, <html data-busy>: the stylesheet shows a progress bar after a moment,
// and tests and the page benchmark wait for it to go.
let inflight = 0;
const busy = (change) => document.documentElement.toggleAttribute("data-busy", (inflight += change) > 0);

async function request(method, url, body, { quiet = false } = {}) {
  const hadToken = Boolean(token());
  const headers = authHeaders(body === undefined ? {} : { "Content-Type": "application/json" });
  busy(+1);
  let response, payload;
  try {
    response = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    payload = await response.json().catch(() => ({}));
  } finally {
    busy(-1);
  }
  if (!response.ok) {
    if (response.status === 401 && hadToken && !quiet) unauthorized();
    throw new ApiError(response.status, payload);
  }
  return payload;
}
