// Shared pieces of the browser tests: Chromium, sample videos, sign-in, polling with a deadline.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { chromium } from 'playwright-core';

export const BASE_URL = (process.env.EDGEVID_BASE_URL ?? 'http://127.0.0.1:8787').replace(/\/$/, '');
export const ADMIN = {
  email: process.env.DEV_ADMIN_EMAIL ?? 'admin@localhost',
  password: process.env.DEV_ADMIN_PASSWORD ?? 'admin',
};
export const SCREENSHOT_DIR = fileURLToPath(new URL('../target/e2e-screenshots/', import.meta.url));
export const MIB = 1024 * 1024;

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-sync',
  '--disable-quic',
];

/**
 * Debian's Chromium with a fresh profile. Every console error and uncaught page error of every
 * page lands in `errors`, so a test can assert there were none.
 */
export async function openBrowser() {
  const profileDir = mkdtempSync(join(tmpdir(), 'edgevid-e2e-profile-'));
  const context = await chromium.launchPersistentContext(profileDir, {
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: CHROMIUM_ARGS,
    viewport: { width: 1280, height: 860 },
    baseURL: BASE_URL,
  });
  context.setDefaultTimeout(30_000);
  context.setDefaultNavigationTimeout(30_000);
  const errors = [];
  context.on('console', (message) => {
    if (message.type() === 'error') errors.push(`console: ${message.text()} (${message.location().url})`);
  });
  context.on('weberror', (webError) => errors.push(`page error: ${webError.error().message}`));
  const close = async () => {
    await context.close();
    rmSync(profileDir, { recursive: true, force: true });
  };
  return { context, errors, close };
}

/**
 * `test` for steps of one journey that build on each other: once a step fails, the later ones are
 * skipped rather than each timing out on a page that never got where it should.
 */
export function journeyStep() {
  let failedStep = null;
  return (name, options, fn = options) =>
    test(name, typeof options === 'object' ? options : {}, async (t) => {
      if (failedStep) return t.skip(`needs "${failedStep}"`);
      try {
        return await fn(t);
      } catch (error) {
        failedStep = name;
        throw error;
      }
    });
}

