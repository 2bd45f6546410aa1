// The admin's dialogs about one user: quotas, a new password, and the delete confirmation.
// Each stays open, showing the server's error, until its action worked or it is cancelled.

import { formatBytes } from './format.js';

const BYTES_PER_GB = 1e9; // the app shows decimal units (format.js)

/** Edits the user's quota overrides; `save(quota)` sends them. Resolves to its result, or null. */
export function editQuotas(user, save) {
  return runDialog(document.getElementById('quota-dialog'), user.email, {
    prepare(form) {
      const overrides = user.quotaOverrides ?? {};
      form.elements.bytes.value = overrides.bytes == null ? '' : String(overrides.bytes / BYTES_PER_GB);
      form.elements.videos.value = overrides.videos ?? '';
      form.elements.uploads.value = overrides.uploads ?? '';
      form.elements.bytes.placeholder = `default (now ${formatBytes(user.quota.bytes)})`;
      form.elements.videos.placeholder = 'default';
      form.elements.uploads.placeholder = 'default';
    },
    submit(form) {
      const bytes = optionalNumber(form.elements.bytes, 'Storage');
      return save({
        bytes: bytes === null ? null : Math.round(bytes * BYTES_PER_GB),
        videos: optionalNumber(form.elements.videos, 'Videos', true),
        uploads: optionalNumber(form.elements.uploads, 'Uploads in progress', true),
      });
    },
  });
}

/** Asks for a new password for the user; `save(password)` sets it. */
export function resetPassword(user, save) {
  return runDialog(document.getElementById('reset-dialog'), user.email, {
    submit: (form) => save(form.elements.password.value),
  });
}

/** Resolves to true once the admin confirmed deleting the user and everything they own. */
export async function confirmDeleteUser(user) {
  return (await runDialog(document.getElementById('delete-user-dialog'), user.email, { submit: () => true })) === true;
}

/** A blank field is null (the default); anything else a number above 0. */
function optionalNumber(input, label, whole = false) {
  const text = input.value.trim();
  if (!text) return null;
  const value = Number(text);
  if (!(value > 0) || (whole && !Number.isInteger(value))) {
    throw new Error(`${label} must be ${whole ? 'a whole number' : 'a number'} above 0, or blank for the default.`);
  }
  return value;
}

/**
 * Opens `dialog` about `email`; on submit runs `submit(form)` and closes with its result, or
 * shows its error and stays open. Cancel, Escape and closing resolve to null.
 */
function runDialog(dialog, email, { prepare, submit }) {
  const form = dialog.querySelector('form');
  const errorEl = form.querySelector('.form-error');
  const cancel = form.querySelector('button[value="cancel"]');
  const submitButton = form.querySelector('button[type="submit"]');
  form.reset();
  dialog.querySelector('.dialog-email').textContent = email;
  if (errorEl) errorEl.hidden = true;
  prepare?.(form);

  return new Promise((resolve) => {
    let result = null;
    const onSubmit = async (event) => {
      event.preventDefault();
      submitButton.disabled = true;
      if (errorEl) errorEl.hidden = true;
      try {
        result = await submit(form);
        dialog.close();
      } catch (error) {
        if (!errorEl) throw error;
        errorEl.textContent = error.message;
        errorEl.hidden = false;
      } finally {
        submitButton.disabled = false;
      }
    };
    const onCancel = () => dialog.close();
    form.addEventListener('submit', onSubmit);
    cancel.addEventListener('click', onCancel);
    dialog.addEventListener(
      'close',
      () => {
        form.removeEventListener('submit', onSubmit);
        cancel.removeEventListener('click', onCancel);
        resolve(result);
      },
      { once: true },
    );
    dialog.showModal();
  });
}
