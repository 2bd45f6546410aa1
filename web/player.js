// The player: plays a ready video adaptively where it can and keeps its signed, expiring URLs
// fresh without a visible stall.
//
// How it plays, best first: hls.js where Media Source Extensions exist; the browser's own HLS
// (Safari without MSE); the MP4, which is also what plays while the ladder is still being made
// and what a failing hls.js falls back to. The poster shows until playback starts, the quality
// menu lists the renditions, and the seek bar previews frames from the storyboard.

import { api } from './api.js';
import { initControls } from './controls.js';
import { videoName } from './format.js';
import { HlsEngine, hasMediaSource, loadHls } from './hls-engine.js';
import { grantOf } from './media-urls.js';
import { bindQualityMenu } from './quality-menu.js';
import { SourceEngine } from './source-engine.js';
import { loadStoryboard } from './storyboard.js';

// Ask for fresh URLs once this share of their lifetime has passed, leaving room for a slow request.
const REFRESH_AT_LIFETIME_SHARE = 0.8;
// A refresh that fails for a passing reason (network, 5xx) is tried again this soon.
const REFRESH_RETRY_MS = 10_000;
const HLS_TYPE = 'application/vnd.apple.mpegurl';

const section = document.getElementById('player');
const titleEl = document.getElementById('player-title');
const videoEl = document.getElementById('player-video');
const errorEl = document.getElementById('player-error');
const controls = initControls(videoEl, document.getElementById('player-frame'));

let videoId = null;
let engine = null; // HlsEngine or SourceEngine
let playback = null; // the latest playback answer
let grant = null; // what it grants; hls.js reads it on every request (media-urls.js)
let refreshTimer;
let storyboardRequest = null;
let loadGeneration = 0; // a newer Play or Close wins over an older request still in flight

export async function play(video) {
  stop();
  videoId = video.id;
  titleEl.textContent = videoName(video);
  section.hidden = false;
  section.scrollIntoView({ behavior: 'smooth', block: 'nearest' });
  await loadPlayback({ refresh: false });
}

export function closePlayer() {
  stop();
  section.hidden = true;
}

/** Closes the player if it is showing this video (e.g. after it was deleted). */
export function closePlayerIfShowing(id) {
  if (videoId === id) closePlayer();
}

function stop() {
  loadGeneration += 1;
  clearTimeout(refreshTimer);
  storyboardRequest?.abort();
  videoId = null;
  playback = null;
  grant = null;
  setEngine(null);
  videoEl.removeAttribute('poster');
  controls.reset();
  showError(null);
}

async function loadPlayback({ refresh }) {
  const generation = ++loadGeneration;
  clearTimeout(refreshTimer);
  let answer;
  try {
    answer = await api('GET', `/api/videos/${encodeURIComponent(videoId)}/playback`);
  } catch (error) {
    if (generation !== loadGeneration) return;
    if (refresh && (error.status === 0 || error.status >= 500)) {
      // The URLs in use still work for a while: try again quietly.
      refreshTimer = setTimeout(() => loadPlayback({ refresh: true }), REFRESH_RETRY_MS);
    } else {
      showError(`This video cannot be played right now: ${error.message}`);
    }
    return;
  }
  if (generation !== loadGeneration) return;
  showError(null);
  playback = answer;
  grant = grantOf(answer);

  if (refresh && engine) {
    // The way of playing stays for this viewing (an MP4 does not turn into HLS mid-way when the
    // ladder lands meanwhile; the next Play picks it up).
    engine.refresh(answer);
  } else {
    if (answer.poster) videoEl.poster = answer.poster;
    const started = await startEngine(answer);
    if (!started || generation !== loadGeneration) return;
  }
  loadStoryboardCues(answer.storyboard);

  const lifetime = Date.parse(answer.expiresAt) - Date.now();
  refreshTimer = setTimeout(() => loadPlayback({ refresh: true }), Math.max(0, lifetime * REFRESH_AT_LIFETIME_SHARE));
}

/** Picks how to play and starts playing; false if a newer Play or Close came first. */
async function startEngine(answer) {
  const generation = loadGeneration;
  const Hls = answer.hls && hasMediaSource() ? await loadHls() : null;
  if (generation !== loadGeneration) return false;
  if (Hls) {
    setEngine(new HlsEngine(Hls, videoEl, answer.hls, () => grant));
  } else if (answer.hls && videoEl.canPlayType(HLS_TYPE)) {
    setEngine(new SourceEngine(videoEl, 'native', answer));
  } else {
    setEngine(new SourceEngine(videoEl, 'mp4', answer));
  }
  startPlaying();
  return true;
}

/** `next` is already attached to the <video>: only the previous engine is taken down. */
function setEngine(next) {
  engine?.removeEventListener('fatal', fallBackToMp4);
  engine?.destroy();
  engine = next;
  engine?.addEventListener('fatal', fallBackToMp4);
  bindQualityMenu(engine instanceof HlsEngine ? engine : null);
  if (engine) section.dataset.engine = engine.kind;
  else delete section.dataset.engine;
}

/** hls.js gave up (a network or decoding error it cannot get past): the MP4 from where we were. */
function fallBackToMp4() {
  if (!playback) return;
  const position = videoEl.currentTime;
  setEngine(null); // hls.js lets go of the <video> before the MP4 takes it
  setEngine(new SourceEngine(videoEl, 'mp4', playback, { startAt: position }));
  if (position === 0) startPlaying();
}

/** The storyboard's cues, fetched again with every fresh grant (its sprite URL expires too). */
function loadStoryboardCues(url) {
  storyboardRequest?.abort();
  if (!url) {
    controls.setStoryboard([]);
    return;
  }
  const request = new AbortController();
  storyboardRequest = request;
  loadStoryboard(url, { signal: request.signal }).then(
    (cues) => {
      if (storyboardRequest === request) controls.setStoryboard(cues);
    },
    // No previews is not worth an error: the seek bar still shows the time, and the last
    // cues (if any) stay until the next refresh.
    () => {},
  );
}

function startPlaying() {
  // The browser may refuse autoplay or interrupt it with a newer source; the controls stay usable.
  videoEl.play().catch(() => {});
}

function showError(message) {
  errorEl.hidden = !message;
  errorEl.textContent = message ?? '';
}

videoEl.addEventListener('error', () => {
  // hls.js reports its own errors (and falls back); this is the plain <video src>'s.
  if (videoId && engine instanceof SourceEngine) showError('The video could not be loaded. Try Play again.');
});
document.getElementById('player-close').addEventListener('click', closePlayer);

// A read-only handle for the browser console and the browser tests: what plays, and hls.js.
Object.defineProperty(window, '__player', {
  value: Object.freeze({
    get engine() {
      return engine?.kind ?? null;
    },
    get hls() {
      return engine instanceof HlsEngine ? engine.hls : null;
    },
  }),
});
