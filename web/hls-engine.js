// Adaptive playback through hls.js where Media Source Extensions exist. hls.js is vendored from
// npm into web/vendor/ by the build (cargo xtask) and loaded on the first adaptive Play only.
//
// Every request hls.js makes goes through `xhrSetup`, which swaps in the current playback
// grant's credentials (media-urls.js): refreshing the grant needs no reload and no seek.

import { freshUrl } from './media-urls.js';

const HLS_MODULE_URL = new URL('./vendor/hls.min.mjs', import.meta.url).href;

// The forward buffer hls.js fills. Its default grows with maxBufferSize (60 MB), minutes of a
// small rendition; 30 s keeps a stall-free margin while a viewer who leaves early has not
// downloaded the whole video (egress is paid per byte).
const BUFFER_SECONDS = 30;

let hlsModule;

/** Whether this browser has Media Source Extensions at all (cheap; before loading hls.js). */
export function hasMediaSource() {
  return 'MediaSource' in window || 'ManagedMediaSource' in window;
}

/** The hls.js class, or null when it cannot play here (no MSE, or the vendored file is missing). */
export async function loadHls() {
  hlsModule ??= import(HLS_MODULE_URL).then(
    (module) => module.default,
    () => null,
  );
  const Hls = await hlsModule;
  return Hls?.isSupported() ? Hls : null;
}

/**
 * Plays `url` (a master playlist) in `video`. `grant()` returns the current playback grant.
 * Dispatches `levels` once renditions are known, `level` when the playing or chosen rendition
 * changes, and `fatal` when hls.js gives up (the player then falls back to the MP4).
 */
export class HlsEngine extends EventTarget {
  kind = 'hls.js';

  constructor(Hls, video, url, grant) {
    super();
    this.Hls = Hls;
    this.playingLevel = -1;
    this.recoveredMediaError = false;
    this.hls = new Hls({
      // The worker only transmuxes MPEG-TS; our segments are fMP4 (CMAF), which hls.js passes
      // through. Without it the CSP needs no `worker-src blob:`.
      enableWorker: false,
      maxBufferLength: BUFFER_SECONDS,
      maxMaxBufferLength: BUFFER_SECONDS,
      // No 1080p into a 400 px box: ABR stays at or below what the player can show.
      capLevelToPlayerSize: true,
      xhrSetup(xhr, requested) {
        const fresh = freshUrl(requested, grant());
        if (fresh !== requested) xhr.open('GET', fresh, true);
      },
    });
    const { Events } = Hls;
    this.hls.on(Events.MANIFEST_PARSED, () => this.dispatchEvent(new Event('levels')));
    this.hls.on(Events.LEVEL_SWITCHED, (_, data) => {
      this.playingLevel = data.level;
      this.dispatchEvent(new Event('level'));
    });
    this.hls.on(Events.ERROR, (_, data) => this.onError(data));
    this.hls.loadSource(url);
    this.hls.attachMedia(video);
  }

  /** The renditions, highest first: `{index, label, height}`. */
  get levels() {
    const levels = this.hls.levels.map((level, index) => ({
      index,
      // Named by the picture's short side, as the ladder is (720p also for a portrait 720×1280).
      height: Math.min(level.width || Infinity, level.height || Infinity),
      bitrate: level.bitrate,
    }));
    const heights = levels.map((level) => level.height);
    for (const level of levels) {
      const rate = `${Math.round(level.bitrate / 1000)} kb/s`;
      // Two of a size (or a playlist without RESOLUTION) tell apart by their bit rate.
      const twin = heights.indexOf(level.height) !== heights.lastIndexOf(level.height);
      if (!Number.isFinite(level.height)) level.label = rate;
      else level.label = twin ? `${level.height}p (${rate})` : `${level.height}p`;
    }
    return levels.sort((a, b) => b.height - a.height || b.bitrate - a.bitrate);
  }

  get auto() {
    return this.hls.autoLevelEnabled;
  }

  /** The rendition chosen by hand, or (in Auto) the one playing now; -1 before the first. */
  get level() {
    return this.auto ? this.playingLevel : this.hls.manualLevel;
  }

  /**
   * -1 for Auto, which takes over from the next load and keeps what is buffered. A rendition
   * takes over from the next segment (hls.js drops what it buffered beyond the playing one):
   * no stall, and the change shows within seconds.
   */
  select(index) {
    if (index < 0) this.hls.loadLevel = -1;
    else this.hls.nextLevel = index;
    this.dispatchEvent(new Event('level'));
  }

  /** Fresh credentials apply through xhrSetup: nothing to reload. */
  refresh() {}

  destroy() {
    this.hls.destroy();
  }

  onError(data) {
    if (!data.fatal) return; // hls.js retries these itself
    const { ErrorTypes } = this.Hls;
    if (data.type === ErrorTypes.MEDIA_ERROR && !this.recoveredMediaError) {
      // A decode hiccup: hls.js's documented recovery is to reattach the media once.
      this.recoveredMediaError = true;
      this.hls.recoverMediaError();
      return;
    }
    this.dispatchEvent(new CustomEvent('fatal', { detail: `${data.type}: ${data.details}` }));
  }
}
