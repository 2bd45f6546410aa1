// Sessions and accounts in Chromium against the real stack: the access token only in memory and
// the refresh token in an HttpOnly cookie, renewals that two tabs make at once without ending
// each other's session, an admin managing a member (quotas, role, disable, delete) and what the
// member sees of it (quota_exceeded on upload, a changed password, the renewal that fails once
// disabled), and sign-out.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  ADMIN,
  BASE_URL,
  apiClient,
  journeyStep,
  libraryRow,
  openBrowser,
  screenshot,
  signIn,
  unnamedControls,
  waitUntil,
} from './support.mjs';

const RUN = Date.now().toString(36);
const MEMBER = { email: `account-${RUN}@example.com`, password: `first-${RUN}-password` };
const NEW_PASSWORD = `second-${RUN}-password`;
const RENEW_AT = 0.8; // web/auth.js renews at 80 % of the access token's life
const SESSION_ENDED = 'Your session has ended. Please sign in again.';

/** exp − iat of an access token, in ms. */
function lifetimeMs(token) {
  const claims = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString());
  return (claims.exp - claims.iat) * 1000;
}

/** Every session answer (sign-in, renewal, password change) a page gets: status, body, timing. */
function recordSessions(page) {
  const answers = [];
  page.on('requestfinished', async (request) => {
    const path = new URL(request.url()).pathname;
    if (!['/api/auth', '/api/auth/refresh', '/api/auth/password'].includes(path)) return;
    const response = await request.response();
    answers.push({
      path,
      status: response.status(),
      body: await response.json().catch(() => null),
      started: request.timing().startTime,
      ended: request.timing().startTime + request.timing().responseEnd,
    });
  });
  return answers;
}

/**
 * Pages on the app whose timers can be moved ahead. Playwright's clock belongs to the context
 * (`page.clock` is the context's): it is installed once, and one fastForward moves every page
 * of the context, so two calls would move each page twice as far.
 */
async function clockPages(context, count) {
  await context.clock.install();
  const pages = [];
  for (let i = 0; i < count; i += 1) {
    const page = await context.newPage();
    const sessions = recordSessions(page);
    await page.goto('/');
    pages.push({ page, sessions });
  }
  return pages;
}

/** Console errors other than the 4xx answers a step provoked on purpose (Chromium logs each). */
function unexpected(errors, ...statuses) {
  const expected = new RegExp(`status of (${statuses.join('|')}) `);
  return errors.filter((error) => !(statuses.length && expected.test(error)));
}

