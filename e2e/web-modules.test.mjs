// The web app's pure modules, in Node without a browser or a stack: how the player maps URLs of
// older grants to the current one, how it reads storyboards, and how API calls renew a stale
// token and carry D1 bookmarks (with fetch stubbed).

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ApiError, api, currentBookmark, setBearerToken, setSessionRenewer } from '../web/api.js';
import { formatClock } from '../web/format.js';
import { freshUrl, grantOf, parseMediaUrl, signedUrlExpiry } from '../web/media-urls.js';
import { cueAt, parseStoryboard } from '../web/storyboard.js';

const ORIGIN = 'https://video.example.com';
const VIDEO = '01a2358e-bb5a-79b2-a13e-b8d9ba450eac';
const OLD = '1796195100.old-mac';
const NEW = '1796195400.new-mac';
const EXPIRES = '2026-12-02T07:10:00Z'; // the new grant's
const NEW_EXPIRY_S = Date.parse(EXPIRES) / 1000;

const media = (token, key) => `${ORIGIN}/media/${token}/videos/${VIDEO}/${key}`;
const grant = grantOf({ url: 'https://s3.example/x.mp4', hls: media(NEW, 'hls/index.m3u8'), expiresAt: EXPIRES });

/** A SigV4 presigned GET that expires `expiresAt` (seconds since the epoch). */
function presigned(key, expiresAt, lifetime = 750) {
  const signed = new Date((expiresAt - lifetime) * 1000).toISOString().replace(/[-:]|\.\d+/g, '');
  return `http://127.0.0.1:8333/media/videos/${VIDEO}/${key}?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=${signed}&X-Amz-Expires=${lifetime}&X-Amz-SignedHeaders=host&X-Amz-Signature=abc`;
}

describe('media-urls', () => {
  test('a playback answer grants its token over the video folder until expiresAt', () => {
    assert.deepEqual(grant, { origin: ORIGIN, token: NEW, folder: `videos/${VIDEO}/`, expiresAt: Date.parse(EXPIRES) });
    assert.equal(grantOf({ url: 'https://s3.example/x.mp4', hls: null, poster: null, storyboard: null, expiresAt: EXPIRES }), null);
    assert.deepEqual(parseMediaUrl(media(OLD, 'hls/480p/seg_001.m4s')), {
      origin: ORIGIN,
      token: OLD,
      key: `videos/${VIDEO}/hls/480p/seg_001.m4s`,
    });
    assert.equal(parseMediaUrl(`${ORIGIN}/api/videos`), null);
  });

  test('Worker URLs of an older token get the current one; current ones stay', () => {
    assert.equal(freshUrl(media(OLD, 'hls/360p/index.m3u8'), grant), media(NEW, 'hls/360p/index.m3u8'));
    assert.equal(freshUrl(media(NEW, 'hls/360p/seg_002.m4s'), grant), media(NEW, 'hls/360p/seg_002.m4s'));
  });

  test('direct signed URLs from an older grant go through the Worker; those of the current grant stay', () => {
    const old = presigned('hls/audio/seg_007.m4s', NEW_EXPIRY_S - 150);
    assert.equal(freshUrl(old, grant), media(NEW, 'hls/audio/seg_007.m4s'));
    const current = presigned('hls/audio/seg_007.m4s', NEW_EXPIRY_S);
    assert.equal(freshUrl(current, grant), current);
    // CloudFront: canned policy (Expires) and custom policy (a wildcard Policy).
    const canned = (expires) => `https://d111.cloudfront.net/videos/${VIDEO}/hls/720p/seg_001.m4s?Expires=${expires}&Signature=s&Key-Pair-Id=K`;
    assert.equal(freshUrl(canned(NEW_EXPIRY_S - 150), grant), media(NEW, 'hls/720p/seg_001.m4s'));
    assert.equal(freshUrl(canned(NEW_EXPIRY_S), grant), canned(NEW_EXPIRY_S));
    const policy = (expires) =>
      Buffer.from(JSON.stringify({ Statement: [{ Resource: `https://d111.cloudfront.net/videos/${VIDEO}/*`, Condition: { DateLessThan: { 'AWS:EpochTime': expires } } }] }))
        .toString('base64')
        .replaceAll('+', '-')
        .replaceAll('=', '_')
        .replaceAll('/', '~');
    const custom = `https://d111.cloudfront.net/videos/${VIDEO}/hls/720p/seg_002.m4s?Policy=${policy(NEW_EXPIRY_S - 150)}&Signature=s&Key-Pair-Id=K`;
    assert.equal(signedUrlExpiry(custom), (NEW_EXPIRY_S - 150) * 1000);
    assert.equal(freshUrl(custom, grant), media(NEW, 'hls/720p/seg_002.m4s'));
  });

  test('URLs that are not this video\'s files are left alone', () => {
    for (const url of ['https://cdn.example/other/seg.m4s', `${ORIGIN}/api/videos`, 'not a url']) {
      assert.equal(freshUrl(url, grant), url);
    }
    assert.equal(freshUrl(media(OLD, 'poster.jpg'), null), media(OLD, 'poster.jpg'));
  });
});

