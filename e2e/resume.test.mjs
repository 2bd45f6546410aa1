// Resume: a multipart upload interrupted by closing the page continues, in a new page, from the
// parts S3 already stored; those parts are not sent again.

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
const STOP_AFTER_PARTS = 2;
// Slow the first page's uploads down so that it can be closed with the upload midway.
const THROTTLED_UPLOAD_BYTES_PER_SECOND = 8 * 1024 * 1024;

/** Part numbers of the S3 UploadPart PUTs a page sends that answer 200. */
function recordStoredPartPuts(page) {
  const partNumbers = [];
  page.on('requestfinished', async (request) => {
    if (request.method() !== 'PUT') return;
    const response = await request.response();
    const partNumber = new URL(request.url()).searchParams.get('partNumber');
    if (response?.status() === 200 && partNumber) partNumbers.push(Number(partNumber));
  });
  return partNumbers;
}

describe('resumable upload', { timeout: 20 * 60_000 }, () => {
  let browser;
  let media;
  let mkv;

  before(async () => {
    media = mediaDir();
    mkv = makeLargeMkv(join(media.dir, `resume-test-${RUN}.mkv`));
    browser = await openBrowser();
  });

  after(async () => {
    if (browser) {
      const api = await apiClient(browser.context).catch(() => null);
      await api?.deleteVideosNamed(RUN);
      await browser.close();
    }
    media?.remove();
  });

  test('closing the page midway, then picking the same file again, sends only the missing parts', { timeout: 15 * 60_000 }, async () => {
    const firstPage = await browser.context.newPage();
    const firstPuts = recordStoredPartPuts(firstPage);
    const network = await browser.context.newCDPSession(firstPage);
    await network.send('Network.enable');
    await network.send('Network.emulateNetworkConditions', {
      offline: false,
      latency: 0,
      downloadThroughput: -1,
      uploadThroughput: THROTTLED_UPLOAD_BYTES_PER_SECOND,
    });
    await firstPage.goto('/');
    await signIn(firstPage);
    await firstPage.getByLabel('Choose videos').setInputFiles(mkv);
    const uploadRow = firstPage.getByRole('list', { name: 'Uploads in progress' }).getByRole('listitem');
    await waitUntil(`${STOP_AFTER_PARTS} parts to be stored`, 120_000, () => firstPuts.length >= STOP_AFTER_PARTS, 20);
    // Percent, amount, speed and time left, e.g. "30 % · 16.8 MB of 57.4 MB · 8.4 MB/s · 5 s left".
    assert.match(await uploadRow.textContent(), /\d+ % · [\d.]+ MB of [\d.]+ MB · [\d.]+ [KM]B\/s · .+ left/);
    await screenshot(firstPage, 'uploading');
    await firstPage.close(); // like a crash: no cancel, no complete

    const api = await apiClient(browser.context);
    const { body: list } = await api.get('/api/videos?limit=100');
    const video = list.videos.find((candidate) => candidate.fileName === basename(mkv));
    assert.ok(video, 'the interrupted upload is in the library');
    assert.equal(video.status, 'uploading');
    const { status, body: stored } = await api.get(`/api/videos/${video.id}/parts`);
    assert.equal(status, 200, JSON.stringify(stored));
    const storedNumbers = stored.parts.map((part) => part.partNumber).sort((a, b) => a - b);
    assert.ok(storedNumbers.length >= STOP_AFTER_PARTS && storedNumbers.length < PART_COUNT, `stored parts: ${storedNumbers}`);

    const secondPage = await browser.context.newPage();
    const secondPuts = recordStoredPartPuts(secondPage);
    await secondPage.goto('/');
    // Still signed in; the row tells how to continue.
    const row = libraryRow(secondPage, basename(mkv));
    await row.getByText('choose the same file to resume').waitFor();
    await screenshot(secondPage, 'resume-paused');

    await secondPage.getByLabel('Choose videos').setInputFiles(mkv);
    await waitForStatus(secondPage, basename(mkv), 'ready', 10 * 60_000);

    const missing = Array.from({ length: PART_COUNT }, (_, index) => index + 1).filter((n) => !storedNumbers.includes(n));
    assert.deepEqual([...secondPuts].sort((a, b) => a - b), missing, `stored before: ${storedNumbers}`);
    const { body: after } = await api.get('/api/videos?limit=100');
    const sameFile = after.videos.filter((candidate) => candidate.fileName === basename(mkv));
    assert.deepEqual(sameFile.map((candidate) => candidate.id), [video.id], 'the same video was continued, not a new one');
    assert.deepEqual(browser.errors, []);
  });
});
