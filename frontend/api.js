// The one way the front end talks to the server.
const KEY = "crm.token";

export const token = () => sessionStorage.getItem(KEY);
export const setToken = (value) => value ? sessionStorage.setItem(KEY, value) : sessionStorage.removeItem(KEY);

export async function api(method, url, body) {
  const headers = {};
  if (token()) headers.Authorization = `Bearer ${token()}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const payload = await response.json().catch(() => ({}));
  if (!response.ok) {
    const detail = payload.fields ? ": " + Object.entries(payload.fields).map(([k, v]) => `${k} ${v}`).join("; ") : "";
    const error = new Error((payload.error || `HTTP ${response.status}`) + detail);
    error.status = response.status;
    throw error;
  }
  return payload.data;
}
