// Storyboards as Mux serves them: a WebVTT file whose cues name a tile of a sprite image,
// `sprite.jpg#xywh=x,y,w,h`. Relative image URIs resolve against the VTT's own URL (edge
// playback mode); absolute ones are already signed (s3 and cloudfront modes).

/** The storyboard's cues, sorted by start: `{start, end, url, x, y, w, h}` with times in seconds. */
export async function loadStoryboard(url, { signal } = {}) {
  const response = await fetch(url, { signal });
  if (!response.ok) throw new Error(`storyboard: HTTP ${response.status}`);
  return parseStoryboard(await response.text(), response.url || url);
}

export function parseStoryboard(text, baseUrl) {
  const cues = [];
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  for (let i = 0; i < lines.length; i += 1) {
    const timing = /^\s*([\d:.]+)\s+-->\s+([\d:.]+)/.exec(lines[i]);
    const payload = lines[i + 1]?.trim();
    if (!timing || !payload) continue;
    const fragment = payload.lastIndexOf('#xywh=');
    if (fragment < 0) continue;
    const [x, y, w, h] = payload.slice(fragment + '#xywh='.length).split(',').map(Number);
    const start = parseTimestamp(timing[1]);
    const end = parseTimestamp(timing[2]);
    if (![x, y, w, h, start, end].every(Number.isFinite) || w <= 0 || h <= 0) continue;
    cues.push({ start, end, url: new URL(payload.slice(0, fragment), baseUrl).href, x, y, w, h });
    i += 1;
  }
  return cues.sort((a, b) => a.start - b.start);
}

/** The cue showing at `time` (the last one starting at or before it), or null. */
export function cueAt(cues, time) {
  let low = 0;
  let high = cues.length - 1;
  let found = null;
  while (low <= high) {
    const middle = (low + high) >> 1;
    if (cues[middle].start <= time) {
      found = cues[middle];
      low = middle + 1;
    } else {
      high = middle - 1;
    }
  }
  return found;
}

/** `hh:mm:ss.ttt` or `mm:ss.ttt` in seconds; NaN if malformed. */
function parseTimestamp(text) {
  const parts = text.split(':');
  if (parts.length < 2 || parts.length > 3) return NaN;
  return parts.reduce((total, part) => total * 60 + Number(part), 0);
}
