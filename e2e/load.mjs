// `cargo xtask stress` runs this (it is no test): a bounded load on a whole local stack — many
// members uploading at once (single PUTs and multipart, 64 KiB to 12 MiB) while others list,
// read, ask for playback and read byte ranges of the media — then an audit: every upload the
// API acknowledged is in the catalog with exactly its bytes, and every deleted video is gone
// from both buckets. It prints one JSON line of figures and exits non-zero if anything was
// lost, left behind or answered with an error.
//
// Node rather than Rust in xtask: xtask is std only (no HTTP client, no SigV4), and here the
// load needs hundreds of concurrent keep-alive requests, which `fetch` gives for free. The
// buckets are listed with the project venv's AWS CLI (botocore signs), as a client of S3 would.
//
//   EDGEVID_BASE_URL=… DEV_ADMIN_EMAIL=… DEV_ADMIN_PASSWORD=… EDGEVID_S3_ENDPOINT=…
//   AWS_ACCESS_KEY_ID=… AWS_SECRET_ACCESS_KEY=… node e2e/load.mjs
//   (optional bounds: LOAD_UPLOADS, LOAD_READS, LOAD_SECONDS, LOAD_USERS, LOAD_UPLOADERS, LOAD_READERS)

import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ADMIN, BASE_URL, MIB } from './support.mjs';

const bound = (name, fallback) => Number(process.env[name] ?? fallback);
const UPLOADS = bound('LOAD_UPLOADS', 200);
const READS = bound('LOAD_READS', 2000);
const SECONDS = bound('LOAD_SECONDS', 180);
const USERS = bound('LOAD_USERS', 16);
const UPLOADERS = bound('LOAD_UPLOADERS', 32);
const READERS = bound('LOAD_READERS', 16);
const S3_ENDPOINT = process.env.EDGEVID_S3_ENDPOINT;
const AWS = process.env.EDGEVID_AWS_BIN ?? 'aws';
/** Every Nth upload is a real, playable clip (the rest are random bytes the origin refuses). */
const CLIP_EVERY = 20;
/** Every Nth acknowledged upload is deleted again, racing the origin's work on it. */
const DELETE_EVERY = 8;
/** Every Nth upload is abandoned half-way (DELETE /upload), as a closed tab would. */
const ABANDON_EVERY = 25;
const MIN_BYTES = 64 * 1024;
const MAX_BYTES = 12 * MIB;
const EXTENSIONS = ['mp4', 'mkv', 'mov', 'webm'];

const started = Date.now();
const deadline = started + SECONDS * 1000;
const run = started.toString(36);

/** Latencies (ms) and errors per operation. */
const ops = new Map();
const problems = [];
function record(op, ms, error) {
  const entry = ops.get(op) ?? { latencies: [], errors: 0 };
  if (ms !== null) entry.latencies.push(ms);
  if (error) {
    entry.errors += 1;
    if (problems.length < 50) problems.push(`${op}: ${error}`);
  }
  ops.set(op, entry);
}

/** One timed request: the answer, recorded as an error unless its status is `expected`. */
async function timed(op, expected, url, init = {}) {
  const begun = performance.now();
  let response;
  let body;
  try {
    response = await fetch(url, init);
    body = Buffer.from(await response.arrayBuffer());
  } catch (error) {
    record(op, performance.now() - begun, `${init.method ?? 'GET'} ${url}: ${error.cause?.code ?? error.message}`);
    return null;
  }
  const ok = response.status === expected;
  record(op, performance.now() - begun, ok ? null : `HTTP ${response.status} ${body.toString().slice(0, 200)}`);
  return ok ? { response, body } : null;
}

