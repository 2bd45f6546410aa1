// The seek bar, with storyboard previews: the browser's own controls do not tell a page where the
// pointer is on their timeline, so the player draws its own. Hovering or dragging shows the
// frame and the time under the pointer; with the keyboard (role=slider: arrows, Page Up/Down,
// Home, End) it shows the frame it jumped to.

import { formatClock } from './format.js';
import { cueAt } from './storyboard.js';

const KEY_STEP_SECONDS = 5;
const PAGE_STEP_SHARE = 0.1;
/** How long a keyboard seek's preview stays up. */
const KEY_PREVIEW_MS = 1500;

export function initSeekBar(video, root) {
  const track = root.querySelector('.seek-track');
  const played = root.querySelector('.seek-played');
  const buffered = root.querySelector('.seek-buffered');
  const handle = root.querySelector('.seek-handle');
  const preview = root.querySelector('.seek-preview');
  const previewImage = root.querySelector('.seek-preview-image');
  const previewTime = root.querySelector('.seek-preview-time');

  let cues = [];
  let dragTime = null; // while dragging: where the pointer is; the video seeks on release
  let hideTimer;

  const duration = () => (Number.isFinite(video.duration) ? video.duration : 0);
  const share = (time) => (duration() ? Math.min(1, Math.max(0, time / duration())) : 0);

  function timeAt(clientX) {
    const rect = track.getBoundingClientRect();
    return rect.width ? Math.min(1, Math.max(0, (clientX - rect.left) / rect.width)) * duration() : 0;
  }

  function render() {
    const shown = dragTime ?? video.currentTime;
    played.style.width = `${share(shown) * 100}%`;
    handle.style.left = `${share(shown) * 100}%`;
    buffered.style.width = `${share(bufferedEnd()) * 100}%`;
    root.setAttribute('aria-valuemax', String(Math.floor(duration())));
    root.setAttribute('aria-valuenow', String(Math.floor(shown)));
    root.setAttribute('aria-valuetext', `${formatClock(shown)} of ${formatClock(duration())}`);
    root.setAttribute('aria-disabled', String(!duration()));
  }

  /** The end of the buffered range the playhead is in (what will play without waiting). */
  function bufferedEnd() {
    const ranges = video.buffered;
    for (let i = 0; i < ranges.length; i += 1) {
      if (ranges.start(i) <= video.currentTime + 0.5 && video.currentTime <= ranges.end(i)) return ranges.end(i);
    }
    return 0;
  }

  function showPreview(time) {
    clearTimeout(hideTimer);
    if (!duration()) return hidePreview();
    const cue = cueAt(cues, time);
    previewImage.hidden = !cue;
    if (cue) {
      previewImage.style.width = `${cue.w}px`;
      previewImage.style.height = `${cue.h}px`;
      previewImage.style.backgroundImage = `url("${cue.url.replaceAll('"', '%22')}")`;
      previewImage.style.backgroundPosition = `-${cue.x}px -${cue.y}px`;
    }
    previewTime.textContent = formatClock(time);
    preview.hidden = false;
    // Centred over its time, but kept inside the bar.
    const width = track.clientWidth;
    const half = preview.offsetWidth / 2;
    const center = Math.min(Math.max(share(time) * width, half), Math.max(half, width - half));
    preview.style.left = `${track.offsetLeft + center}px`;
  }

  function hidePreview() {
    clearTimeout(hideTimer);
    preview.hidden = true;
  }

  function seekTo(time) {
    if (!duration()) return;
    video.currentTime = Math.min(Math.max(0, time), duration());
    render();
  }

  root.addEventListener('pointerdown', (event) => {
    if (event.button !== 0 || !duration()) return;
    root.setPointerCapture(event.pointerId);
    root.focus({ preventScroll: true });
    dragTime = timeAt(event.clientX);
    render();
    showPreview(dragTime);
  });
  root.addEventListener('pointermove', (event) => {
    const time = timeAt(event.clientX);
    if (dragTime !== null) {
      dragTime = time;
      render();
    }
    // Touch has no hover: previews only while a finger drags.
    if (dragTime !== null || event.pointerType === 'mouse') showPreview(time);
  });
  const endDrag = (event, commit) => {
    if (dragTime === null) return;
    const time = dragTime;
    dragTime = null;
    if (commit) seekTo(time);
    if (event.pointerType !== 'mouse' || !root.matches(':hover')) hidePreview();
  };
  root.addEventListener('pointerup', (event) => endDrag(event, true));
  root.addEventListener('pointercancel', (event) => endDrag(event, false));
  root.addEventListener('pointerleave', () => {
    if (dragTime === null) hidePreview();
  });

  root.addEventListener('keydown', (event) => {
    const now = video.currentTime;
    const page = duration() * PAGE_STEP_SHARE;
    const targets = {
      ArrowRight: now + KEY_STEP_SECONDS,
      ArrowUp: now + KEY_STEP_SECONDS,
      ArrowLeft: now - KEY_STEP_SECONDS,
      ArrowDown: now - KEY_STEP_SECONDS,
      PageUp: now + page,
      PageDown: now - page,
      Home: 0,
      End: duration(),
    };
    if (!(event.key in targets) || !duration()) return;
    event.preventDefault();
    seekTo(targets[event.key]);
    showPreview(video.currentTime);
    hideTimer = setTimeout(hidePreview, KEY_PREVIEW_MS);
  });
  root.addEventListener('blur', hidePreview);

  for (const type of ['timeupdate', 'durationchange', 'progress', 'seeking', 'emptied']) {
    video.addEventListener(type, render);
  }
  render();

  return {
    /** Storyboard cues (storyboard.js) for the previews; [] shows the time only. */
    setCues(newCues) {
      cues = newCues;
    },
    reset() {
      cues = [];
      dragTime = null;
      hidePreview();
      render();
    },
  };
}
