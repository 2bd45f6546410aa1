// Admins manage accounts: every user with their usage against their quotas (GET /api/users),
// and per user: disable or enable, make admin or member, quotas, a new password, delete
// (PATCH, POST …/password, DELETE /api/users/{id}). Adding a user: POST /api/users.

import { api } from './api.js';
import { formatBytes } from './format.js';
import { confirmDeleteUser, editQuotas, resetPassword } from './user-dialogs.js';

const PAGE_SIZE = 50;
/** A user delete that leaves this many answers in a row without progress is given up on. */
const STALLED_DELETE_CALLS = 3;

const section = document.getElementById('users');
const listEl = document.getElementById('users-list');
const moreButton = document.getElementById('users-more');
const refreshButton = document.getElementById('users-refresh');
const errorEl = document.getElementById('users-error');
const statusEl = document.getElementById('users-status');
const form = document.getElementById('user-form');
const formError = document.getElementById('user-error');
const formStatus = document.getElementById('user-status');

let me = null; // the signed-in admin
let users = [];
let nextCursor = null;
let rows = new Map(); // user id → its <li>, reused so focus survives a refresh
let generation = 0; // answers for an earlier session are dropped

/** Shows the section to an admin, with a fresh list and no earlier messages. */
export function showUserAdmin(user) {
  me = user;
  section.hidden = false;
  form.reset();
  formError.hidden = true;
  formStatus.textContent = '';
  showError(null);
  statusEl.textContent = '';
  users = [];
  rows = new Map();
  listEl.replaceChildren();
  loadUsers();
}

export function hideUserAdmin() {
  generation += 1;
  me = null;
  section.hidden = true;
  users = [];
  rows = new Map();
  listEl.replaceChildren();
}

/** Reads the first page again (`more`: the next page after those shown). */
async function loadUsers({ more = false } = {}) {
  const current = ++generation;
  const cursor = more && nextCursor ? `&cursor=${encodeURIComponent(nextCursor)}` : '';
  refreshButton.disabled = moreButton.disabled = true;
  try {
    const page = await api('GET', `/api/users?limit=${PAGE_SIZE}${cursor}`);
    if (current !== generation) return;
    users = more ? [...users, ...page.users.filter((user) => !rows.has(user.id))] : page.users;
    nextCursor = page.nextCursor;
    showError(null);
    render();
  } catch (error) {
    if (current === generation) showError(`Could not load the users: ${error.message}`);
  } finally {
    refreshButton.disabled = moreButton.disabled = false;
  }
}

function render() {
  const wanted = new Map(users.map((user) => [user.id, rows.get(user.id) ?? createRow()]));
  for (const user of users) fillRow(wanted.get(user.id), user);
  rows = wanted;
  const ordered = [...wanted.values()];
  if (ordered.length !== listEl.children.length || ordered.some((row, index) => listEl.children[index] !== row)) {
    listEl.replaceChildren(...ordered);
  }
  moreButton.hidden = !nextCursor;
}

function createRow() {
  const row = document.createElement('li');
  row.className = 'user';
  row.innerHTML = `
    <div class="user-head">
      <span class="user-email"></span>
      <span class="badge user-role"></span>
      <span class="badge badge-warn user-disabled" hidden>disabled</span>
      <span class="muted user-you" hidden>(you)</span>
    </div>
    <p class="user-usage muted"></p>
    <div class="user-actions">
      <button type="button" class="quiet" data-action="disabled"></button>
      <button type="button" class="quiet" data-action="role"></button>
      <button type="button" class="quiet" data-action="quotas">Quotas</button>
      <button type="button" class="quiet" data-action="password">Reset password</button>
      <button type="button" class="quiet danger-text" data-action="delete">Delete</button>
    </div>`;
  row.querySelector('.user-actions').addEventListener('click', (event) => {
    const button = event.target.closest('button[data-action]');
    if (button && !row.classList.contains('is-busy')) act(row, button.dataset.action);
  });
  return row;
}

function fillRow(row, user) {
  row.user = user;
  row.dataset.id = user.id;
  const self = user.id === me?.id;
  row.querySelector('.user-email').textContent = user.email;
  row.querySelector('.user-role').textContent = user.role;
  row.querySelector('.user-disabled').hidden = !user.disabled;
  row.querySelector('.user-you').hidden = !self;
  row.classList.toggle('is-disabled', user.disabled);
  row.querySelector('.user-usage').textContent = usageText(user);

  const label = (action, text, name = `${text} ${user.email}`) => {
    const button = row.querySelector(`[data-action="${action}"]`);
    button.textContent = text;
    button.setAttribute('aria-label', name);
    return button;
  };
  // An admin does not lock themselves out here: their own password is under "Your account".
  label('disabled', user.disabled ? 'Enable' : 'Disable').hidden = self;
  label('role', user.role === 'admin' ? 'Make member' : 'Make admin').hidden = self;
  label('quotas', 'Quotas', `Quotas of ${user.email}`);
  label('password', 'Reset password', `Reset password of ${user.email}`).hidden = self;
  label('delete', 'Delete').hidden = self;
}

