// The library: one <li> per video with its poster, kept live by polling while anything is
// uploading or processing (its adaptive ladder included).

import { api } from './api.js';
import { formatBytes, formatDuration, videoName } from './format.js';
import { parseMediaUrl } from './media-urls.js';
import { isResumable } from './upload.js';

const PAGE_SIZE = 50;
// Poll fast right after a change, then back off while nothing moves.
const POLL_MIN_MS = 1000;
const POLL_MAX_MS = 15000;
// A poster that failed to load (its signed URL expired while the page sat open) is asked for
// again with the library's next answer, once per poster.
const POSTER_RETRY_MS = 2000;

const listEl = document.getElementById('library-list');
const countEl = document.getElementById('library-count');
const emptyEl = document.getElementById('library-empty');
const errorEl = document.getElementById('library-error');
const moreButton = document.getElementById('library-more');
const confirmDialog = document.getElementById('confirm-delete');

let videos = [];
let nextCursor = null;
let rows = new Map(); // video id → its <li>, reused so focus survives a refresh
let pollDelay = POLL_MIN_MS;
let pollTimer;
let refreshGeneration = 0; // answers to superseded requests are dropped
let loadFailed = false; // a successful refresh clears only its own error, not a failed delete's
let handlers = { onPlay() {}, onDeleted() {} };
let posterRetryTimer;

/** `onPlay(video)` when Play is pressed, `onDeleted(video)` after a confirmed delete. */
export function startLibrary(eventHandlers) {
  handlers = eventHandlers;
  videos = [];
  nextCursor = null;
  rows = new Map();
  listEl.replaceChildren();
  return refreshLibrary();
}

export function stopLibrary() {
  refreshGeneration += 1;
  clearTimeout(pollTimer);
}

/** Re-reads the first page, keeping any older pages already shown. */
export async function refreshLibrary() {
  const generation = ++refreshGeneration;
  clearTimeout(pollTimer);
  let page;
  try {
    page = await api('GET', `/api/videos?limit=${PAGE_SIZE}`);
  } catch (error) {
    if (generation !== refreshGeneration) return;
    loadFailed = true;
    showError(`Could not load the library: ${error.message}`);
    schedulePoll(false, true);
    return;
  }
  if (generation !== refreshGeneration) return;
  if (loadFailed) {
    loadFailed = false;
    showError(null);
  }

  const before = new Map(videos.map((video) => [video.id, stateKey(video)]));
  const fresh = page.videos;
  const freshIds = new Set(fresh.map((video) => video.id));
  // Pages already loaded below the first stay; the list is newest first.
  const oldestFresh = fresh.length ? Date.parse(fresh.at(-1).createdAt) : Infinity;
  const older = page.nextCursor
    ? videos.filter((video) => !freshIds.has(video.id) && Date.parse(video.createdAt) < oldestFresh)
    : [];
  if (!older.length) nextCursor = page.nextCursor;
  videos = [...fresh, ...older];
  render();

  const changed = videos.length !== before.size || videos.some((video) => before.get(video.id) !== stateKey(video));
  schedulePoll(changed, videos.some((video) => isInFlight(video) || ladderInFlight(video)));
}

async function loadMore() {
  moreButton.disabled = true;
  try {
    const page = await api('GET', `/api/videos?limit=${PAGE_SIZE}&cursor=${encodeURIComponent(nextCursor)}`);
    const known = new Set(videos.map((video) => video.id));
    videos = [...videos, ...page.videos.filter((video) => !known.has(video.id))];
    nextCursor = page.nextCursor;
    render();
  } catch (error) {
    showError(`Could not load more videos: ${error.message}`);
  } finally {
    moreButton.disabled = false;
  }
}

function schedulePoll(changed, keepPolling) {
  if (!keepPolling) {
    pollDelay = POLL_MIN_MS;
    return;
  }
  pollDelay = changed ? POLL_MIN_MS : Math.min(pollDelay * 1.5, POLL_MAX_MS);
  pollTimer = setTimeout(refreshLibrary, pollDelay);
}

function isInFlight(video) {
  return video.status === 'uploading' || video.status === 'processing';
}

/** The ladder of a video that already plays is still being made: keep polling for it. */
function ladderInFlight(video) {
  return video.status === 'ready' && ['pending', 'processing'].includes(video.streams?.ladder);
}

/** What a row shows that can change while nothing else does. */
function stateKey(video) {
  return `${statusText(video)}|${ladderText(video)}|${video.posterUrl ? 'poster' : ''}`;
}

/** The adaptive ladder of a ready video, when there is something to say about it. */
function ladderText(video) {
  if (video.status !== 'ready') return '';
  const { ladder, ladderProgress } = video.streams ?? {};
  if (ladder === 'pending' || ladder === 'processing') {
    return ladderProgress == null ? 'more qualities coming' : `more qualities ${Math.round(ladderProgress)} %`;
  }
  return ladder === 'failed' ? 'MP4 only' : '';
}

