// Sign in and out. The session (token, expiry, user) lives in localStorage so a reload keeps it
// until the token expires.

import { api, setBearerToken, UNAUTHORIZED_EVENT } from './api.js';

const SESSION_KEY = 'edgevid.session';
// setTimeout overflows above 2^31-1 ms (~24.8 days) and would fire at once.
const MAX_TIMER_MS = 2 ** 31 - 1;

let expiryTimer;
let onSignedOut = () => {};

/** `handler(reason)` runs whenever the session ends; reason is null for a deliberate sign-out. */
export function whenSignedOut(handler) {
  onSignedOut = handler;
}

/** The stored session if its token is still valid, else null. */
export function restoreSession() {
  let session = null;
  try {
    session = JSON.parse(localStorage.getItem(SESSION_KEY));
  } catch {
    // A corrupt entry is the same as none.
  }
  if (!session || millisecondsLeft(session) <= 0) {
    localStorage.removeItem(SESSION_KEY);
    return null;
  }
  activate(session);
  return session;
}

export async function signIn(email, password) {
  const { token, expiresAt, user } = await api('POST', '/api/auth', { email, password });
  const session = { token, expiresAt, user };
  localStorage.setItem(SESSION_KEY, JSON.stringify(session));
  activate(session);
  return session;
}

export function signOut(reason = null) {
  clearTimeout(expiryTimer);
  localStorage.removeItem(SESSION_KEY);
  setBearerToken(null);
  onSignedOut(reason);
}

function activate(session) {
  setBearerToken(session.token);
  clearTimeout(expiryTimer);
  expiryTimer = setTimeout(
    () => signOut('Your session has expired. Please sign in again.'),
    Math.min(millisecondsLeft(session), MAX_TIMER_MS),
  );
}

function millisecondsLeft(session) {
  return Date.parse(session.expiresAt) - Date.now();
}

addEventListener(UNAUTHORIZED_EVENT, () => signOut('Your session has ended. Please sign in again.'));