/** "1.2 GB of 107 GB stored · 3 of 1000 videos · 0 of 20 uploads in progress". */
function usageText({ usage, quota, quotaOverrides }) {
  const custom = (field) => (quotaOverrides?.[field] == null ? '' : ' (custom)');
  return [
    `${formatBytes(usage.bytes)} of ${formatBytes(quota.bytes)} stored${custom('bytes')}`,
    `${usage.videos} of ${quota.videos} videos${custom('videos')}`,
    `${usage.uploads} of ${quota.uploads} uploads in progress${custom('uploads')}`,
  ].join(' · ');
}

async function act(row, action) {
  const { user } = row;
  const change = (body) => api('PATCH', `/api/users/${encodeURIComponent(user.id)}`, body);
  switch (action) {
    case 'disabled':
      return busy(row, async () => {
        const answer = await change({ disabled: !user.disabled });
        update(answer.user, answer.user.disabled ? `${user.email} is disabled and signed out everywhere.` : `${user.email} can sign in again.`);
      });
    case 'role':
      return busy(row, async () => {
        const answer = await change({ role: user.role === 'admin' ? 'member' : 'admin' });
        update(answer.user, `${user.email} is now ${answer.user.role === 'admin' ? 'an admin' : 'a member'}.`);
      });
    case 'quotas': {
      const answer = await editQuotas(user, (quota) => change({ quota }));
      if (answer) update(answer.user, `Quotas of ${user.email} saved.`);
      return undefined;
    }
    case 'password': {
      const path = `/api/users/${encodeURIComponent(user.id)}/password`;
      const answer = await resetPassword(user, (password) => api('POST', path, { password }));
      if (answer) update(answer.user, `New password set for ${user.email}; they were signed out everywhere.`);
      return undefined;
    }
    case 'delete':
      if (await confirmDeleteUser(user)) await busy(row, () => deleteUser(user));
      return undefined;
    default:
      return undefined;
  }
}

/**
 * The API deletes a user's videos a batch a call (202 with how many are left), then the user
 * (200): call until it is done, saying how far it got.
 */
async function deleteUser(user) {
  const path = `/api/users/${encodeURIComponent(user.id)}`;
  let left = Infinity;
  let stalled = 0;
  for (;;) {
    const answer = await api('DELETE', path);
    if (answer.remainingVideos === undefined) break;
    stalled = answer.remainingVideos < left ? 0 : stalled + 1;
    if (stalled >= STALLED_DELETE_CALLS) throw new Error(`${answer.remainingVideos} videos could not be deleted; try again`);
    left = answer.remainingVideos;
    statusEl.textContent = `Deleting ${user.email}: ${left} ${left === 1 ? 'video' : 'videos'} left…`;
  }
  users = users.filter((other) => other.id !== user.id);
  render();
  statusEl.textContent = `Deleted ${user.email} and all their videos.`;
  refreshButton.focus(); // the row that had focus is gone
}

/** Runs `task` with the row marked busy; its error is shown above the list. */
async function busy(row, task) {
  row.classList.add('is-busy');
  row.setAttribute('aria-busy', 'true');
  showError(null);
  statusEl.textContent = '';
  try {
    await task();
  } catch (error) {
    showError(`${row.user.email}: ${error.message}`);
  } finally {
    row.classList.remove('is-busy');
    row.removeAttribute('aria-busy');
  }
}

function update(user, message) {
  users = users.map((other) => (other.id === user.id ? user : other));
  render();
  showError(null);
  statusEl.textContent = message;
}

function showError(message) {
  errorEl.hidden = !message;
  errorEl.textContent = message ?? '';
}

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  const submit = form.querySelector('button[type="submit"]');
  const { email, password, role } = Object.fromEntries(new FormData(form));
  submit.disabled = true;
  formError.hidden = true;
  formStatus.textContent = '';
  try {
    const { user } = await api('POST', '/api/users', { email, password, role });
    formStatus.textContent = `Added ${user.email} as ${user.role}.`;
    form.reset();
    loadUsers();
  } catch (error) {
    formError.textContent = error.message;
    formError.hidden = false;
  } finally {
    submit.disabled = false;
  }
});

refreshButton.addEventListener('click', () => loadUsers());
moreButton.addEventListener('click', () => loadUsers({ more: true }));
