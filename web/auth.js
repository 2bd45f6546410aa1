// Sessions. The access token lives in this tab's memory only, never in storage; the refresh
// token is an HttpOnly cookie on /api/auth that no script can read and the browser sends by
// itself. A reload restores the session by renewing it (POST /api/auth/refresh).
//
// A renewal happens at 80 % of the access token's life, and when the API refuses a token as
// stale. Each refresh token works once, and a used one presented again ends the sign-in
// everywhere: so renewals (and whatever else sets the cookie) run one at a time in this
// browser, across tabs, under a Web Lock. A tab that waited for the lock simply renews with the
// cookie the tab before it left in the jar.

import { api, isStaleToken, setBearerToken, setSessionRenewer } from './api.js';

const REFRESH_LOCK = 'edgevid-refresh';
const RENEW_AT = 0.8;
// setTimeout overflows above 2^31-1 ms (~24.8 days) and would fire at once.
const MAX_TIMER_MS = 2 ** 31 - 1;
/** After a renewal that failed for a passing reason (network, 5xx, 429). */
const RETRY_MS = [2000, 5000, 15000, 30000];
/** Where earlier versions kept the token; removed on load. */
const LEGACY_KEYS = ['edgevid.session'];
/**
 * Whether this browser holds a session, so a visitor who never signed in is not sent to
 * /api/auth/refresh for a 401 on every load. A flag, never a token: the cookie is the session.
 */
const SIGNED_IN_HINT = 'edgevid.signedIn';
const ENDED_MESSAGE = 'Your session has ended. Please sign in again.';
/** Calls made holding the lock give up after this long, so no tab can hold it forever. */
const LOCKED_CALL_MS = 20_000;

const channel = typeof BroadcastChannel === 'function' ? new BroadcastChannel('edgevid-session') : null;

let session = null; // { token, expiresAt, user }
let epoch = 0; // counts sign-outs: a renewal that outlives one is dropped
let renewing = null; // the renewal in flight in this tab
let renewTimer;
let retries = 0;
let handlers = { onSignedOut() {}, onUserChanged() {} };

/**
 * `onSignedOut(message)` when the session ends (message null for a deliberate sign-out here),
 * `onUserChanged(session)` when another tab signed in (so the cookie now names someone else).
 */
export function onSessionEvents(eventHandlers) {
  handlers = eventHandlers;
}

/** The session the refresh cookie still opens, or null: then show the sign-in form. */
export async function restoreSession() {
  for (const key of LEGACY_KEYS) {
    localStorage.removeItem(key);
    sessionStorage.removeItem(key);
  }
  if (!localStorage.getItem(SIGNED_IN_HINT)) return null;
  try {
    return await renew();
  } catch (error) {
    if (!isEnded(error)) throw error;
    localStorage.removeItem(SIGNED_IN_HINT);
    return null;
  }
}

export async function signIn(email, password) {
  const answer = await exclusive(() => api('POST', '/api/auth', { email, password }, { auth: false, signal: timeout() }));
  const signedIn = activate(answer);
  channel?.postMessage({ type: 'signed-in', userId: signedIn.user.id });
  return signedIn;
}

/**
 * Ends this sign-in here at once (the page shows the sign-in form while the server is told,
 * so nothing typed meanwhile lands in the signed-in page), then on the server (and its
 * cookie), then in every other tab.
 */
export async function signOut() {
  end();
  handlers.onSignedOut(null);
  try {
    await exclusive(() => api('POST', '/api/auth/logout', undefined, { auth: false, signal: timeout() }));
  } catch {
    // The server could not be told: the access token still lapses within minutes.
  }
  channel?.postMessage({ type: 'signed-out' });
}

/**
 * Changes the signed-in user's password. Every other session of the account ends; this one
 * goes on with the fresh tokens of the answer.
 */
export async function changePassword(currentPassword, newPassword) {
  const body = { currentPassword, newPassword };
  // Under the lock (it sets the cookie), so without the renew-and-retry, which takes the lock.
  const change = () => exclusive(() => api('POST', '/api/auth/password', body, { renew: false, signal: timeout() }));
  let answer;
  try {
    answer = await change();
  } catch (error) {
    if (!isStaleToken(error) || !(await renewQuietly())) throw error;
    answer = await change();
  }
  return activate(answer);
}