describe('storyboard', () => {
  const vtt = [
    'WEBVTT',
    '',
    '00:00:00.000 --> 00:00:02.000',
    'storyboard.jpg#xywh=0,0,160,90',
    '',
    '1',
    '00:00:02.000 --> 00:00:04.000',
    'storyboard.jpg#xywh=160,0,160,90',
    '',
    '01:00.000 --> 01:02.500',
    'https://s3.example/sprite.jpg?X-Amz-Signature=a#xywh=0,90,160,90',
    '',
  ].join('\r\n');
  const cues = parseStoryboard(vtt, media(NEW, 'storyboard.vtt'));

  test('cues resolve relative images against the VTT and keep absolute ones', () => {
    assert.equal(cues.length, 3);
    assert.deepEqual(cues[1], { start: 2, end: 4, url: media(NEW, 'storyboard.jpg'), x: 160, y: 0, w: 160, h: 90 });
    assert.equal(cues[2].url, 'https://s3.example/sprite.jpg?X-Amz-Signature=a');
    assert.deepEqual([cues[2].start, cues[2].end, cues[2].y], [60, 62.5, 90]);
  });

  test('the cue at a time is the last one started', () => {
    assert.equal(cueAt(cues, 0), cues[0]);
    assert.equal(cueAt(cues, 3.9), cues[1]);
    assert.equal(cueAt(cues, 61), cues[2]);
    assert.equal(cueAt(cues, -1), null);
    assert.equal(cueAt([], 5), null);
  });

  test('the player clock counts whole seconds played', () => {
    assert.equal(formatClock(59.9), '0:59');
    assert.equal(formatClock(3600), '1:00:00');
    assert.equal(formatClock(NaN), '0:00');
  });
});

describe('api', () => {
  /** Stubs fetch with `answer(request)` → [status, body, headers]; returns the requests seen. */
  function serve(answer) {
    const seen = [];
    globalThis.fetch = async (path, init) => {
      const request = { path, method: init.method, headers: init.headers };
      seen.push(request);
      const [status, body, headers = {}] = await answer(request, seen.length);
      return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });
    };
    return seen;
  }
  const stale = [401, { success: false, error: { code: 'token_expired', message: 'the token expired' } }];

  test('a stale token is renewed and the call sent again; a call refused after the renewal just goes again', async () => {
    setBearerToken('old');
    let renewals = 0;
    let renewed;
    const renewal = new Promise((resolve) => {
      renewed = resolve;
    });
    setSessionRenewer(async () => {
      renewals += 1;
      await new Promise((resolve) => setTimeout(resolve, 10));
      setBearerToken('new');
      renewed();
      return true;
    });
    const seen = serve(async ({ path, headers }) => {
      if (headers.Authorization === 'Bearer new') return [200, { success: true, ok: path }];
      // This refusal arrives after the other call's renewal (however busy the machine): no
      // second renewal, just a resend.
      if (path === '/api/users') await renewal;
      return stale;
    });
    const answers = await Promise.all([api('GET', '/api/videos'), api('GET', '/api/users')]);
    assert.deepEqual(answers.map((answer) => answer.ok), ['/api/videos', '/api/users']);
    assert.equal(renewals, 1);
    assert.deepEqual(seen.map((r) => `${r.path} ${r.headers.Authorization}`), [
      '/api/videos Bearer old',
      '/api/users Bearer old',
      '/api/videos Bearer new',
      '/api/users Bearer new',
    ]);
  });

  test('a call is sent again only once, and not for other 401s or with renew: false', async () => {
    setBearerToken('t1');
    let renewals = 0;
    setSessionRenewer(async () => {
      renewals += 1;
      setBearerToken(`t${renewals + 1}`);
      return true;
    });
    let seen = serve(() => stale);
    await assert.rejects(api('GET', '/api/videos'), (error) => error instanceof ApiError && error.code === 'token_expired');
    assert.equal(seen.length, 2);
    assert.equal(renewals, 1);

    seen = serve(() => [401, { success: false, error: { code: 'invalid_credentials', message: 'wrong' } }]);
    await assert.rejects(api('POST', '/api/auth/password', {}), { code: 'invalid_credentials' });
    seen = serve(() => stale);
    await assert.rejects(api('POST', '/api/auth/password', {}, { renew: false }), { code: 'token_expired' });
    assert.equal(seen.length, 1);
    assert.equal(renewals, 1);

    // A failed renewal gives the caller the original error.
    setSessionRenewer(async () => false);
    await assert.rejects(api('GET', '/api/videos'), { status: 401, code: 'token_expired' });
  });

  test('errors carry the code, the message and Retry-After', async () => {
    serve(() => [429, { success: false, error: { code: 'rate_limited', message: 'too many new videos; try again in 60 s' } }, { 'retry-after': '60' }]);
    await assert.rejects(api('POST', '/api/videos', {}), { status: 429, code: 'rate_limited', retryAfter: 60, message: 'too many new videos; try again in 60 s' });
    globalThis.fetch = async () => {
      throw new TypeError('Failed to fetch');
    };
    await assert.rejects(api('GET', '/api/videos'), { status: 0, code: 'network' });
  });

  test('the newest D1 bookmark goes back with every call; an older one never replaces it', async () => {
    const newer = '00000000-0000000d-00000000-00000000000000000000000000000000';
    const older = '00000000-0000000c-00000000-00000000000000000000000000000000';
    let seen = serve(() => [200, { success: true }, { 'x-d1-bookmark': newer }]);
    await api('GET', '/api/videos', undefined, { auth: false });
    assert.equal(currentBookmark(), newer);
    seen = serve(() => [200, { success: true }, { 'x-d1-bookmark': older }]);
    await api('GET', '/api/videos', undefined, { auth: false });
    assert.equal(seen[0].headers['X-D1-Bookmark'], newer);
    assert.equal(currentBookmark(), newer);
  });
});
