// The same-origin JSON API: bearer token in, `{success:false,error:{code,message}}` out as ApiError.

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.name = 'ApiError';
    this.status = status; // 0 when the server could not be reached
    this.code = code;
  }
}

/** Fired when the server rejects our token, so the app can ask to sign in again. */
export const UNAUTHORIZED_EVENT = 'edgevid:unauthorized';

let bearerToken = null;

export function setBearerToken(token) {
  bearerToken = token;
}

export async function api(method, path, body) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (bearerToken) headers.Authorization = `Bearer ${bearerToken}`;

  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, 'network', 'The server could not be reached. Check your connection and try again.');
  }

  // A proxy or a crash can answer with HTML; treat anything unparsable as "no body".
  const payload = await response.json().catch(() => null);
  if (response.ok && payload?.success !== false) return payload ?? {};

  if (response.status === 401 && bearerToken) dispatchEvent(new Event(UNAUTHORIZED_EVENT));
  const error = payload?.error ?? {};
  throw new ApiError(
    response.status,
    error.code ?? `http_${response.status}`,
    error.message ?? `The server answered ${response.status} ${response.statusText}`.trim(),
  );
}