describe('sessions and accounts', { timeout: 10 * 60_000 }, () => {
  let admin; // the admin's browser
  let member; // the member's own browser (another cookie jar)
  let page;
  let api;
  let tokenLifetime;
  const step = journeyStep();

  before(async () => {
    admin = await openBrowser();
    member = await openBrowser();
    page = await admin.context.newPage();
    api = await apiClient(admin.context);
  });

  after(async () => {
    // A failed run may leave the member behind: remove it and whatever it uploaded.
    const { body } = (await api?.get('/api/users?limit=200')) ?? {};
    const left = body?.users?.find((user) => user.email === MEMBER.email);
    for (let tries = 0; left && tries < 10; tries += 1) {
      if ((await api.delete(`/api/users/${left.id}`)).status !== 202) break;
    }
    await admin?.close();
    await member?.close();
  });

  step('a reload keeps the session; the token is in no storage and the refresh cookie is HttpOnly', async () => {
    const sessions = recordSessions(page);
    await page.goto('/');
    await signIn(page);
    await page.reload();
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
    await page.getByRole('heading', { name: 'Library' }).waitFor();
    assert.deepEqual(sessions.map((s) => `${s.path} ${s.status}`), ['/api/auth 200', '/api/auth/refresh 200']);
    tokenLifetime = lifetimeMs(sessions[0].body.token);

    const stored = await page.evaluate(() => JSON.stringify([{ ...localStorage }, { ...sessionStorage }]));
    for (const { body } of sessions) assert.ok(!stored.includes(body.token), 'an access token in web storage');
    assert.doesNotMatch(stored, /eyJ[\w-]+\.eyJ/, `no JWT in web storage: ${stored}`);

    const cookies = await admin.context.cookies();
    const refresh = cookies.find((cookie) => cookie.name === 'edgevid_refresh');
    assert.ok(refresh, `a refresh cookie among ${cookies.map((c) => c.name)}`);
    assert.equal(refresh.httpOnly, true);
    assert.equal(refresh.secure, true);
    assert.equal(refresh.sameSite, 'Strict');
    assert.equal(refresh.path, '/api/auth');
    assert.equal(await page.evaluate(() => document.cookie.includes('edgevid_refresh')), false);
    assert.deepEqual(unexpected(admin.errors), []);
  });

  step('two tabs renewing at the same moment both stay signed in', async () => {
    const tabs = await clockPages(admin.context, 2);
    for (const { page: tab } of tabs) await tab.getByRole('button', { name: 'Sign out' }).waitFor();
    // Both timers come due at once: each tab renews, one after the other under the lock.
    await admin.context.clock.fastForward(Math.ceil(tokenLifetime * RENEW_AT) + 1000);
    await waitUntil('both tabs to renew', 15_000, () => tabs.every(({ sessions }) => sessions.length === 2));
    const renewals = tabs.map(({ sessions }) => sessions[1]);
    assert.deepEqual(renewals.map((r) => r.status), [200, 200], JSON.stringify(renewals.map((r) => r.body)));
    const [first, second] = [...renewals].sort((a, b) => a.started - b.started);
    assert.ok(second.started >= first.ended - 1, `the second renewal started ${first.ended - second.started} ms before the first ended`);

    // Their tokens work, and so does the cookie both left behind (no reuse ended the sign-in).
    for (const { page: tab } of tabs) {
      await tab.getByRole('button', { name: 'Refresh users' }).click();
      await tab.getByRole('list', { name: 'Users' }).getByText(ADMIN.email).waitFor();
      await tab.reload();
      await tab.getByRole('button', { name: 'Sign out' }).waitFor();
      await tab.close();
    }
    assert.deepEqual(unexpected(admin.errors), []);
  });

  step('the admin adds a member, who appears in the users list with usage and quotas', async () => {
    const add = page.getByRole('form', { name: 'Add a user' });
    await add.getByRole('textbox', { name: 'Email' }).fill(MEMBER.email);
    await add.getByRole('textbox', { name: 'Password' }).fill(MEMBER.password);
    await add.getByRole('button', { name: 'Add user' }).click();
    await page.getByRole('status').filter({ hasText: `Added ${MEMBER.email} as member.` }).waitFor();
    const row = page.getByRole('list', { name: 'Users' }).getByRole('listitem').filter({ hasText: MEMBER.email });
    await row.waitFor();
    assert.match(await row.textContent(), /0 B of [\d.]+ [KMGT]?B stored · 0 of \d+ videos · 0 of \d+ uploads in progress/);

    // One video at most, set in the quota dialog.
    await row.getByRole('button', { name: `Quotas of ${MEMBER.email}` }).click();
    const dialog = page.getByRole('dialog', { name: 'Quotas' });
    await dialog.getByRole('spinbutton', { name: 'Videos' }).fill('0');
    await dialog.getByRole('button', { name: 'Save quotas' }).click();
    await dialog.getByRole('alert').filter({ hasText: 'Videos must be a whole number above 0' }).waitFor();
    await dialog.getByRole('spinbutton', { name: 'Videos' }).fill('1');
    await dialog.getByRole('button', { name: 'Save quotas' }).click();
    await dialog.waitFor({ state: 'hidden' });
    await page.getByRole('status').filter({ hasText: `Quotas of ${MEMBER.email} saved.` }).waitFor();
    assert.match(await row.textContent(), /0 of 1 videos \(custom\)/);

    // Roles go both ways.
    await row.getByRole('button', { name: `Make admin ${MEMBER.email}` }).click();
    await row.getByRole('button', { name: `Make member ${MEMBER.email}` }).click();
    await row.getByRole('button', { name: `Make admin ${MEMBER.email}` }).waitFor();
    assert.deepEqual(await unnamedControls(page), []);
    await screenshot(page, 'users');
  });

  let memberPage;
  step('over the quota, an upload is refused with the server\'s reason; the admin sees the usage', async () => {
    [{ page: memberPage }] = await clockPages(member.context, 1);
    await signIn(memberPage, MEMBER);
    assert.equal(await memberPage.getByRole('heading', { name: 'Users' }).count(), 0, 'members see no user admin');
    const puts = [];
    memberPage.on('request', (request) => request.method() === 'PUT' && puts.push(request.url()));
    const drop = async (name) => {
      const dataTransfer = await memberPage.evaluateHandle((fileName) => {
        const transfer = new DataTransfer();
        transfer.items.add(new File([new Uint8Array(64 * 1024)], fileName, { type: 'video/mp4' }));
        return transfer;
      }, name);
      await memberPage.dispatchEvent('#drop-zone', 'drop', { dataTransfer });
    };
    await drop(`first-${RUN}.mp4`);
    await waitUntil('the first upload to be sent', 30_000, () => puts.length === 1);
    await libraryRow(memberPage, `first-${RUN}.mp4`).waitFor();

    await drop(`second-${RUN}.mp4`);
    const refused = memberPage.getByRole('alert').filter({ hasText: 'Not uploaded, over your quota:' });
    await refused.waitFor();
    assert.match(await refused.textContent(), /you have 1 of your 1 videos; delete some first/);
    assert.equal(puts.length, 1, 'nothing was sent for the refused file');
    await screenshot(memberPage, 'quota-exceeded');

    // The page's CSP lets uploads reach exactly this stack's storage.
    const csp = (await (await memberPage.request.get('/')).headers())['content-security-policy'];
    const connect = csp.split(';').map((d) => d.trim()).find((d) => d.startsWith('connect-src '));
    assert.ok(connect.split(' ').includes(new URL(puts[0]).origin), `${connect} allows ${new URL(puts[0]).origin}`);
    assert.ok(!connect.split(' ').includes('https:'), connect);

    await page.getByRole('button', { name: 'Refresh users' }).click();
    const row = page.getByRole('list', { name: 'Users' }).getByRole('listitem').filter({ hasText: MEMBER.email });
    await row.getByText(/65.5 KB of [\d.]+ [KMGT]?B stored · 1 of 1 videos \(custom\)/).waitFor();
    assert.deepEqual(unexpected(member.errors, 403), []);
    member.errors.length = 0;
  });

  step('the member changes their password: a wrong current one is explained, other sessions end', async () => {
    // A session of the member elsewhere (an API client's), opened before the change.
    const elsewhere = await fetch(`${BASE_URL}/api/auth`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...MEMBER, refreshDelivery: 'body' }),
    }).then((response) => response.json());
    assert.ok(elsewhere.refreshToken);

    await memberPage.locator('summary', { hasText: 'Change password' }).click();
    const current = memberPage.getByRole('textbox', { name: 'Current password' });
    const fresh = memberPage.getByRole('textbox', { name: 'New password' });
    await current.fill('not the password');
    await fresh.fill(NEW_PASSWORD);
    const change = memberPage.getByRole('form', { name: 'Change password' }).getByRole('button', { name: 'Change password' });
    await change.click();
    await memberPage.getByRole('alert').filter({ hasText: 'The current password is wrong.' }).waitFor();
    assert.equal(await memberPage.evaluate(() => document.activeElement.id), 'password-current');

    await current.fill(MEMBER.password);
    await change.click();
    await memberPage.getByRole('status').filter({ hasText: 'Password changed.' }).waitFor();
    // This browser goes on (its new cookie works after a reload); the other session is over.
    await memberPage.reload();
    await memberPage.getByRole('button', { name: 'Sign out' }).waitFor();
    const renewed = await fetch(`${BASE_URL}/api/auth/refresh`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ refreshToken: elsewhere.refreshToken }),
    });
    assert.equal(renewed.status, 401);
    MEMBER.password = NEW_PASSWORD;
    assert.deepEqual(unexpected(member.errors, 401), []);
    member.errors.length = 0;
  });

  step('a disabled member is signed out at their next renewal and cannot sign in', async () => {
    const row = page.getByRole('list', { name: 'Users' }).getByRole('listitem').filter({ hasText: MEMBER.email });
    await row.getByRole('button', { name: `Disable ${MEMBER.email}` }).click();
    await row.getByText('disabled', { exact: true }).waitFor();
    await page.getByRole('status').filter({ hasText: `${MEMBER.email} is disabled and signed out everywhere.` }).waitFor();

    await memberPage.clock.fastForward(Math.ceil(tokenLifetime * RENEW_AT) + 1000);
    await memberPage.getByRole('heading', { name: 'Sign in to Edgevid' }).waitFor();
    await memberPage.getByRole('alert').filter({ hasText: SESSION_ENDED }).waitFor();
    await memberPage.getByRole('textbox', { name: 'Email' }).fill(MEMBER.email);
    await memberPage.getByRole('textbox', { name: 'Password' }).fill(MEMBER.password);
    await memberPage.getByRole('button', { name: 'Sign in' }).click();
    await memberPage.getByRole('alert').filter({ hasText: 'This account is disabled.' }).waitFor();

    await row.getByRole('button', { name: `Enable ${MEMBER.email}` }).click();
    await row.getByRole('button', { name: `Disable ${MEMBER.email}` }).waitFor();
    await signIn(memberPage, MEMBER);
    assert.deepEqual(unexpected(member.errors, 401, 403), []);
    member.errors.length = 0;
  });

  step('deleting a member says what goes, shows progress, and removes them with their videos', async () => {
    // The API deletes 50 videos a call: the first answer is made to say one is left, as with
    // a user who has many, to see the page call again and count down.
    let calls = 0;
    await page.route('**/api/users/*', async (route) => {
      if (route.request().method() !== 'DELETE' || calls++ > 0) return route.fallback();
      return route.fulfill({ status: 202, json: { success: true, remainingVideos: 1 } });
    });
    const row = page.getByRole('list', { name: 'Users' }).getByRole('listitem').filter({ hasText: MEMBER.email });
    await row.getByRole('button', { name: `Delete ${MEMBER.email}` }).click();
    const dialog = page.getByRole('dialog', { name: 'Delete this user?' });
    assert.match(await dialog.textContent(), /Every video they uploaded is deleted with all its files and versions, for good/);
    await dialog.getByRole('button', { name: 'Keep' }).click();
    await dialog.waitFor({ state: 'hidden' });
    assert.equal(calls, 0);

    await row.getByRole('button', { name: `Delete ${MEMBER.email}` }).click();
    const statuses = [];
    const status = page.locator('#users-status');
    const watch = setInterval(async () => statuses.push(await status.textContent().catch(() => '')), 20);
    await dialog.getByRole('button', { name: 'Delete user and videos' }).click();
    await page.getByRole('status').filter({ hasText: `Deleted ${MEMBER.email} and all their videos.` }).waitFor();
    clearInterval(watch);
    await page.unroute('**/api/users/*');
    await row.waitFor({ state: 'detached' });
    assert.equal(calls, 2, 'called again after the 202');
    assert.ok(statuses.some((text) => text.includes('1 video left')), statuses.join(' | '));

    const { body } = await api.get('/api/users?limit=200');
    assert.equal(body.users.some((user) => user.email === MEMBER.email), false);
    const videos = await api.get('/api/videos?limit=100');
    assert.equal(videos.body.videos.some((video) => video.fileName.includes(RUN)), false, 'their videos are gone');
    // Their browser finds out at its next renewal.
    await memberPage.clock.fastForward(Math.ceil(tokenLifetime * RENEW_AT) + 1000);
    await memberPage.getByRole('heading', { name: 'Sign in to Edgevid' }).waitFor();
    assert.deepEqual(unexpected(admin.errors), []);
    assert.deepEqual(unexpected(member.errors, 401), []);
  });

  step('signing out ends the session in this tab and the others; a reload shows the sign-in form', async () => {
    const other = await admin.context.newPage();
    await other.goto('/');
    await other.getByRole('button', { name: 'Sign out' }).waitFor();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in to Edgevid' }).waitFor();
    await other.getByRole('alert').filter({ hasText: 'You signed out in another tab.' }).waitFor();
    await page.reload();
    await page.getByRole('heading', { name: 'Sign in to Edgevid' }).waitFor();
    const cookies = await admin.context.cookies();
    assert.equal(cookies.some((cookie) => cookie.name === 'edgevid_refresh'), false, 'the cookie is cleared');
    await other.close();
    assert.deepEqual(unexpected(admin.errors), []);
  });
});