async function api(op, expected, method, path, token, json) {
  const answer = await timed(op, expected, BASE_URL + path, {
    method,
    headers: {
      ...(json === undefined ? {} : { 'content-type': 'application/json' }),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: json === undefined ? undefined : JSON.stringify(json),
  });
  return answer && answer.body.length ? JSON.parse(answer.body) : answer && {};
}

async function signIn(email, password) {
  const answer = await api('sign in', 200, 'POST', '/api/auth', null, { email, password });
  if (!answer) throw new Error(`${email} cannot sign in: ${problems.at(-1)}`);
  return answer.token;
}

const md5 = (bytes) => createHash('md5').update(bytes).digest();
/** The ETag S3 gives an object: the MD5 of a single PUT, or of the parts' MD5s then `-<parts>`. */
function expectedEtag(bytes, partSize) {
  if (!partSize) return md5(bytes).toString('hex');
  const parts = [];
  for (let at = 0; at < bytes.length; at += partSize) parts.push(md5(bytes.subarray(at, at + partSize)));
  return `${md5(Buffer.concat(parts)).toString('hex')}-${parts.length}`;
}

/** A small deterministic generator, so a run's sizes can be repeated. */
function random(seed) {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state ^ (state >>> 15), 0x2c1b3c6d) + 0x9e3779b9) >>> 0;
    return state / 2 ** 32;
  };
}
const next = random(14);
/** Sizes spread evenly on a log scale: most uploads small, some multipart. */
const sizeOf = () => Math.round(MIN_BYTES * (MAX_BYTES / MIN_BYTES) ** next());

/** 2 s of H.264/AAC in a fast-start MP4: the origin copies it into place, so it plays as sent. */
function makeClip() {
  const dir = mkdtempSync(join(tmpdir(), 'edgevid-load-'));
  const file = join(dir, 'clip.mp4');
  execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y',
    '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=25:duration=2',
    '-f', 'lavfi', '-i', 'sine=frequency=440:duration=2',
    '-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', '-c:a', 'aac',
    '-movflags', '+faststart', file]);
  const bytes = readFileSync(file);
  rmSync(dir, { recursive: true, force: true });
  return bytes;
}

const admin = await signIn(ADMIN.email, ADMIN.password);
const users = [];
for (let n = 0; n < USERS; n += 1) {
  const email = `load-${run}-${n}@example.com`;
  const password = `load-password-${run}`;
  await api('create user', 201, 'POST', '/api/users', admin, { email, password, role: 'member' });
  users.push({ email, token: await signIn(email, password), videos: [] });
}
const clip = makeClip();

/** Every upload the API acknowledged: {id, user, bytes, etag, clip, deleted}. */
const acknowledged = [];
const abandoned = [];
let multipartCount = 0;
let uploadedBytes = 0;

async function upload(n) {
  const user = users[n % users.length];
  const isClip = n % CLIP_EVERY === 0;
  const bytes = isClip ? clip : randomBytes(sizeOf());
  const ext = isClip ? 'mp4' : EXTENSIONS[n % EXTENSIONS.length];
  const created = await api('create', 201, 'POST', '/api/videos', user.token, {
    fileName: `load-${n}.${ext}`, fileSize: bytes.length, fileType: `video/${ext === 'mkv' ? 'x-matroska' : ext}`,
  });
  if (!created) return;
  const { id } = created.video;
  const plan = created.upload;
  const abandon = n % ABANDON_EVERY === ABANDON_EVERY - 1;
  let parts;
  if (plan.method === 'PUT') {
    if (!abandon && !(await timed('put', 200, plan.uploadUrl, { method: 'PUT', headers: plan.headers, body: bytes }))) return;
  } else {
    multipartCount += 1;
    const numbers = Array.from({ length: plan.partCount }, (_, i) => i + 1);
    const signed = await api('sign parts', 200, 'POST', `/api/videos/${id}/parts`, user.token, { partNumbers: numbers });
    if (!signed) return;
    // An abandoned upload sends its first part only.
    for (const { partNumber, url } of abandon ? signed.parts.slice(0, 1) : signed.parts) {
      const at = (partNumber - 1) * plan.partSize;
      if (!(await timed('put part', 200, url, { method: 'PUT', body: bytes.subarray(at, at + plan.partSize) }))) return;
    }
    // What is stored, as a resuming client asks: the parts to complete with.
    const stored = await api('list parts', 200, 'GET', `/api/videos/${id}/parts`, user.token);
    if (!stored) return;
    parts = stored.parts.map(({ partNumber, etag }) => ({ partNumber, etag }));
  }
  if (abandon) {
    if (await api('abandon', 200, 'DELETE', `/api/videos/${id}/upload`, user.token)) abandoned.push(id);
    return;
  }
  if (!(await api('complete', 200, 'POST', `/api/videos/${id}/complete`, user.token, parts ? { parts } : {}))) return;
  uploadedBytes += bytes.length;
  const video = {
    id, user, ext, bytes: bytes.length, clip: isClip, deleted: false,
    etag: expectedEtag(bytes, plan.method === 'PUT' ? 0 : plan.partSize),
  };
  acknowledged.push(video);
  user.videos.push(video);
  if (acknowledged.length % DELETE_EVERY === 0) {
    // Deleted at once or a moment later: the origin may be probing, copying or converting it.
    video.deleted = true;
    await new Promise((resolve) => setTimeout(resolve, next() * 3000));
    await api('delete', 200, 'DELETE', `/api/videos/${id}`, user.token);
  }
}

