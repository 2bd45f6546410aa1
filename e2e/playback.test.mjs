// Adaptive playback in Chromium against the real stack: a clip uploaded through the web app
// plays as MP4 at once and gets its HLS ladder, poster and storyboard from the origin; then it
// plays through hls.js, previews frames on the seek bar, switches renditions from the quality
// menu, steps down on a throttled network, and keeps playing past the expiry of its first
// signed URLs. `cargo xtask test` runs this file in the s3 playback mode (with the other
// suites) and again in the edge mode, both with short-lived playback URLs; the second run
// (EDGEVID_E2E_PLAYBACK_MODE_ONLY=1) skips the steps whose outcome does not depend on the mode.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { basename, join } from 'node:path';
import { parseMediaUrl, signedUrlExpiry } from '../web/media-urls.js';
import {
  BASE_URL,
  apiClient,
  journeyStep,
  libraryRow,
  makeAdaptiveMp4,
  mediaDir,
  openBrowser,
  screenshot,
  signIn,
  waitForStatus,
  waitUntil,
} from './support.mjs';

const READY_TIMEOUT_MS = 10 * 60_000;
const RUN = Date.now().toString(36);
const NAME = `adaptive-${RUN}`;
// The throttled network carries this much more than the lowest rendition's BANDWIDTH: enough
// for it (the ladder's rungs are further apart than that), too little for the top one.
const THROTTLE_HEADROOM = 1.3;
// Playback URLs living longer than this are not waited out (PLAYBACK_URL_TTL_SECONDS is long).
const LONGEST_EXPIRY_WAIT_MS = 60_000;
const MODE_ONLY = process.env.EDGEVID_E2E_PLAYBACK_MODE_ONLY === '1';
const SAME_IN_EVERY_MODE = 'the same in every playback mode: run once (EDGEVID_E2E_PLAYBACK_MODE_ONLY)';

/** What the player is doing, read in the page through its debug handle. */
function playerState(page) {
  return page.evaluate(() => {
    const video = document.getElementById('player-video');
    const hls = window.__player.hls;
    const height = (index) => (hls && index >= 0 ? hls.levels[index]?.height : null) ?? null;
    return {
      engine: window.__player.engine,
      time: video.currentTime,
      heights: hls ? hls.levels.map((level) => level.height).sort((a, b) => b - a) : [],
      loading: height(hls?.loadLevel ?? -1),
      playing: height(hls?.currentLevel ?? -1),
      auto: hls?.autoLevelEnabled ?? null,
    };
  });
}

