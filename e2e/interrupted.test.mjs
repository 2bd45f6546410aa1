// Interrupted multipart uploads: a dropped connection is retried, a closed page is resumed from
// the parts S3 already stored (without sending them again), and Cancel removes everything.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { basename, join } from 'node:path';
import {
  apiClient,
  libraryRow,
  makeLargeMkv,
  mediaDir,
  openBrowser,
  screenshot,
  signIn,
  waitForStatus,
  waitUntil,
} from './support.mjs';

const RUN = Date.now().toString(36);
const PART_COUNT = 7; // ~55 MiB in 8 MiB parts
const ALL_PARTS = Array.from({ length: PART_COUNT }, (_, index) => index + 1);
const READY_TIMEOUT_MS = 10 * 60_000;
// Slows a page's uploads down enough to interrupt them midway.
const THROTTLED_UPLOAD_BYTES_PER_SECOND = 8 * 1024 * 1024;

/** Part numbers of the S3 UploadPart PUTs a page sends: started, then stored (200) or failed. */
function recordPartPuts(page) {
  const puts = { started: [], stored: [], failed: [] };
  const partNumber = (request) => Number(new URL(request.url()).searchParams.get('partNumber'));
  const isPartPut = (request) => request.method() === 'PUT' && new URL(request.url()).searchParams.has('partNumber');
  page.on('request', (request) => {
    if (isPartPut(request)) puts.started.push(partNumber(request));
  });
  page.on('requestfinished', async (request) => {
    if (isPartPut(request) && (await request.response())?.status() === 200) puts.stored.push(partNumber(request));
  });
  page.on('requestfailed', (request) => {
    if (isPartPut(request)) puts.failed.push(partNumber(request));
  });
  return puts;
}

/**
 * A page whose uploads are throttled, signed in (once per profile); `setOffline` cuts and
 * restores its network, and `holdPart(n)` keeps part n's PUT from ever leaving the page.
 */
async function throttledPage(context) {
  const page = await context.newPage();
  const network = await context.newCDPSession(page);
  await network.send('Network.enable');
  const setOffline = (offline) =>
    network.send('Network.emulateNetworkConditions', {
      offline,
      latency: 0,
      downloadThroughput: -1,
      uploadThroughput: THROTTLED_UPLOAD_BYTES_PER_SECOND,
    });
  // Paused before it is sent and never let go: the page waits on it until it closes.
  const holdPart = (partNumber) =>
    network.send('Fetch.enable', {
      patterns: [`*partNumber=${partNumber}&*`, `*partNumber=${partNumber}`].map((urlPattern) => ({ urlPattern, requestStage: 'Request' })),
    });
  await setOffline(false);
  await page.goto('/');
  const signOut = page.getByRole('button', { name: 'Sign out' });
  await signOut.or(page.getByRole('button', { name: 'Sign in' })).waitFor();
  if (!(await signOut.isVisible())) await signIn(page);
  return { page, setOffline, holdPart };
}

const sorted = (numbers) => [...numbers].sort((a, b) => a - b);

