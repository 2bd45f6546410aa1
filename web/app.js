// Entry point: shows the sign-in form or the signed-in app and wires the modules together.

import { restoreSession, signIn, signOut, whenSignedOut } from './auth.js';
import { closePlayer, closePlayerIfShowing, play } from './player.js';
import { initUploads, pauseAllUploads } from './upload.js';
import { showUserAdmin } from './users.js';
import { refreshLibrary, startLibrary, stopLibrary } from './videos.js';

const signInView = document.getElementById('sign-in-view');
const signInForm = document.getElementById('sign-in-form');
const signInError = document.getElementById('sign-in-error');
const appView = document.getElementById('app-view');
const account = document.getElementById('account');

function showApp({ user }) {
  signInView.hidden = true;
  appView.hidden = false;
  account.hidden = false;
  document.getElementById('account-email').textContent = user.email;
  document.getElementById('account-role').textContent = user.role;
  showUserAdmin(user.role === 'admin');
  startLibrary({ onPlay: play, onDeleted: (video) => closePlayerIfShowing(video.id) });
}

function showSignIn(message) {
  stopLibrary();
  pauseAllUploads();
  closePlayer();
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
    signInError.textContent = error.code === 'invalid_credentials' ? 'Wrong email or password.' : error.message;
    signInError.hidden = false;
  } finally {
    submit.disabled = false;
  }
});

document.getElementById('sign-out').addEventListener('click', () => signOut());
whenSignedOut(showSignIn);
initUploads({ onChange: refreshLibrary });

const session = restoreSession();
if (session) showApp(session);
else showSignIn();
