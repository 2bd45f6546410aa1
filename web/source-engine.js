// Playback through a plain `<video src>`: the MP4, or HLS where the browser plays it itself
// (Safari). The element fetches on its own, so its URL cannot be re-signed underneath it: a
// refresh swaps the source and puts the playhead back where it was.

export class SourceEngine extends EventTarget {
  /** `kind`: `mp4` plays `playback.url`, `native` plays `playback.hls`. */
  constructor(video, kind, playback, { startAt = 0 } = {}) {
    super();
    this.kind = kind;
    this.video = video;
    this.setSource(playback, startAt, true);
  }

  refresh(playback) {
    this.setSource(playback, this.video.currentTime, !this.video.paused);
  }

  setSource(playback, position, play) {
    const { video } = this;
    video.src = this.kind === 'native' ? playback.hls : playback.url;
    if (position > 0) {
      video.addEventListener(
        'loadedmetadata',
        () => {
          video.currentTime = position;
          if (play) video.play().catch(() => {});
        },
        { once: true },
      );
    }
  }

  destroy() {
    this.video.removeAttribute('src');
    this.video.load(); // releases the network connection and the decoder
  }
}