let uploadsStarted = 0;
async function uploader() {
  while (uploadsStarted < UPLOADS && Date.now() < deadline) {
    await upload(uploadsStarted++);
  }
}

/** Ready clips and where they play: {video, url}, refreshed as clips become ready. */
const playable = [];
let readsDone = 0;
const pick = (list) => list[Math.floor(next() * list.length)];

async function read(n) {
  const user = users[n % users.length];
  const live = user.videos.filter((v) => !v.deleted);
  switch (n % 4) {
    case 0:
      await api('list', 200, 'GET', '/api/videos?limit=20', user.token);
      break;
    case 1:
      if (live.length) await api('get', 200, 'GET', `/api/videos/${pick(live).id}`, user.token);
      else await api('list', 200, 'GET', '/api/videos?limit=20', user.token);
      break;
    case 2: {
      const clips = acknowledged.filter((v) => v.clip && !v.deleted);
      if (!clips.length) break;
      const video = pick(clips);
      const state = await api('get', 200, 'GET', `/api/videos/${video.id}`, admin);
      if (state?.video.status !== 'ready') break;
      const playback = await api('playback', 200, 'GET', `/api/videos/${video.id}/playback`, admin);
      if (playback) playable.push({ video, url: playback.url });
      break;
    }
    default: {
      if (!playable.length) break;
      const { video, url } = pick(playable);
      if (video.deleted) break;
      const start = Math.floor(next() * clip.length);
      const end = Math.min(clip.length - 1, start + Math.floor(next() * 256 * 1024));
      const answer = await timed('media range', 206, url, { headers: { range: `bytes=${start}-${end}` } });
      if (answer && !answer.body.equals(clip.subarray(start, end + 1))) {
        record('media range', null, `${video.id}: bytes ${start}-${end} differ from the upload`);
      }
    }
  }
}

async function reader() {
  while (readsDone < READS && Date.now() < deadline) {
    // Reads keep pace with the uploads, so they meet the catalog and the store under load.
    if (uploadsStarted < UPLOADS && readsDone / READS > uploadsStarted / UPLOADS) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      continue;
    }
    await read(readsDone++);
  }
}

await Promise.all([
  ...Array.from({ length: UPLOADERS }, uploader),
  ...Array.from({ length: READERS }, reader),
]);
const loadSeconds = (Date.now() - started) / 1000;

