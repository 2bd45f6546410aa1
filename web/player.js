// A <video> fed by a signed, expiring playback URL that is swapped for a fresh one before it expires.

import { api } from './api.js';
import { videoName } from './format.js';

// Refresh once this share of the URL's lifetime has passed, leaving room for a slow request.
const REFRESH_AT_LIFETIME_SHARE = 0.8;

const section = document.getElementById('player');
const titleEl = document.getElementById('player-title');
const videoEl = document.getElementById('player-video');
const errorEl = document.getElementById('player-error');

let videoId = null;
let refreshTimer;
let loadGeneration = 0; // a newer Play or Close wins over an older request still in flight

export async function play(video) {
  videoId = video.id;
  titleEl.textContent = videoName(video);
  section.hidden = false;
  section.scrollIntoView({ behavior: 'smooth', block: 'nearest' });
  await loadPlaybackUrl({ resume: false });
}

export function closePlayer() {
  loadGeneration += 1;
  clearTimeout(refreshTimer);
  videoId = null;
  videoEl.pause();
  videoEl.removeAttribute('src');
  videoEl.load(); // releases the network connection and the decoder
  section.hidden = true;
  showError(null);
}

/** Closes the player if it is showing this video (e.g. after it was deleted). */
export function closePlayerIfShowing(id) {
  if (videoId === id) closePlayer();
}

async function loadPlaybackUrl({ resume }) {
  const generation = ++loadGeneration;
  clearTimeout(refreshTimer);
  let playback;
  try {
    playback = await api('GET', `/api/videos/${encodeURIComponent(videoId)}/playback`);
  } catch (error) {
    if (generation === loadGeneration) showError(`This video cannot be played right now: ${error.message}`);
    return;
  }
  if (generation !== loadGeneration) return;
  showError(null);

  const position = videoEl.currentTime;
  const wasPlaying = !videoEl.paused;
  videoEl.src = playback.url;
  if (resume) {
    videoEl.addEventListener('loadedmetadata', () => {
      videoEl.currentTime = position;
      if (wasPlaying) startPlaying();
    }, { once: true });
  } else {
    startPlaying();
  }

  const lifetime = Date.parse(playback.expiresAt) - Date.now();
  refreshTimer = setTimeout(() => loadPlaybackUrl({ resume: true }), Math.max(0, lifetime * REFRESH_AT_LIFETIME_SHARE));
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
  if (videoId) showError('The video could not be loaded. Try Play again.');
});
document.getElementById('player-close').addEventListener('click', closePlayer);