/**
 * Renews the session: one renewal at a time in this tab, and across tabs under the lock.
 * Resolves to the session, or null if this tab signed out meanwhile.
 */
function renew() {
  const started = epoch;
  renewing ??= exclusive(() => api('POST', '/api/auth/refresh', undefined, { auth: false, signal: timeout() }))
    .then((answer) => (epoch === started ? activate(answer) : null))
    .finally(() => {
      renewing = null;
    });
  return renewing;
}

/** For the API's retry after a stale token: true if the session was renewed. */
async function renewQuietly() {
  if (!session) return false;
  try {
    return Boolean(await renew());
  } catch (error) {
    renewalFailed(error);
    return false;
  }
}

function renewalFailed(error) {
  if (!session) return;
  if (isEnded(error)) {
    end();
    handlers.onSignedOut(ENDED_MESSAGE);
    return;
  }
  // Offline or the server is busy: try again while the token lasts, then on the next request.
  const delay = error.retryAfter ? error.retryAfter * 1000 : RETRY_MS[Math.min(retries, RETRY_MS.length - 1)];
  retries += 1;
  scheduleRenewal(delay);
}

function activate({ token, expiresAt, user }) {
  const before = session?.user;
  session = { token, expiresAt, user };
  localStorage.setItem(SIGNED_IN_HINT, '1');
  retries = 0;
  setBearerToken(token);
  scheduleRenewal(RENEW_AT * lifetimeMs(token, expiresAt));
  if (before && before.id !== user.id) handlers.onUserChanged(session);
  return session;
}

function scheduleRenewal(delayMs) {
  clearTimeout(renewTimer);
  renewTimer = setTimeout(renewQuietly, Math.min(Math.max(delayMs, 0), MAX_TIMER_MS));
}

function end() {
  epoch += 1;
  session = null;
  localStorage.removeItem(SIGNED_IN_HINT);
  clearTimeout(renewTimer);
  setBearerToken(null);
}

/**
 * How long the token lives, from its own claims (exp − iat): this computer's clock may be off,
 * but its timers run at the right speed. Falls back to `expiresAt` by this clock.
 */
function lifetimeMs(token, expiresAt) {
  try {
    const claims = JSON.parse(atob(token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/')));
    if (Number.isFinite(claims.exp) && Number.isFinite(claims.iat) && claims.exp > claims.iat) {
      return (claims.exp - claims.iat) * 1000;
    }
  } catch {
    // Not a JWT we can read: use expiresAt.
  }
  return Date.parse(expiresAt) - Date.now();
}

/** The refresh cookie no longer opens a session: sign in again. */
function isEnded(error) {
  return error.status === 401 || error.status === 403;
}

function timeout() {
  return AbortSignal.timeout(LOCKED_CALL_MS);
}

/** Runs `task` holding the browser-wide refresh lock (where the Web Locks API exists). */
function exclusive(task) {
  return navigator.locks ? navigator.locks.request(REFRESH_LOCK, task) : task();
}

/** The session's token lasts while the tab sleeps; a renewal due meanwhile happens on waking. */
document.addEventListener('visibilitychange', () => {
  if (document.visibilityState !== 'visible' || !session) return;
  const left = Date.parse(session.expiresAt) - Date.now();
  if (left < (1 - RENEW_AT) * lifetimeMs(session.token, session.expiresAt)) renewQuietly();
});

channel?.addEventListener('message', ({ data }) => {
  if (data?.type === 'signed-out' && session) {
    end();
    handlers.onSignedOut('You signed out in another tab.');
  } else if (data?.type === 'signed-in' && data.userId !== session?.user.id) {
    // Another tab signed in: the cookie is theirs now. Follow it.
    const wasSignedIn = Boolean(session);
    renew()
      .then((renewed) => {
        if (renewed && !wasSignedIn) handlers.onUserChanged(renewed);
      })
      .catch(renewalFailed);
  }
});

setSessionRenewer(renewQuietly);