// The audit. First the origin finishes what it has (every refusal or copy takes seconds).
const catalog = new Map();
async function readCatalog() {
  catalog.clear();
  let cursor = '';
  do {
    const page = await api('list', 200, 'GET', `/api/videos?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, admin);
    if (!page) break;
    for (const video of page.videos) catalog.set(video.id, video);
    cursor = page.nextCursor;
  } while (cursor);
}
const settleBy = Date.now() + 120_000;
for (;;) {
  await readCatalog();
  const busy = acknowledged.filter((v) => !v.deleted && ['uploading', 'processing'].includes(catalog.get(v.id)?.status));
  const clipsWithoutLadder = acknowledged.filter((v) => v.clip && !v.deleted && catalog.get(v.id)?.streams?.ladder === 'processing');
  if (!busy.length && !clipsWithoutLadder.length) break;
  if (Date.now() > settleBy) {
    problems.push(`still converting after 120 s: ${busy.length + clipsWithoutLadder.length} videos`);
    break;
  }
  await new Promise((resolve) => setTimeout(resolve, 1000));
}

function listBucket(bucket, prefix) {
  const out = execFileSync(AWS, ['s3api', 'list-objects-v2', '--bucket', bucket, '--prefix', prefix,
    '--endpoint-url', S3_ENDPOINT, '--output', 'json'], { maxBuffer: 256 * MIB }).toString();
  return out.trim() ? (JSON.parse(out).Contents ?? []) : [];
}
const incoming = listBucket('incoming', 'uploads/');
const media = listBucket('media', 'videos/');
const keysOf = (objects, prefix) => objects.filter((o) => o.Key.startsWith(prefix));

let lost = 0;
let leftovers = 0;
for (const video of acknowledged.filter((v) => !v.deleted)) {
  const row = catalog.get(video.id);
  const fail = (what) => {
    lost += 1;
    problems.push(`${video.id} (${video.clip ? 'clip' : `${video.bytes} random bytes`}): ${what}`);
  };
  if (!row) { fail('not in the catalog'); continue; }
  if (row.fileSize !== video.bytes) { fail(`catalog says ${row.fileSize} bytes`); continue; }
  if (video.clip) {
    // Ready: the source went once the output was verified; the MP4 is the upload, copied.
    if (row.status !== 'ready') { fail(`status ${row.status} ${row.error ?? ''}`); continue; }
    const playback = await api('playback', 200, 'GET', `/api/videos/${video.id}/playback`, admin);
    const whole = playback && (await timed('media whole', 200, playback.url));
    if (!whole?.body.equals(clip)) fail('the MP4 played is not the upload');
  } else {
    // Not media: refused with its reason, and the source is kept, byte for byte.
    const source = keysOf(incoming, `uploads/${video.id}/`);
    const etag = source[0]?.ETag.replaceAll('"', '');
    if (source.length !== 1 || source[0].Size !== video.bytes || etag !== video.etag) {
      fail(`stored source ${JSON.stringify(source)}, expected ${video.bytes} bytes, ETag ${video.etag}`);
    }
  }
}
for (const id of [...acknowledged.filter((v) => v.deleted).map((v) => v.id), ...abandoned]) {
  const left = [...keysOf(incoming, `uploads/${id}/`), ...keysOf(media, `videos/${id}/`)];
  if (catalog.has(id) || left.length) {
    leftovers += 1;
    problems.push(`deleted ${id}: ${catalog.has(id) ? 'still in the catalog; ' : ''}${left.map((o) => o.Key).join(', ')}`);
  }
}

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
const figures = {
  load: 'edgevid-stress',
  seconds: Number(loadSeconds.toFixed(1)),
  users: USERS,
  uploaders: UPLOADERS,
  readers: READERS,
  uploadsAcknowledged: acknowledged.length,
  multipart: multipartCount,
  clips: acknowledged.filter((v) => v.clip).length,
  deleted: acknowledged.filter((v) => v.deleted).length,
  abandoned: abandoned.length,
  uploadedMiB: Number((uploadedBytes / MIB).toFixed(1)),
  reads: readsDone,
  requests: [...ops.values()].reduce((sum, o) => sum + o.latencies.length, 0),
  errors: [...ops.values()].reduce((sum, o) => sum + o.errors, 0),
  lost,
  leftovers,
  operations: Object.fromEntries([...ops].map(([op, { latencies, errors }]) => {
    const sorted = latencies.toSorted((a, b) => a - b);
    return [op, { n: sorted.length, errors, p50: Number(percentile(sorted, 50).toFixed(1)), p99: Number(percentile(sorted, 99).toFixed(1)) }];
  })),
  problems,
};
console.log(JSON.stringify(figures));
process.exit(figures.errors || lost || leftovers || problems.length ? 1 : 0);
