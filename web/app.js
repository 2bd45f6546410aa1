// Entry point: restores the session (or shows the sign-in form) and wires the modules together.

import { showAccount } from './account.js';
import { onSessionEvents, restoreSession, signIn, signOut } from './auth.js';
import { closePlayer, closePlayerIfShowing, play } from './player.js';
import { initUploads, pauseAllUploads } from './upload.js';
import { hideUserAdmin, showUserAdmin } from './users.js';
import { refreshLibrary, startLibrary, stopLibrary } from './videos.js';

const signInView = document.getElementById('sign-in-view');
const signInForm = document.getElementById('sign-in-form');
const signInError = document.getElementById('sign-in-error');
const appView = document.getElementById('app-view');
const account = document.getElementById('account');
const signOutButton = document.getElementById('sign-out');

function showApp({ user }) {
  signInView.hidden = true;
  appView.hidden = false;
  account.hidden = false;
  document.getElementById('account-email').textContent = user.email;
  document.getElementById('account-role').textContent = user.role;
  showAccount();
  if (user.role === 'admin') showUserAdmin(user);
  else hideUserAdmin();
  startLibrary({ onPlay: play, onDeleted: (video) => closePlayerIfShowing(video.id) });
}

function showSignIn(message) {
  stopLibrary();
  pauseAllUploads();
  closePlayer();
  hideUserAdmin();
  appView.hidden = true;
  account.hidden = true;
  signInView.hidden = false;
  signInError.textContent = message ?? '';
  signInError.hidden = !message;
  signInForm.elements.email.focus();
}

signInForm.addEventListener('submit', async (event) => {
  event.preventDefault();
  const submit = signInForm.querySelector('button[type="submit"]');
  submit.disabled = true;
  signInError.hidden = true;
  try {
    const session = await signIn(signInForm.elements.email.value, signInForm.elements.password.value);
    signInForm.reset();
    showApp(session);
  } catch (error) {
    signInError.textContent = signInMessage(error);
    signInError.hidden = false;
  } finally {
    submit.disabled = false;
  }
});

function signInMessage(error) {
  switch (error.code) {
    case 'invalid_credentials':
      return 'Wrong email or password.';
    case 'account_disabled':
      return 'This account is disabled. Ask an admin to enable it.';
    case 'rate_limited':
      return error.retryAfter
        ? `Too many attempts. Try again in ${waitText(error.retryAfter)}.`
        : 'Too many attempts. Try again later.';
    default:
      return error.message;
  }
}

function waitText(seconds) {
  return seconds < 90 ? `${seconds} s` : `${Math.ceil(seconds / 60)} min`;
}

signOutButton.addEventListener('click', async () => {
  signOutButton.disabled = true;
  try {
    await signOut();
  } finally {
    signOutButton.disabled = false;
  }
});

onSessionEvents({
  onSignedOut: showSignIn,
  // Another tab signed in: this one follows the account the cookie now opens.
  onUserChanged(session) {
    stopLibrary();
    pauseAllUploads();
    closePlayer();
    showApp(session);
  },
});
initUploads({ onChange: refreshLibrary });

try {
  const session = await restoreSession();
  if (session) showApp(session);
  else showSignIn();
} catch (error) {
  showSignIn(`Could not restore your session: ${error.message}`);
}
