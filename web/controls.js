// The player's control bar: play/pause, the seek bar with storyboard previews, the time, mute
// and full screen. Every control is a real button or a slider, so keyboards and screen
// readers get them for free; the quality menu lives in quality-menu.js.

import { formatClock } from './format.js';
import { initSeekBar } from './seek-bar.js';

export function initControls(video, frame) {
  const toggle = frame.querySelector('#player-toggle');
  const mute = frame.querySelector('#player-mute');
  const fullscreen = frame.querySelector('#player-fullscreen');
  const timeEl = frame.querySelector('#player-time');
  const seekBar = initSeekBar(video, frame.querySelector('#player-seek'));

  const togglePlay = () => (video.paused || video.ended ? video.play().catch(() => {}) : video.pause());

  function renderPlaying() {
    const playing = !video.paused && !video.ended;
    toggle.classList.toggle('is-on', playing);
    toggle.setAttribute('aria-label', playing ? 'Pause' : 'Play');
  }
  function renderTime() {
    const duration = Number.isFinite(video.duration) ? video.duration : 0;
    timeEl.textContent = `${formatClock(video.currentTime)} / ${formatClock(duration)}`;
  }
  function renderMuted() {
    const muted = video.muted || video.volume === 0;
    mute.classList.toggle('is-on', muted);
    mute.setAttribute('aria-label', muted ? 'Unmute' : 'Mute');
  }
  function renderFullscreen() {
    const on = document.fullscreenElement === frame;
    fullscreen.classList.toggle('is-on', on);
    fullscreen.setAttribute('aria-label', on ? 'Exit full screen' : 'Full screen');
  }

  toggle.addEventListener('click', togglePlay);
  video.addEventListener('click', togglePlay);
  mute.addEventListener('click', () => {
    video.muted = !video.muted;
  });
  // The frame (video and controls) goes full screen, so the custom controls come along.
  // iPhones only let the <video> itself go full screen, with the system's controls.
  const canFrameFullscreen = Boolean(frame.requestFullscreen) && document.fullscreenEnabled !== false;
  fullscreen.hidden = !canFrameFullscreen && !video.webkitEnterFullscreen;
  fullscreen.addEventListener('click', () => {
    if (!canFrameFullscreen) video.webkitEnterFullscreen?.();
    else if (document.fullscreenElement === frame) document.exitFullscreen().catch(() => {});
    else frame.requestFullscreen().catch(() => {});
  });
  document.addEventListener('fullscreenchange', renderFullscreen);

  for (const type of ['play', 'pause', 'ended', 'emptied']) video.addEventListener(type, renderPlaying);
  for (const type of ['timeupdate', 'durationchange', 'emptied']) video.addEventListener(type, renderTime);
  video.addEventListener('volumechange', renderMuted);
  renderPlaying();
  renderTime();
  renderMuted();
  renderFullscreen();

  return {
    setStoryboard: seekBar.setCues,
    reset() {
      seekBar.reset();
      if (document.fullscreenElement === frame) document.exitFullscreen().catch(() => {});
    },
  };
}