describe('adaptive playback', { timeout: 20 * 60_000 }, () => {
  let browser;
  let page;
  let media;
  let clip;
  const playbacks = []; // every playback answer the page got, in order
  const mediaRequests = []; // playlists, segments and storyboard files: {url, status, at}
  const step = journeyStep();

  before(async () => {
    media = mediaDir();
    clip = makeAdaptiveMp4(join(media.dir, `${NAME}.mp4`));
    browser = await openBrowser();
    page = await browser.context.newPage();
    page.on('response', async (response) => {
      const url = response.url();
      if (/\/api\/videos\/[^/]+\/playback$/.test(new URL(url).pathname) && response.ok()) {
        playbacks.push(await response.json());
      } else if (/\/hls\/|storyboard/.test(url)) {
        mediaRequests.push({ url, status: response.status(), at: Date.now() });
      }
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

  const row = () => libraryRow(page, basename(clip));
  const poster = () => row().getByRole('img', { name: `Poster of ${NAME}` });

  step('an uploaded clip becomes ready, then gets its ladder and a poster in the library', { timeout: 2 * READY_TIMEOUT_MS }, async () => {
    await page.goto('/');
    await signIn(page);
    await page.getByLabel('Choose videos').setInputFiles(clip);
    await waitForStatus(page, basename(clip), 'ready', READY_TIMEOUT_MS);

    // While the ladder is made the row says so ("more qualities N %"); the poster comes with it.
    const notes = [];
    await waitUntil(() => `a poster in the row (ladder notes seen: ${notes.join(' → ') || 'none'})`, READY_TIMEOUT_MS, async () => {
      const note = await row().locator('.ladder').textContent();
      if (note && notes.at(-1) !== note) notes.push(note);
      return (await poster().count()) === 1 && (await poster().evaluate((img) => img.complete && img.naturalWidth > 0));
    });
    assert.ok(await row().locator('.ladder').isHidden(), 'nothing left to say about the ladder');
  });

  step('plays through hls.js with every rendition, the poster on the video', async () => {
    await page.getByRole('button', { name: `Play ${NAME}` }).click();
    await page.waitForFunction(
      () => window.__player.engine === 'hls.js' && document.getElementById('player-video').currentTime > 1,
      null,
      { timeout: 30_000 },
    );
    const state = await playerState(page);
    assert.deepEqual(state.heights, [480, 360, 240]);
    const answer = playbacks.at(-1);
    assert.ok(answer.hls && answer.poster && answer.storyboard, JSON.stringify(answer));
    assert.equal(await page.locator('#player-video').getAttribute('poster'), answer.poster);
    await page.getByRole('button', { name: /^Quality: Auto/ }).waitFor();

    // Edge mode: every file through the Worker. s3 mode: playlists through the Worker (rewritten),
    // segment bytes straight from storage with their own signatures; a segment URL of an older
    // grant goes through the Worker (media-urls.js), which only redirects it to storage.
    const edgeMode = parseMediaUrl(answer.url) !== null;
    const segments = mediaRequests.filter(({ url }) => /\.(m4s|mp4)(\?|$)/.test(url) && url.includes('/hls/'));
    assert.ok(segments.length > 0, 'segments were fetched');
    for (const { url, status } of segments) {
      assert.ok(status < 400, `${status} ${url}`);
      const throughWorker = url.startsWith(`${BASE_URL}/media/`);
      if (edgeMode) assert.ok(throughWorker && status < 300, `${status} ${url}`);
      else assert.ok(!throughWorker || status >= 300, `the Worker served a segment in s3 mode: ${status} ${url}`);
    }
    if (!edgeMode) assert.ok(segments.some(({ url }) => !url.startsWith(BASE_URL)), 'segments came from storage');
  });

  step('steps down to a lower rendition when the network is throttled', async (t) => {
    if (MODE_ONLY) return t.skip(SAME_IN_EVERY_MODE);
    // Right after the start, with the rest of the clip still to fetch: on loopback ABR is at
    // the top rendition (or soon gets there).
    await page.waitForFunction(() => {
      const hls = window.__player.hls;
      return hls.levels[hls.loadLevel]?.height === 480;
    }, null, { timeout: 30_000 });

    const lowest = await page.evaluate(() => Math.min(...window.__player.hls.levels.map((level) => level.bitrate)));
    const bytesPerSecond = Math.round((lowest * THROTTLE_HEADROOM) / 8);
    const cdp = await browser.context.newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', {
      offline: false,
      latency: 100,
      downloadThroughput: bytesPerSecond,
      uploadThroughput: bytesPerSecond,
    });
    try {
      // Jump past what is buffered: the next segment has to come over the slow network.
      await page.evaluate(() => {
        const video = document.getElementById('player-video');
        const end = video.buffered.length ? video.buffered.end(video.buffered.length - 1) : 0;
        video.currentTime = Math.min(end + 1, video.duration - 6);
      });
      await page.waitForFunction(() => {
        const hls = window.__player.hls;
        return hls.levels[hls.loadLevel]?.height < 480;
      }, null, { timeout: 60_000 });
      // And it plays there, which the menu shows.
      await page.getByRole('button', { name: /^Quality: Auto \((360|240)p\)$/ }).waitFor({ timeout: 60_000 });
    } finally {
      await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
      await cdp.detach();
    }
    const state = await playerState(page);
    assert.ok(state.playing < 480, JSON.stringify(state));
  });

  step('hovering and arrow keys on the seek bar preview frames from the storyboard', async () => {
    await page.evaluate(() => {
      document.getElementById('player-video').currentTime = 10;
    });
    const seek = page.getByRole('slider', { name: 'Seek' });
    const preview = page.locator('.seek-preview');
    const box = await seek.boundingBox();
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await preview.waitFor();
    const shown = await page.locator('.seek-preview-image').evaluate((image) => ({
      visible: image.offsetWidth > 0 && image.offsetHeight > 0,
      background: getComputedStyle(image).backgroundImage,
    }));
    assert.ok(shown.visible);
    const sprite = /^url\("(.+)"\)$/.exec(shown.background)?.[1];
    assert.ok(sprite, shown.background);
    const fetched = await browser.context.request.get(sprite);
    assert.equal(fetched.status(), 200, sprite);
    assert.match(fetched.headers()['content-type'], /^image\/jpeg/);
    assert.match(await page.locator('.seek-preview-time').textContent(), /^0:4[45]$/, 'the middle of 90 s');
    await page.mouse.move(box.x + box.width / 2, box.y - 200);
    await preview.waitFor({ state: 'hidden' });

    await seek.focus();
    const before = Number(await seek.getAttribute('aria-valuenow'));
    await page.keyboard.press('ArrowRight');
    await preview.waitFor();
    assert.ok(Number(await seek.getAttribute('aria-valuenow')) >= before + 4, 'ArrowRight seeks 5 s on');
    assert.match(await seek.getAttribute('aria-valuetext'), /^\d+:\d\d of 1:30$/);
  });

  step('the quality menu picks a rendition by keyboard, and Auto again', async (t) => {
    if (MODE_ONLY) return t.skip(SAME_IN_EVERY_MODE);
    // From the start again (the last step played to the end).
    await page.evaluate(() => {
      const video = document.getElementById('player-video');
      video.currentTime = 0;
      return video.play();
    });
    await page.waitForFunction(() => document.getElementById('player-video').currentTime > 3, null, { timeout: 30_000 });
    const button = page.getByRole('button', { name: /^Quality: / });
    const menu = page.getByRole('menu', { name: 'Quality' });
    await button.focus();
    await page.keyboard.press('Enter');
    await menu.waitFor();
    assert.deepEqual(
      (await menu.getByRole('menuitemradio').allTextContents()).map((text) => text.replace(/\(.*\)/, '').trim()),
      ['Auto', '480p', '360p', '240p'],
    );
    // For the README: the menu open and a storyboard preview under the pointer.
    const box = await page.getByRole('slider', { name: 'Seek' }).boundingBox();
    await page.mouse.move(box.x + box.width * 0.3, box.y + box.height / 2);
    await page.locator('.seek-preview').waitFor();
    await screenshot(page, 'player', { clip: await page.locator('#player').boundingBox() });

    await page.keyboard.press('End'); // the last item: the lowest rendition
    await page.keyboard.press('Enter');
    await menu.waitFor({ state: 'hidden' });
    await button.filter({ hasText: '240p' }).waitFor();
    await page.waitForFunction(() => {
      const hls = window.__player.hls;
      return hls.levels[hls.currentLevel]?.height === 240;
    }, null, { timeout: 30_000 });

    await button.click();
    await menu.getByRole('menuitemradio', { name: /^Auto/ }).click();
    await page.getByRole('button', { name: /^Quality: Auto/ }).waitFor();
    assert.equal((await playerState(page)).auto, true);
  });

  step('keeps playing past the expiry of its first URLs, with no stall', async (t) => {
    await page.getByRole('button', { name: 'Close player' }).click();
    const answersBefore = playbacks.length;
    await page.getByRole('button', { name: `Play ${NAME}` }).click();
    await page.waitForFunction(
      () => window.__player.engine === 'hls.js' && document.getElementById('player-video').currentTime > 0.5,
      null,
      { timeout: 30_000 },
    );
    await page.evaluate(() => {
      window.stalls = 0;
      document.getElementById('player-video').addEventListener('waiting', () => (window.stalls += 1));
    });
    const first = playbacks[answersBefore];
    const expiresAt = Date.parse(first.expiresAt);
    if (expiresAt - Date.now() > LONGEST_EXPIRY_WAIT_MS) {
      t.skip(`playback URLs live ${Math.round((expiresAt - Date.now()) / 1000)} s here; run with a short PLAYBACK_URL_TTL_SECONDS`);
      return;
    }
    await waitUntil('the first playback URLs to expire', LONGEST_EXPIRY_WAIT_MS + 5000, () => Date.now() > expiresAt + 1000);
    assert.equal((await browser.context.request.get(first.hls)).status(), 403, 'the first token no longer opens anything');
    assert.ok(playbacks.length > answersBefore + 1, 'the player asked for fresh URLs');
    const timeAtExpiry = (await playerState(page)).time;

    // Make hls.js fetch now: another rendition's playlist (named in the master read with the
    // first token) and its segments; and the storyboard's sprite under the pointer.
    const since = Date.now();
    await page.getByRole('button', { name: /^Quality: / }).click();
    await page.getByRole('menuitemradio', { name: '360p' }).click();
    await page.waitForFunction(() => {
      const hls = window.__player.hls;
      return hls.levels[hls.currentLevel]?.height === 360;
    }, null, { timeout: 30_000 });
    const box = await page.getByRole('slider', { name: 'Seek' }).boundingBox();
    await page.mouse.move(box.x + box.width * 0.75, box.y + box.height / 2);
    await page.locator('.seek-preview-image').waitFor();

    const state = await playerState(page);
    assert.equal(state.engine, 'hls.js', 'no fallback to the MP4');
    assert.ok(state.time > timeAtExpiry + 1, `playing on: ${timeAtExpiry} → ${state.time}`);
    assert.equal(await page.evaluate(() => window.stalls), 0, 'no waiting for data');

    // Everything fetched after the expiry carried credentials from a fresh answer.
    const later = mediaRequests.filter(({ at }) => at >= since);
    assert.ok(later.some(({ url }) => url.includes('/hls/')), 'hls.js fetched after the expiry');
    for (const { url, status } of later) {
      assert.ok(status < 400, `${status} ${url}`);
      const media = parseMediaUrl(url);
      if (media) assert.notEqual(media.token, parseMediaUrl(first.hls).token, url);
      else assert.ok(signedUrlExpiry(url) > expiresAt, `signed after the first expiry: ${url}`);
    }
  });

  test('logged no console errors and no uncaught exceptions', () => {
    assert.deepEqual(browser.errors, []);
  });
});
