// Admins add accounts: POST /api/users.

import { api } from './api.js';

const section = document.getElementById('users');
const form = document.getElementById('user-form');
const errorEl = document.getElementById('user-error');
const statusEl = document.getElementById('user-status');

/** Shows the form, empty, to admins only: a new session starts without the last one's messages. */
export function showUserAdmin(visible) {
  section.hidden = !visible;
  form.reset();
  errorEl.hidden = true;
  statusEl.textContent = '';
}

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  const submit = form.querySelector('button[type="submit"]');
  const { email, password, role } = Object.fromEntries(new FormData(form));
  submit.disabled = true;
  errorEl.hidden = true;
  statusEl.textContent = '';
  try {
    const { user } = await api('POST', '/api/users', { email, password, role });
    statusEl.textContent = `Added ${user.email} as ${user.role}.`;
    form.reset();
  } catch (error) {
    errorEl.textContent = error.message;
    errorEl.hidden = false;
  } finally {
    submit.disabled = false;
  }
});
