// The same-origin JSON API: bearer token in, `{success:false,error:{code,message}}` out as ApiError.
// A request refused for an expired or unknown access token is sent again, once, after the
// session is renewed. Every answer names a D1 bookmark; the newest one goes back with every
// request so reads see this browser's own writes (read replicas), in every tab.

export class ApiError extends Error {
  constructor(status, code, message, retryAfter = null) {
    super(message);
    this.name = 'ApiError';
    this.status = status; // 0 when the server could not be reached
    this.code = code;
    this.retryAfter = retryAfter; // seconds, from Retry-After on 429 and 503
  }
}

/** Access-token failures a renewed session fixes. */
const STALE_TOKEN_CODES = new Set(['token_expired', 'invalid_token']);
const BOOKMARK_HEADER = 'X-D1-Bookmark';
const bookmarkChannel = typeof BroadcastChannel === 'function' ? new BroadcastChannel('edgevid-bookmark') : null;

let bearerToken = null;
let bookmark = null;
let renewSession = async () => false;

export function setBearerToken(token) {
  bearerToken = token;
}

/** `renew()` renews the session and resolves to whether it worked (auth.js sets it). */
export function setSessionRenewer(renew) {
  renewSession = renew;
}

/** The newest bookmark this tab knows (for tests and diagnostics). */
export function currentBookmark() {
  return bookmark;
}

/** The API refused the access token as expired or unknown: a renewed session fixes it. */
export function isStaleToken(error) {
  return error instanceof ApiError && error.status === 401 && STALE_TOKEN_CODES.has(error.code);
}

/**
 * A call of the API. `auth: false` sends no bearer token (the session routes themselves);
 * `renew: false` gives up on a stale token instead of renewing and sending again once;
 * `signal` aborts it.
 */
export async function api(method, path, body, { auth = true, renew = auth, signal } = {}) {
  const sentWith = auth ? bearerToken : null;
  try {
    return await send(method, path, body, sentWith, signal);
  } catch (error) {
    if (!renew || !sentWith || !isStaleToken(error)) throw error;
    // Another call may have renewed the session meanwhile: then just send it again.
    if (bearerToken === sentWith && !(await renewSession())) throw error;
    if (!bearerToken) throw error;
    return send(method, path, body, bearerToken, signal);
  }
}

async function send(method, path, body, token, signal) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (token) headers.Authorization = `Bearer ${token}`;
  if (bookmark) headers[BOOKMARK_HEADER] = bookmark;

  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
      signal,
    });
  } catch (error) {
    if (signal?.aborted && signal.reason?.name !== 'TimeoutError') throw error;
    const message = signal?.aborted ? 'The server did not answer in time.' : 'The server could not be reached.';
    throw new ApiError(0, 'network', `${message} Check your connection and try again.`);
  }
  keepBookmark(response.headers.get(BOOKMARK_HEADER), true);

  // A proxy or a crash can answer with HTML; treat anything unparsable as "no body".
  const payload = await response.json().catch(() => null);
  if (response.ok && payload?.success !== false) return payload ?? {};

  const error = payload?.error ?? {};
  const retryAfter = Number.parseInt(response.headers.get('Retry-After') ?? '', 10);
  throw new ApiError(
    response.status,
    error.code ?? `http_${response.status}`,
    error.message ?? `The server answered ${response.status} ${response.statusText}`.trim(),
    Number.isFinite(retryAfter) ? retryAfter : null,
  );
}

/**
 * D1 bookmarks name a position in the database's history and "are lexicographically
 * sortable ... from oldest-to-newest" (D1 Time Travel docs): the greater one is the newer, and
 * no tab goes back to an older one.
 */
function keepBookmark(value, share) {
  if (!value || (bookmark && value <= bookmark)) return;
  bookmark = value;
  if (share) bookmarkChannel?.postMessage(value);
}

bookmarkChannel?.addEventListener('message', (event) => {
  if (typeof event.data === 'string') keepBookmark(event.data, false);
});
bookmarkChannel?.unref?.(); // Node (the module tests): the channel keeps no process alive
