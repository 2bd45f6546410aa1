// The signed-in user's own account: changing the password (POST /api/auth/password).

import { changePassword } from './auth.js';

const details = document.getElementById('password-details');
const form = document.getElementById('password-form');
const errorEl = document.getElementById('password-error');
const statusEl = document.getElementById('password-status');

/** A new session starts with the form closed and empty. */
export function showAccount() {
  details.open = false;
  form.reset();
  showError(null);
  statusEl.textContent = '';
}

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  const submit = form.querySelector('button[type="submit"]');
  const { currentPassword, newPassword } = Object.fromEntries(new FormData(form));
  submit.disabled = true;
  showError(null);
  statusEl.textContent = '';
  try {
    await changePassword(currentPassword, newPassword);
    form.reset();
    details.open = false;
    statusEl.textContent = 'Password changed. Every other device signed in to your account was signed out.';
  } catch (error) {
    showError(messageFor(error));
    form.elements.currentPassword.focus();
  } finally {
    submit.disabled = false;
  }
});

function messageFor(error) {
  switch (error.code) {
    case 'invalid_credentials':
      return 'The current password is wrong.';
    case 'rate_limited':
      return `Too many wrong passwords. Try again in ${error.retryAfter ?? 60} s.`;
    default:
      return error.message;
  }
}

function showError(message) {
  errorEl.hidden = !message;
  errorEl.textContent = message ?? '';
}
