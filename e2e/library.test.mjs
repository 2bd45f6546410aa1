// The main journey through the web app against the real stack: sign in, upload a small AVI
// (single PUT) and a large MKV (multipart), watch both become ready, play one, reload, delete,
// and check the layout at 360 px and that nothing was logged as an error.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { basename, join } from 'node:path';
import {
  ADMIN,
  apiClient,
  hasHorizontalScroll,
  journeyStep,
  libraryRow,
  makeLargeMkv,
  makeSmallAvi,
  mediaDir,
  openBrowser,
  screenshot,
  signIn,
  unnamedControls,
  waitForStatus,
  waitUntil,
} from './support.mjs';

const READY_TIMEOUT_MS = 10 * 60_000;
const RUN = Date.now().toString(36); // file names unique to this run, so leftovers cannot confuse it

describe('web app', { timeout: 30 * 60_000 }, () => {
  let browser;
  let page;
  let media;
  let avi;
  let mkv;
  const putUrls = [];
  const step = journeyStep();

  before(async () => {
    media = mediaDir();
    avi = makeSmallAvi(join(media.dir, `sample-clip-${RUN}.avi`));
    mkv = makeLargeMkv(join(media.dir, `noise-test-${RUN}.mkv`));
    browser = await openBrowser();
    page = await browser.context.newPage();
    page.on('request', (request) => {
      if (request.method() === 'PUT') putUrls.push(request.url());
    });
  });

  after(async () => {
    if (browser) {
      const api = await apiClient(browser.context).catch(() => null);
      await api?.deleteVideosNamed(RUN);
      await browser.close();
    }
    media?.remove();
  });

  step('signs in; a wrong password is explained inline', async () => {
    await page.goto('/');
    await page.getByRole('heading', { name: 'Sign in to Edgevid' }).waitFor();
    assert.deepEqual(await unnamedControls(page), []);

    await page.getByRole('textbox', { name: 'Email' }).fill(ADMIN.email);
    await page.getByRole('textbox', { name: 'Password' }).fill(`${ADMIN.password}-wrong`);
    await page.getByRole('button', { name: 'Sign in' }).click();
    const alert = page.getByRole('alert').filter({ hasText: 'Wrong email or password.' });
    await alert.waitFor();
    await screenshot(page, 'sign-in-error');
    // Chromium logs every 4xx response as a console error; this one was provoked on purpose.
    await waitUntil('the 401 to be logged', 5000, () => browser.errors.length > 0);
    assert.equal(browser.errors.length, 1, browser.errors.join('\n'));
    assert.match(browser.errors[0], /401/);
    browser.errors.length = 0;

    await signIn(page);
    assert.equal(await alert.count(), 0);
    await page.getByRole('heading', { name: 'Library' }).waitFor();
    assert.ok(await page.getByRole('banner').getByText(ADMIN.email).isVisible());
  });

  step('uploads a small AVI with one PUT and a >50 MiB MKV in parts; both become ready live', { timeout: 2 * READY_TIMEOUT_MS }, async () => {
    await page.getByLabel('Choose videos').setInputFiles([avi, mkv]);

    // Each file gets its own progress bar while it uploads.
    await page.getByRole('progressbar', { name: `Upload of ${basename(mkv)}` }).waitFor();

    const aviStatuses = await waitForStatus(page, basename(avi), 'ready', READY_TIMEOUT_MS);
    const mkvStatuses = await waitForStatus(page, basename(mkv), 'ready', READY_TIMEOUT_MS);
    // The page reached "ready" by itself (no reload), passing through the earlier states.
    assert.ok(mkvStatuses.some((status) => /^(uploading|processing)/.test(status)), mkvStatuses.join(' → '));
    assert.ok(aviStatuses.length >= 1);

    const aviPuts = putUrls.filter((url) => new URL(url).pathname.endsWith('/source.avi'));
    const mkvPuts = putUrls.filter((url) => new URL(url).pathname.endsWith('/source.mkv'));
    assert.equal(aviPuts.length, 1, 'the AVI goes up in one PUT');
    assert.ok(!new URL(aviPuts[0]).searchParams.has('partNumber'));
    const partNumbers = mkvPuts.map((url) => Number(new URL(url).searchParams.get('partNumber'))).sort((a, b) => a - b);
    assert.deepEqual(partNumbers, [1, 2, 3, 4, 5, 6, 7], 'the MKV goes up as 7 parts of 8 MiB, each once');

    const row = libraryRow(page, basename(mkv));
    assert.match(await row.textContent(), new RegExp(`noise-test-${RUN}`)); // title
    assert.match(await row.textContent(), /\d+(\.\d)? MB/); // size
  });

  step('plays a ready video past the first second', async () => {
    await page.getByRole('button', { name: `Play sample-clip-${RUN}` }).click();
    // The player is a region named after the video it shows.
    await page.getByRole('region', { name: `sample-clip-${RUN}` }).locator('video').waitFor();
    await page.waitForFunction(() => document.getElementById('player-video').currentTime > 1, null, { timeout: 30_000 });
    await screenshot(page, 'library-desktop', { fullPage: true });
  });

  step('refreshes its playback URLs before they expire, keeping the position', async () => {
    // A second page whose clock can jump ahead: the URL is valid for an hour of real time.
    const clockPage = await browser.context.newPage();
    await clockPage.clock.install();
    const playbacks = [];
    clockPage.on('response', async (response) => {
      if (/^\/api\/videos\/[^/]+\/playback$/.test(new URL(response.url()).pathname)) playbacks.push(await response.json());
    });
    await clockPage.goto('/');
    await clockPage.getByRole('button', { name: `Play noise-test-${RUN}` }).click();
    await clockPage.waitForFunction(() => document.getElementById('player-video').currentTime > 1, null, { timeout: 30_000 });
    const position = await clockPage.evaluate(() => {
      const video = document.getElementById('player-video');
      video.pause();
      window.metadataLoads = 0;
      video.addEventListener('loadedmetadata', () => (window.metadataLoads += 1));
      return video.currentTime;
    });

    const lifetimeMs = Date.parse(playbacks[0].expiresAt) - Date.now();
    await clockPage.clock.fastForward(Math.ceil(lifetimeMs * 0.8) + 1000);
    await waitUntil('a second playback answer', 30_000, () => playbacks.length >= 2);
    if ((await clockPage.evaluate(() => window.__player.engine)) === 'hls.js') {
      // hls.js takes the fresh credentials with its next request: no reload, no seek.
      await clockPage.waitForTimeout(1000);
      assert.equal(await clockPage.evaluate(() => window.metadataLoads), 0);
    } else {
      // A plain <video src> (the MP4 while the ladder is made) swaps its source and seeks back.
      await clockPage.waitForFunction(() => window.metadataLoads === 1, null, { timeout: 30_000 });
    }
    await waitUntil('the position to be restored', 10_000, async () => {
      const now = await clockPage.evaluate(() => document.getElementById('player-video').currentTime);
      return Math.abs(now - position) < 0.1;
    });
    await clockPage.close();
  });

  step('keeps the session across a reload', async () => {
    await page.reload();
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
    await libraryRow(page, basename(avi)).waitFor();
    await libraryRow(page, basename(mkv)).waitFor();
    assert.equal(await page.getByRole('heading', { name: 'Sign in to Edgevid' }).isVisible(), false);
  });

  step('fits a 360 px wide screen with no sideways scrolling (in dark mode)', async () => {
    await page.setViewportSize({ width: 360, height: 780 });
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.getByRole('button', { name: `Play noise-test-${RUN}` }).click();
    await page.waitForFunction(() => document.getElementById('player-video').readyState >= 1, null, { timeout: 30_000 });
    assert.equal(await hasHorizontalScroll(page), false);
    assert.deepEqual(await unnamedControls(page), []);
    await screenshot(page, 'library-360', { fullPage: true });
    await page.getByRole('button', { name: 'Close player' }).click();
    await page.setViewportSize({ width: 1280, height: 860 });
    await page.emulateMedia({ colorScheme: null });
  });

  step('an admin adds a member, who sees only their own library', async () => {
    const member = { email: `member-${RUN}@example.com`, password: `pw-${RUN}-${Math.random().toString(36).slice(2)}` };
    await page.getByRole('textbox', { name: 'Email' }).fill(member.email);
    await page.getByRole('textbox', { name: 'Password' }).fill(member.password);
    await page.getByRole('combobox', { name: 'Role' }).selectOption('member');
    await page.getByRole('button', { name: 'Add user' }).click();
    await page.getByRole('status').filter({ hasText: `Added ${member.email} as member.` }).waitFor();

    await page.getByRole('button', { name: 'Sign out' }).click();
    await signIn(page, member);
    await page.getByText('No videos yet.').waitFor();
    assert.equal(await page.getByRole('heading', { name: 'Add a user' }).isVisible(), false);
    assert.equal(await libraryRow(page, basename(avi)).count(), 0);

    await page.getByRole('button', { name: 'Sign out' }).click();
    await signIn(page);
    await libraryRow(page, basename(avi)).waitFor();
  });

  step('deletes a video only after confirming', async () => {
    const row = libraryRow(page, basename(avi));
    const videoId = await row.getAttribute('data-id');
    const dialog = page.getByRole('dialog', { name: 'Delete this video?' });

    await row.getByRole('button', { name: 'Delete' }).click();
    await dialog.waitFor();
    await dialog.getByRole('button', { name: 'Keep' }).click();
    await dialog.waitFor({ state: 'hidden' });
    assert.equal(await row.count(), 1, 'Keep leaves the video alone');

    await row.getByRole('button', { name: 'Delete' }).click();
    await dialog.getByRole('button', { name: 'Delete' }).click();
    await row.waitFor({ state: 'detached' });

    const api = await apiClient(browser.context);
    assert.equal((await api.get(`/api/videos/${videoId}`)).status, 404, 'the API no longer knows the video');
  });

  step('a dropped file that is not really a video fails, and the row says why', async () => {
    const fileName = `not-a-video-${RUN}.avi`;
    // Random bytes with a video name: accepted for upload, refused by the converter.
    const dataTransfer = await page.evaluateHandle((name) => {
      const transfer = new DataTransfer();
      transfer.items.add(new File([crypto.getRandomValues(new Uint8Array(64 * 1024))], name, { type: 'video/x-msvideo' }));
      return transfer;
    }, fileName);
    await page.dispatchEvent('#drop-zone', 'dragover', { dataTransfer });
    await page.dispatchEvent('#drop-zone', 'drop', { dataTransfer });

    const seen = await waitForStatus(page, fileName, /^failed: \S/, READY_TIMEOUT_MS);
    assert.ok(seen.at(-1).length > 'failed: '.length + 3, `a reason is shown: ${seen.at(-1)}`);
    await screenshot(page, 'failed-row', { fullPage: true });
  });

  test('logged no console errors and no uncaught exceptions', () => {
    assert.deepEqual(browser.errors, []);
  });
});