/** A temp dir for generated videos; `remove()` deletes it. */
export function mediaDir() {
  const dir = mkdtempSync(join(tmpdir(), 'edgevid-e2e-media-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A few seconds of MPEG-4 Part 2 video with PCM audio in AVI: small, so a single PUT. */
export function makeSmallAvi(path) {
  ffmpeg([
    '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=25:duration=4',
    '-f', 'lavfi', '-i', 'sine=frequency=440:duration=4',
    '-c:v', 'mpeg4', '-q:v', '5', '-c:a', 'pcm_s16le', path,
  ]);
  return path;
}

/**
 * About 55 MiB of Matroska: random noise barely compresses, so 8 s at 640×360 are enough to pass
 * the 50 MiB single-PUT limit (7 parts of 8 MiB) while staying quick to transcode.
 */
export function makeLargeMkv(path) {
  ffmpeg([
    '-f', 'lavfi', '-i', "nullsrc=size=640x360:rate=25:duration=8,geq=lum='random(1)*255':cb=128:cr=128",
    '-f', 'lavfi', '-i', 'sine=frequency=220:duration=8',
    '-c:v', 'mpeg4', '-q:v', '1', '-c:a', 'pcm_s16le', path,
  ]);
  assert.ok(statSync(path).size > 50 * MIB, `${path} should be larger than 50 MiB`);
  return path;
}

/**
 * 90 s of H.264/AAC at 854×480 in a fast-start MP4 (about 5 MB): it plays as soon as it is
 * remuxed, and its ladder has three renditions (480p, 360p, 240p). It is three times the
 * player's 30 s forward buffer: however far playback got before a test throttles the network,
 * a seek past the buffer leaves several segments to fetch (at 48 s, a slow start could leave
 * the whole clip buffered and nothing for the player to adapt on).
 */
export function makeAdaptiveMp4(path) {
  ffmpeg([
    '-f', 'lavfi', '-i', 'testsrc2=size=854x480:rate=25:duration=90',
    '-f', 'lavfi', '-i', 'sine=frequency=330:duration=90',
    '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '34', '-g', '50', '-pix_fmt', 'yuv420p',
    '-c:a', 'aac', '-b:a', '64k', '-movflags', '+faststart', path,
  ]);
  return path;
}

function ffmpeg(args) {
  execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', ...args], { timeout: 120_000 });
}

export async function signIn(page, { email, password } = ADMIN) {
  await page.getByRole('textbox', { name: 'Email' }).fill(email);
  await page.getByRole('textbox', { name: 'Password' }).fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
}

/** The library's <li> for a file. */
export function libraryRow(page, fileName) {
  return page.getByRole('list', { name: 'Library' }).getByRole('listitem').filter({ hasText: fileName });
}

/**
 * Polls the row's status word until it reads `wanted` (a string or a RegExp); returns every distinct
 * status seen on the way, which shows the page updated itself without a reload. An unwanted
 * `failed` status ends the wait at once.
 */
export async function waitForStatus(page, fileName, wanted, timeoutMs) {
  const status = libraryRow(page, fileName).locator('.status');
  const isWanted = (text) => (typeof wanted === 'string' ? text === wanted : wanted.test(text));
  const seen = [];
  const what = () => `${fileName} to be "${wanted}" (seen: ${seen.join(' → ') || 'no row'})`;
  await waitUntil(what, timeoutMs, async () => {
    if ((await status.count()) !== 1) return false;
    const text = (await status.textContent({ timeout: 5000 })).trim();
    if (seen.at(-1) !== text) seen.push(text);
    if (isWanted(text)) return true;
    assert.ok(!text.startsWith('failed'), `${fileName} ${text}`);
    return false;
  });
  return seen;
}

/** Calls `check` every `intervalMs` until it returns true; fails after `timeoutMs`. `what` may be a function. */
export async function waitUntil(what, timeoutMs, check, intervalMs = 250) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) {
      assert.fail(`timed out after ${timeoutMs} ms waiting for ${typeof what === 'function' ? what() : what}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

export async function screenshot(page, name, options = {}) {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOT_DIR, `${name}.png`), ...options });
}

/** Roles of controls in Chromium's accessibility tree that have no accessible name. */
export async function unnamedControls(page) {
  const snapshot = await page.locator('body').ariaSnapshot();
  const control = /^\s*- (button|link|textbox|searchbox|combobox|checkbox|radio|slider|spinbutton|progressbar|switch)\b(?! ")/;
  return snapshot.split('\n').filter((line) => control.test(line)).map((line) => line.trim());
}

/** The page scrolls sideways if the document is wider than the viewport. */
export function hasHorizontalScroll(page) {
  return page.evaluate(() => document.documentElement.scrollWidth > document.documentElement.clientWidth);
}

/**
 * Direct API calls (not through the page) for setup checks and cleanup. Its refresh token comes
 * in the body, so the browser's own session cookie is left alone.
 */
export async function apiClient(context, { email, password } = ADMIN) {
  const auth = await context.request.post('/api/auth', { data: { email, password, refreshDelivery: 'body' } });
  assert.equal(auth.status(), 200, `POST /api/auth: ${await auth.text()}`);
  const { token } = await auth.json();
  const headers = { Authorization: `Bearer ${token}` };
  const answer = async (response) => ({ status: response.status(), body: await response.json().catch(() => null) });
  return {
    async get(path) {
      return answer(await context.request.get(path, { headers }));
    },
    async delete(path) {
      return answer(await context.request.delete(path, { headers }));
    },
    async post(path, data) {
      return answer(await context.request.post(path, { headers, data }));
    },
    /** Removes every video of ours whose file name contains `marker` (leftovers of a failed run). */
    async deleteVideosNamed(marker) {
      const { body } = await this.get('/api/videos?limit=100');
      for (const video of body?.videos ?? []) {
        if (video.fileName.includes(marker)) await this.delete(`/api/videos/${video.id}`);
      }
    },
  };
}
