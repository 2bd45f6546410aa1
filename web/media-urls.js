// Playback URLs expire after minutes, but a player keeps using URLs it read long ago: the
// master playlist's level URIs, the segment URIs of playlists it loaded at the start. These
// helpers map such a URL to one the current grant opens, so every later request carries fresh
// credentials without reloading the source. Pure functions (no DOM): Node tests them too.

/** `/media/<token>/videos/<id>/…` on the Worker: the token opens every file of one video. */
const MEDIA_PATH = /^\/media\/([^/]+)\/(videos\/[^/]+\/.+)$/;

/** Tolerance when comparing expiry instants read from URLs (whole seconds) with `expiresAt`. */
const CLOCK_SLACK_MS = 1000;

/** `{origin, token, key}` of a Worker media URL, or null for any other URL. */
export function parseMediaUrl(url) {
  const parsed = toUrl(url);
  const match = parsed && MEDIA_PATH.exec(parsed.pathname);
  return match ? { origin: parsed.origin, token: match[1], key: match[2] } : null;
}

/**
 * What one playback answer grants: the Worker's `/media/<token>/` for one video's folder until
 * `expiresAt`. Null when the answer names no Worker media URL (an MP4-only video in s3 mode).
 */
export function grantOf(playback) {
  const media = [playback.hls, playback.storyboard, playback.poster, playback.url]
    .map((url) => url && parseMediaUrl(url))
    .find(Boolean);
  if (!media) return null;
  const folder = media.key.split('/').slice(0, 2).join('/'); // videos/<id>
  return { origin: media.origin, token: media.token, folder: `${folder}/`, expiresAt: Date.parse(playback.expiresAt) };
}

/** The Worker URL of `key` under `grant`. */
export function mediaUrl(grant, key) {
  return `${grant.origin}/media/${grant.token}/${key}`;
}

/**
 * `url` as the current `grant` would name it:
 * - a Worker media URL with an older token gets the current token;
 * - a URL signed for direct access (an S3 presigned or CloudFront signed segment from a playlist
 *   read under an older grant) becomes the Worker URL of the same file, which redirects to a
 *   freshly signed one. A direct URL that expires with the current grant was signed under it
 *   and stays as it is, so fresh playlists cost no extra hop.
 * Anything else (not one of this video's files) is left alone.
 */
export function freshUrl(url, grant) {
  const parsed = toUrl(url);
  if (!parsed || !grant) return url;
  const media = parseMediaUrl(parsed);
  if (media && media.origin === grant.origin) {
    return media.token === grant.token ? url : mediaUrl(grant, media.key);
  }
  const expires = signedUrlExpiry(parsed);
  if (expires !== null && expires >= grant.expiresAt - CLOCK_SLACK_MS) return url;
  const at = parsed.pathname.indexOf(`/${grant.folder}`);
  return at < 0 ? url : mediaUrl(grant, parsed.pathname.slice(at + 1));
}

/**
 * When a signed URL stops working, in ms since the epoch, or null if it carries no expiry we
 * know: S3 SigV4 presigned (`X-Amz-Date` + `X-Amz-Expires`), CloudFront canned (`Expires`) or
 * custom policy (`Policy`, CloudFront's URL-safe base64 of JSON).
 */
export function signedUrlExpiry(url) {
  const parsed = toUrl(url);
  if (!parsed) return null;
  const query = parsed.searchParams;
  const amzDate = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(query.get('X-Amz-Date') ?? '');
  const amzExpires = query.get('X-Amz-Expires');
  if (amzDate && /^\d+$/.test(amzExpires ?? '')) {
    const [, year, month, day, hours, minutes, seconds] = amzDate.map(Number);
    return Date.UTC(year, month - 1, day, hours, minutes, seconds) + Number(amzExpires) * 1000;
  }
  const expires = query.get('Expires');
  if (/^\d+$/.test(expires ?? '')) return Number(expires) * 1000;
  const policy = query.get('Policy');
  if (policy) {
    try {
      const json = JSON.parse(atob(policy.replaceAll('-', '+').replaceAll('_', '=').replaceAll('~', '/')));
      const epoch = json?.Statement?.[0]?.Condition?.DateLessThan?.['AWS:EpochTime'];
      if (Number.isFinite(epoch)) return epoch * 1000;
    } catch {
      // Not a policy we can read: treated as unknown.
    }
  }
  return null;
}

function toUrl(url) {
  if (url instanceof URL) return url;
  try {
    return new URL(url);
  } catch {
    return null;
  }
}
