// The built Worker in workerd (`wrangler dev`) with local D1, SeaweedFS and the origin
// runner, over real HTTP: the API contract end to end, as a client of the platform sees it.

import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';

const BASE = process.env.EDGEVID_BASE_URL ?? 'http://127.0.0.1:8787';
const ADMIN = {
  email: process.env.DEV_ADMIN_EMAIL ?? 'admin@localhost',
  password: process.env.DEV_ADMIN_PASSWORD ?? 'admin',
};
const WEBHOOK_SECRET = process.env.EDGEVID_WEBHOOK_SECRET ?? 'edgevid-dev-webhook-secret';
const MIB = 1024 * 1024;

async function api(method, path, { token, body, headers = {} } = {}) {
  const response = await fetch(BASE + path, {
    method,
    headers: {
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...headers,
    },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  let json = null;
  try {
    json = JSON.parse(text);
  } catch {
    // non-JSON bodies are asserted on by the caller
  }
  return { status: response.status, headers: response.headers, json, text };
}

async function signIn(email = ADMIN.email, password = ADMIN.password) {
  const answer = await api('POST', '/api/auth', { body: { email, password } });
  assert.equal(answer.status, 200, answer.text);
  return answer.json.token;
}

async function waitForStatus(token, id, wanted, timeoutMs = 120_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { json } = await api('GET', `/api/videos/${id}`, { token });
    if (wanted.includes(json.video.status)) return json.video;
    assert.ok(Date.now() < deadline, `video ${id} still ${json.video.status} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/** A few seconds of real video (the runner converts what it gets): ffmpeg writes it. */
async function sampleMp4() {
  const { execFileSync } = await import('node:child_process');
  const { mkdtempSync, readFileSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const dir = mkdtempSync(join(tmpdir(), 'edgevid-api-'));
  const file = join(dir, 'sample.mp4');
  execFileSync('ffmpeg', ['-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc=duration=3:size=320x240:rate=25',
    '-f', 'lavfi', '-i', 'sine=duration=3', '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-c:a', 'aac', file]);
  const bytes = readFileSync(file);
  rmSync(dir, { recursive: true, force: true });
  return bytes;
}

describe('API in workerd', { timeout: 10 * 60_000 }, () => {
  test('sessions: an HttpOnly refresh cookie that rotates, logout, and read-your-writes bookmarks', async () => {
    const signedIn = await api('POST', '/api/auth', { body: ADMIN });
    assert.equal(signedIn.status, 200);
    const cookies = signedIn.headers.getSetCookie();
    const refresh = cookies.find((c) => c.startsWith('edgevid_refresh='));
    assert.match(refresh, /HttpOnly/);
    assert.match(refresh, /Secure/);
    assert.match(refresh, /SameSite=Strict/);
    assert.match(refresh, /Path=\/api\/auth/);
    assert.equal(signedIn.json.refreshToken, undefined, 'no script sees the refresh token');
    // Node does not send Secure cookies over http: pass it by hand, as a browser would.
    const cookie = refresh.split(';')[0];
    const renewed = await api('POST', '/api/auth/refresh', { headers: { cookie } });
    assert.equal(renewed.status, 200, renewed.text);
    assert.ok(renewed.json.token);
    const next = renewed.headers.getSetCookie().find((c) => c.startsWith('edgevid_refresh=')).split(';')[0];
    assert.notEqual(next, cookie, 'the refresh token rotates');
    // The old one again: the whole sign-in ends.
    const reused = await api('POST', '/api/auth/refresh', { headers: { cookie } });
    assert.equal(reused.status, 401);
    assert.equal(reused.json.error.code, 'refresh_token_reused');
    assert.equal((await api('POST', '/api/auth/refresh', { headers: { cookie: next } })).status, 401);

    // D1 Sessions: every answer names a bookmark; sending it back reads our own writes.
    const token = await signIn();
    const created = await api('POST', '/api/videos', {
      token,
      body: { fileName: 'bookmark.mp4', fileSize: 10, fileType: 'video/mp4' },
    });
    const bookmark = created.headers.get('x-d1-bookmark');
    assert.ok(bookmark, 'a bookmark header');
    const read = await api('GET', `/api/videos/${created.json.video.id}`, { token, headers: { 'x-d1-bookmark': bookmark } });
    assert.equal(read.status, 200);
    assert.ok(read.headers.get('x-d1-bookmark'));
    const out = await api('POST', '/api/auth/logout', { headers: { cookie } });
    assert.equal(out.status, 200);
    assert.equal((await api('DELETE', `/api/videos/${created.json.video.id}`, { token })).status, 200);
  });


  test("bearer tokens: workerd's WebCrypto checks the signature, and a forged one opens nothing", async () => {
    const token = await signIn();
    assert.equal((await api('GET', '/api/videos', { token })).status, 200);
    const [header, payload, signature] = token.split('.');
    const flip = (text, at) => text.slice(0, at) + (text[at] === 'A' ? 'B' : 'A') + text.slice(at + 1);
    const claims = JSON.parse(Buffer.from(payload, 'base64url'));
    const forged = [
      // One character of the signature changed.
      `${header}.${payload}.${flip(signature, 5)}`,
      // Claims changed under the original signature.
      `${header}.${Buffer.from(JSON.stringify({ ...claims, email: 'someone@else' })).toString('base64url')}.${signature}`,
      // A signature of the wrong length, and none at all.
      `${header}.${payload}.${signature.slice(0, 40)}`,
      `${header}.${payload}.`,
    ];
    for (const bad of forged) {
      const answer = await api('GET', '/api/videos', { token: bad });
      assert.equal(answer.status, 401, bad);
      assert.equal(answer.json.error.code, 'invalid_token', bad);
    }
  });

  test('health, OpenAPI, JSON errors and security headers', async () => {
    const health = await api('GET', '/api/health');
    assert.equal(health.status, 200);
    assert.equal(health.json.success, true);
    assert.ok(health.json.version);
    assert.equal(health.headers.get('x-content-type-options'), 'nosniff');

    const doc = await api('GET', '/api/openapi.yaml');
    assert.equal(doc.status, 200);
    assert.match(doc.text, /^openapi: 3\.1\.0/);

    const missing = await api('GET', '/api/does-not-exist');
    assert.equal(missing.status, 404);
    assert.deepEqual(Object.keys(missing.json.error).sort(), ['code', 'message']);
    const wrong = await api('PATCH', '/api/videos');
    assert.equal(wrong.status, 405);
    assert.equal(wrong.json.error.code, 'method_not_allowed');
    const unauthorized = await api('GET', '/api/videos');
    assert.equal(unauthorized.status, 401);
    const huge = await api('POST', '/api/auth', { body: ' '.repeat(MIB + 1) });
    assert.equal(huge.status, 413);
    assert.equal(huge.json.error.code, 'payload_too_large');
  });

  test('the web app is served from the same Worker', async () => {
    const page = await fetch(BASE + '/');
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type'), /text\/html/);
    // web/_headers: the app cannot be framed and runs only its own scripts.
    assert.match(page.headers.get('content-security-policy'), /frame-ancestors 'none'/);
    assert.match(page.headers.get('content-security-policy'), /script-src 'self'/);
    assert.equal(page.headers.get('x-content-type-options'), 'nosniff');
  });

  test('sign in, upload through the presigned URL, complete, convert, list, play with Range, delete', async () => {
    const token = await signIn();
    const bytes = await sampleMp4();
    const created = await api('POST', '/api/videos', {
      token,
      body: { fileName: 'api-suite sample.mp4', fileSize: bytes.length, fileType: 'video/mp4', title: 'API suite' },
    });
    assert.equal(created.status, 201, created.text);
    const { video, upload } = created.json;
    assert.equal(video.status, 'uploading');
    assert.equal(upload.method, 'PUT');

    // The URL binds the length: S3 refuses another body.
    const short = await fetch(upload.uploadUrl, { method: 'PUT', headers: upload.headers, body: bytes.subarray(1) });
    assert.equal(short.status, 403);
    const put = await fetch(upload.uploadUrl, { method: 'PUT', headers: upload.headers, body: bytes });
    assert.equal(put.status, 200);

    const completed = await api('POST', `/api/videos/${video.id}/complete`, { token });
    assert.equal(completed.status, 200, completed.text);
    assert.equal(completed.json.video.status, 'processing');

    const ready = await waitForStatus(token, video.id, ['ready', 'failed']);
    assert.equal(ready.status, 'ready', ready.error ?? '');
    assert.ok(Math.abs(ready.durationMs - 3000) <= 100, `durationMs ${ready.durationMs}`);
    assert.equal(ready.width, 320);
    assert.equal(ready.height, 240);

    const list = await api('GET', '/api/videos?limit=100', { token });
    assert.ok(list.json.videos.some((v) => v.id === video.id));

    const playback = await api('GET', `/api/videos/${video.id}/playback`, { token });
    assert.equal(playback.status, 200);
    assert.equal(playback.json.mimeType, 'video/mp4');
    assert.ok(Date.parse(playback.json.expiresAt) > Date.now());
    const ranged = await fetch(playback.json.url, { headers: { range: 'bytes=0-1023' } });
    assert.equal(ranged.status, 206);
    const head = Buffer.from(await ranged.arrayBuffer());
    assert.equal(head.length, 1024);
    assert.equal(head.subarray(4, 8).toString('latin1'), 'ftyp', 'an MP4 starts with ftyp');
    // Fast start: the index (moov) comes before the media data.
    assert.ok(head.indexOf('moov') !== -1 && (head.indexOf('mdat') === -1 || head.indexOf('moov') < head.indexOf('mdat')));

    const deleted = await api('DELETE', `/api/videos/${video.id}`, { token });
    assert.equal(deleted.status, 200);
    assert.equal((await api('GET', `/api/videos/${video.id}`, { token })).status, 404);
    assert.equal((await fetch(playback.json.url)).status, 404, 'the output is gone from S3');
  });

  test('multipart: sign parts, upload, list for resume, complete; abort removes everything', async () => {
    const token = await signIn();
    const size = 50 * MIB + 3; // just above the single-PUT limit: 7 parts of 8 MiB
    const created = await api('POST', '/api/videos', {
      token,
      body: { fileName: 'api-suite big.mkv', fileSize: size, fileType: 'video/x-matroska' },
    });
    assert.equal(created.status, 201, created.text);
    const { video, upload } = created.json;
    assert.equal(upload.method, 'multipart');
    assert.equal(upload.partSize, 8 * MIB);
    assert.equal(upload.partCount, 7);

    const numbers = [1, 2, 3, 4, 5, 6, 7];
    const signed = await api('POST', `/api/videos/${video.id}/parts`, { token, body: { partNumbers: numbers } });
    assert.equal(signed.status, 200, signed.text);
    const body = randomBytes(size);
    const etags = {};
    for (const { partNumber, url } of signed.json.parts.slice(0, 3)) {
      const start = (partNumber - 1) * upload.partSize;
      const response = await fetch(url, { method: 'PUT', body: body.subarray(start, Math.min(size, start + upload.partSize)) });
      assert.equal(response.status, 200);
      etags[partNumber] = response.headers.get('etag');
    }
    const stored = await api('GET', `/api/videos/${video.id}/parts`, { token });
    assert.deepEqual(stored.json.parts.map((p) => p.partNumber), [1, 2, 3]);
    for (const { partNumber, url } of signed.json.parts.slice(3)) {
      const start = (partNumber - 1) * upload.partSize;
      const response = await fetch(url, { method: 'PUT', body: body.subarray(start, Math.min(size, start + upload.partSize)) });
      assert.equal(response.status, 200);
      etags[partNumber] = response.headers.get('etag');
    }
    const parts = numbers.map((partNumber) => ({ partNumber, etag: etags[partNumber] }));
    const done = await api('POST', `/api/videos/${video.id}/complete`, { token, body: { parts } });
    assert.equal(done.status, 200, done.text);
    assert.equal(done.json.video.status, 'processing');
    // Random bytes are no video: the runner reports the failure and keeps the source.
    const failed = await waitForStatus(token, video.id, ['ready', 'failed']);
    assert.equal(failed.status, 'failed');
    assert.ok(failed.error);
    assert.equal((await api('DELETE', `/api/videos/${video.id}`, { token })).status, 200);

    const another = await api('POST', '/api/videos', {
      token,
      body: { fileName: 'api-suite abort.webm', fileSize: size, fileType: 'video/webm' },
    });
    const aborted = await api('DELETE', `/api/videos/${another.json.video.id}/upload`, { token });
    assert.equal(aborted.status, 200);
    assert.equal((await api('GET', `/api/videos/${another.json.video.id}`, { token })).status, 404);
  });

  test('the hourly sweep runs in workerd and keeps uploads that can still finish', async () => {
    const token = await signIn();
    const fresh = await api('POST', '/api/videos', {
      token,
      body: { fileName: 'sweep keeps me.mp4', fileSize: 10, fileType: 'video/mp4' },
    });
    assert.equal(fresh.status, 201, fresh.text);
    // wrangler dev --test-scheduled: the Cron Trigger's handler, as Cloudflare would call it.
    const ran = await fetch(`${BASE}/__scheduled?cron=17+*+*+*+*`);
    assert.equal(ran.status, 200);
    assert.equal(await ran.text(), 'Ran scheduled event', 'the Worker, not the static app, answered');
    const kept = await api('GET', `/api/videos/${fresh.json.video.id}`, { token });
    assert.equal(kept.status, 200);
    assert.equal(kept.json.video.status, 'uploading');
    assert.equal((await api('DELETE', `/api/videos/${fresh.json.video.id}`, { token })).status, 200);
  });

  test('users, throttling, and signed job events', async () => {
    const admin = await signIn();
    const email = `member-${Date.now()}@example.com`;
    const created = await api('POST', '/api/users', { token: admin, body: { email, password: 'member password', role: 'member' } });
    assert.equal(created.status, 201, created.text);
    assert.equal((await api('POST', '/api/users', { token: admin, body: { email, password: 'member password', role: 'member' } })).status, 409);
    const member = await signIn(email, 'member password');
    assert.equal((await api('POST', '/api/users', { token: member, body: { email: 'x@example.com', password: 'long enough', role: 'member' } })).status, 403);

    // One email from one client: five tries, then waits that double, even for the right
    // password; the owner, from another client, is not locked out. Every local request comes
    // from 127.0.0.1: this test names its own client addresses (wrangler dev passes
    // CF-Connecting-IP through; Cloudflare sets it) so that it does not hold up the other suites.
    const client = { 'cf-connecting-ip': `203.0.113.${1 + Math.floor(Math.random() * 250)}` };
    const victim = `throttle-${Date.now()}@example.com`;
    await api('POST', '/api/users', { token: admin, body: { email: victim, password: 'the right one', role: 'member' } });
    for (let n = 0; n < 5; n++) {
      const wrong = await api('POST', '/api/auth', { body: { email: victim, password: 'wrong' }, headers: client });
      assert.equal(wrong.status, 401);
    }
    const limited = await api('POST', '/api/auth', { body: { email: victim, password: 'the right one' }, headers: client });
    assert.equal(limited.status, 429);
    assert.equal(limited.json.error.code, 'rate_limited');
    assert.equal(limited.headers.get('retry-after'), '1');
    const owner = { 'cf-connecting-ip': `192.0.2.${1 + Math.floor(Math.random() * 250)}` };
    assert.equal((await api('POST', '/api/auth', { body: { email: victim, password: 'the right one' }, headers: owner })).status, 200);

    // A burst sent at once gets no more tries than one sent in turn: each attempt takes its
    // place under the limit before its password is checked (in workerd D1 calls interleave).
    const burstClient = { 'cf-connecting-ip': `198.51.100.${1 + Math.floor(Math.random() * 250)}` };
    const burstEmail = `burst-${Date.now()}@example.com`;
    const burst = await Promise.all(Array.from({ length: 25 }, () =>
      api('POST', '/api/auth', { body: { email: burstEmail, password: 'wrong' }, headers: burstClient })));
    const statuses = burst.map((answer) => answer.status);
    assert.equal(statuses.filter((s) => s === 401).length, 5, `statuses ${statuses}`);
    assert.equal(statuses.filter((s) => s === 429).length, 20, `statuses ${statuses}`);

    // Job events: signed, windowed, replay-safe.
    const event = JSON.stringify({ eventId: `evt-${Date.now()}`, videoId: '0193a5b0-0000-7000-8000-000000000001', status: 'processing', progress: 5 });
    const sign = (t, body) => `t=${t},v1=${createHmac('sha256', WEBHOOK_SECRET).update(`${t}.${body}`).digest('hex')}`;
    const now = Math.floor(Date.now() / 1000);
    const post = (signature, body = event) => api('POST', '/api/internal/jobs', { body, headers: { 'x-signature': signature } });
    assert.equal((await post(sign(now, event))).status, 200);
    assert.equal((await post(sign(now, event))).json.duplicate, true);
    assert.equal((await post(sign(now - 400, event))).status, 401);
    assert.equal((await post('t=1,v1=00')).status, 401);
  });
});
