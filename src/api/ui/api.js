// Calls to jit's HTTP API from the page. The session cookie goes along by itself (same
// origin); state changes carry the session's CSRF token in X-CSRF-Token.

let csrfToken = null;
let onSignedOut = () => {};
// Server time minus this browser's time, in milliseconds (so that "time left" is right even
// when the browser's clock is not).
let clockOffsetMs = 0;

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export function setCsrfToken(token) { csrfToken = token; }
export function setSignedOutHandler(fn) { onSignedOut = fn; }
export function setServerTime(iso) {
  const t = Date.parse(iso);
  if (!Number.isNaN(t)) clockOffsetMs = t - Date.now();
}
// Now, by the server's clock.
export function serverNow() { return Date.now() + clockOffsetMs; }

// method, path ("/v1/..."), optional JSON body. Resolves with the parsed answer; rejects with
// an ApiError carrying the API's own message.
export async function api(method, path, body) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && csrfToken) headers['X-CSRF-Token'] = csrfToken;
  let res;
  try {
    res = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
      cache: 'no-store',
    });
  } catch {
    throw new ApiError(0, 'network', 'jit cannot be reached; check the connection and try again.');
  }
  const text = await res.text();
  let data = null;
  if (text) {
    try { data = JSON.parse(text); } catch { data = null; }
  }
  if (!res.ok) {
    const e = data && data.error ? data.error : null;
    const err = new ApiError(res.status, e ? e.code : `http_${res.status}`,
                             e ? e.message : `jit answered HTTP ${res.status}`);
    if (res.status === 401 && !path.startsWith('/ui/auth/')) onSignedOut(err);
    throw err;
  }
  return data;
}