describe('interrupted uploads', { timeout: 40 * 60_000 }, () => {
  let browser;
  let media;
  let api;

  before(async () => {
    media = mediaDir();
    browser = await openBrowser();
    api = await apiClient(browser.context);
  });

  after(async () => {
    await api?.deleteVideosNamed(RUN);
    await browser?.close();
    media?.remove();
  });

  /** The API's view of the one video uploaded from this file, or undefined. */
  async function videoOf(file) {
    const { body } = await api.get('/api/videos?limit=100');
    const matches = body.videos.filter((video) => video.fileName === basename(file));
    assert.ok(matches.length <= 1, `one video per file, got ${matches.length}`);
    return matches[0];
  }

  test('a connection lost mid-upload is retried until every part is stored', { timeout: 2 * READY_TIMEOUT_MS }, async () => {
    const mkv = makeLargeMkv(join(media.dir, `network-drop-${RUN}.mkv`));
    const { page, setOffline } = await throttledPage(browser.context);
    const puts = recordPartPuts(page);
    await page.getByLabel('Choose videos').setInputFiles(mkv);
    // Cut while parts are on the wire: the page sends six at once over the throttled link, so
    // by the time one is stored the others are too, and nothing would be left to cut.
    await waitUntil('part uploads to start', 120_000, () => puts.started.length >= 1, 20);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    await setOffline(true);
    await waitUntil('a part PUT to fail', 30_000, () => puts.failed.length >= 1, 20);
    await setOffline(false);

    await waitForStatus(page, basename(mkv), 'ready', READY_TIMEOUT_MS);
    assert.deepEqual(sorted(puts.stored), ALL_PARTS, `failed on the way: ${puts.failed}`);
    // Chromium logs each request that failed while offline; nothing else may be logged.
    assert.deepEqual(browser.errors.filter((error) => !error.includes('net::ERR_INTERNET_DISCONNECTED')), []);
    browser.errors.length = 0;
    await page.close();
  });

  test('closing the page midway, then picking the same file again, sends only the missing parts', { timeout: 2 * READY_TIMEOUT_MS }, async () => {
    const mkv = makeLargeMkv(join(media.dir, `resume-${RUN}.mkv`));
    // The last part never leaves the first page, so something is left to resume however
    // the machine's speed orders the other parts, the row's reading and the screenshot (a
    // throttle alone left that to timing: CI once stored all seven before the page closed).
    const { page: firstPage, holdPart } = await throttledPage(browser.context);
    await holdPart(PART_COUNT);
    const firstPuts = recordPartPuts(firstPage);
    await firstPage.getByLabel('Choose videos').setInputFiles(mkv);
    await waitUntil('2 parts to be stored', 120_000, () => firstPuts.stored.length >= 2, 20);
    // Percent, amount, speed and time left, e.g. "30 % · 16.8 MB of 57.4 MB · 8.4 MB/s · 5 s left".
    const uploadRow = firstPage.getByRole('list', { name: 'Uploads in progress' }).getByRole('listitem');
    assert.match(await uploadRow.textContent(), /\d+ % · [\d.]+ MB of [\d.]+ MB · [\d.]+ [KM]B\/s · .+ left/);
    await screenshot(firstPage, 'uploading');
    await firstPage.close(); // like a crash: no cancel, no complete

    const video = await videoOf(mkv);
    assert.equal(video?.status, 'uploading');
    const { status, body: stored } = await api.get(`/api/videos/${video.id}/parts`);
    assert.equal(status, 200, JSON.stringify(stored));
    const storedNumbers = sorted(stored.parts.map((part) => part.partNumber));
    assert.ok(storedNumbers.length >= 2 && !storedNumbers.includes(PART_COUNT), `stored parts: ${storedNumbers}`);

    // A new page of the same browser profile: still signed in, and the row says how to continue.
    const secondPage = await browser.context.newPage();
    const secondPuts = recordPartPuts(secondPage);
    await secondPage.goto('/');
    await libraryRow(secondPage, basename(mkv)).getByText('choose the same file to resume').waitFor();
    await screenshot(secondPage, 'resume-paused');

    // What the page learns when it resumes: a part that was still in flight when the first
    // page closed may have been stored since.
    const resumedFrom = secondPage.waitForResponse((response) =>
      response.request().method() === 'GET' && new URL(response.url()).pathname === `/api/videos/${video.id}/parts`);
    await secondPage.getByLabel('Choose videos').setInputFiles(mkv);
    const storedAtResume = sorted((await (await resumedFrom).json()).parts.map((part) => part.partNumber));
    assert.ok(storedNumbers.every((n) => storedAtResume.includes(n)), `at resume ${storedAtResume}, before ${storedNumbers}`);
    await waitForStatus(secondPage, basename(mkv), 'ready', READY_TIMEOUT_MS);
    const missing = ALL_PARTS.filter((n) => !storedAtResume.includes(n));
    assert.deepEqual(sorted(secondPuts.stored), missing, `stored at resume: ${storedAtResume}`);
    assert.deepEqual(secondPuts.failed, []);
    assert.equal((await videoOf(mkv)).id, video.id, 'the same video was continued, not a new one');
    assert.deepEqual(browser.errors, []);
    await secondPage.close();
  });

  test('Cancel stops the upload and removes the video', { timeout: 5 * 60_000 }, async () => {
    const mkv = makeLargeMkv(join(media.dir, `cancel-${RUN}.mkv`));
    // Held back, so the upload cannot finish before Cancel is clicked on a slow machine.
    const { page, holdPart } = await throttledPage(browser.context);
    await holdPart(PART_COUNT);
    const puts = recordPartPuts(page);
    await page.getByLabel('Choose videos').setInputFiles(mkv);
    await waitUntil('a first part to be stored', 120_000, () => puts.stored.length >= 1, 20);
    await page.getByRole('button', { name: `Cancel upload of ${basename(mkv)}` }).click();

    await page.getByRole('progressbar', { name: `Upload of ${basename(mkv)}` }).waitFor({ state: 'detached' });
    await libraryRow(page, basename(mkv)).waitFor({ state: 'detached' });
    assert.equal(await videoOf(mkv), undefined, 'the API no longer lists the video');
    const putsAfterCancel = puts.stored.length + puts.failed.length;
    await page.waitForTimeout(2000);
    assert.equal(puts.stored.length + puts.failed.length, putsAfterCancel, 'no PUT after Cancel');
    assert.deepEqual(browser.errors, []);
    await page.close();
  });
});