function statusText(video) {
  switch (video.status) {
    case 'processing':
      return video.progress == null ? 'processing' : `processing ${Math.round(video.progress)} %`;
    case 'failed':
      return `failed: ${video.error || 'unknown reason'}`;
    default:
      return video.status;
  }
}

function render() {
  const wanted = new Map();
  for (const video of videos) {
    const row = rows.get(video.id) ?? createRow();
    fillRow(row, video);
    wanted.set(video.id, row);
  }
  rows = wanted;
  const ordered = [...wanted.values()];
  // Moving nodes drops focus, so only reorder when the order really changed.
  if (ordered.some((row, index) => listEl.children[index] !== row) || listEl.children.length !== ordered.length) {
    listEl.replaceChildren(...ordered);
  }
  emptyEl.hidden = videos.length > 0;
  countEl.textContent = videos.length ? `${videos.length}${nextCursor ? '+' : ''} ${videos.length === 1 ? 'video' : 'videos'}` : '';
  moreButton.hidden = !nextCursor;
}

function createRow() {
  const row = document.createElement('li');
  row.className = 'video';
  row.innerHTML = `
    <div class="video-thumb"><img alt="" width="160" height="90" loading="lazy" decoding="async" hidden></div>
    <div class="video-text">
      <h3 class="video-title"></h3>
      <p class="video-meta"></p>
    </div>
    <div class="video-state">
      <span class="status"></span>
      <span class="ladder" hidden></span>
    </div>
    <div class="video-actions">
      <button type="button" class="primary" data-action="play">Play</button>
      <button type="button" class="quiet" data-action="delete">Delete</button>
    </div>`;
  row.querySelector('[data-action="play"]').addEventListener('click', () => handlers.onPlay(row.video));
  row.querySelector('[data-action="delete"]').addEventListener('click', () => confirmDelete(row.video));
  const poster = row.querySelector('.video-thumb img');
  poster.addEventListener('error', () => {
    poster.hidden = true;
    retryPoster(poster);
  });
  return row;
}

/**
 * The poster, or the placeholder behind it while there is none. Its URL is signed and changes
 * every few minutes: a poster already on screen keeps the copy it has.
 */
function fillPoster(img, video, name) {
  img.alt = `Poster of ${name}`;
  const url = video.posterUrl;
  if (!url) {
    img.hidden = true;
    img.removeAttribute('src');
    delete img.dataset.key;
    return;
  }
  const key = parseMediaUrl(url)?.key ?? url;
  const shown = img.dataset.key === key && img.complete && img.naturalWidth > 0;
  if (!shown && img.getAttribute('src') !== url) {
    img.hidden = false;
    img.src = url;
  }
  img.dataset.key = key;
}

function retryPoster(img) {
  if (img.dataset.retried === img.dataset.key) return;
  img.dataset.retried = img.dataset.key;
  clearTimeout(posterRetryTimer);
  posterRetryTimer = setTimeout(refreshLibrary, POSTER_RETRY_MS);
}

function fillRow(row, video) {
  row.video = video;
  row.dataset.id = video.id;
  const name = videoName(video);
  row.querySelector('.video-title').textContent = name;

  const details = [video.fileName, formatBytes(video.fileSize)];
  if (video.durationMs) details.push(formatDuration(video.durationMs));
  if (video.width && video.height) details.push(`${video.width}×${video.height}`);
  if (video.status === 'uploading' && isResumable(video.id)) details.push('paused: choose the same file to resume');
  row.querySelector('.video-meta').textContent = details.join(' · ');

  fillPoster(row.querySelector('.video-thumb img'), video, name);

  const status = row.querySelector('.status');
  status.textContent = statusText(video);
  status.className = `status status-${video.status}`;
  const ladder = row.querySelector('.ladder');
  ladder.textContent = ladderText(video);
  ladder.hidden = !ladder.textContent;
  ladder.title = video.streams?.ladder === 'failed' ? `Adaptive streaming failed: ${video.streams.ladderError || 'unknown reason'}` : '';

  const play = row.querySelector('[data-action="play"]');
  play.hidden = video.status !== 'ready';
  play.setAttribute('aria-label', `Play ${name}`);
  row.querySelector('[data-action="delete"]').setAttribute('aria-label', `Delete ${name}`);
}

function confirmDelete(video) {
  document.getElementById('confirm-delete-name').textContent = videoName(video);
  confirmDialog.returnValue = '';
  confirmDialog.addEventListener(
    'close',
    () => {
      if (confirmDialog.returnValue === 'delete') deleteVideo(video);
    },
    { once: true },
  );
  confirmDialog.showModal();
}

async function deleteVideo(video) {
  const row = rows.get(video.id);
  row?.classList.add('is-busy');
  try {
    await api('DELETE', `/api/videos/${encodeURIComponent(video.id)}`);
    handlers.onDeleted(video);
  } catch (error) {
    showError(`Could not delete “${videoName(video)}”: ${error.message}`);
  } finally {
    row?.classList.remove('is-busy');
  }
  await refreshLibrary();
}

function showError(message) {
  errorEl.hidden = !message;
  errorEl.textContent = message ?? '';
}

moreButton.addEventListener('click', loadMore);
