// Uploads go straight to S3 through presigned URLs; the bytes never pass through the API.
// Small files: one PUT. Large files: multipart, PARALLEL_PARTS at a time, each part retried with
// exponential backoff. A multipart upload is remembered per file so picking the same file again
// (after a reload or a crash) sends only the parts S3 does not have yet.

import { api } from './api.js';
import { formatBytes, formatRate, formatTimeLeft } from './format.js';

// Six: Chromium and Firefox open at most six HTTP/1.1 connections to one host, and S3 speaks
// HTTP/1.1, so more would only queue in the browser. Over a long, thin network path each
// connection adds throughput; on loopback (`cargo xtask bench upload`) four and six tie, the
// server being the limit.
const PARALLEL_PARTS = 6;
const MAX_ATTEMPTS = 6;
const MAX_URLS_PER_REQUEST = 100; // the API's limit for POST /api/videos/{id}/parts
// The next batch of part URLs is asked for this many parts before the workers reach it, so
// no part waits on the API at a batch's end.
const SIGN_AHEAD = 2 * PARALLEL_PARTS;
const RESUME_KEY = 'edgevid.resumableUploads';
const SPEED_WINDOW_MS = 5000;
const DONE_ROW_LINGER_MS = 4000;
// The browser computes these itself and logs an error when a script tries to set them.
const HEADERS_THE_BROWSER_SETS = new Set(['content-length', 'host']);

const listEl = document.getElementById('uploads');
const activeUploads = new Set();
let onVideosChanged = () => {};

/** Wires the file input and the drop zone; `onChange` runs when a video row appears or changes state. */
export function initUploads({ onChange }) {
  onVideosChanged = onChange;
  const input = document.getElementById('file-input');
  const dropZone = document.getElementById('drop-zone');

  input.addEventListener('change', () => {
    startUploads(input.files);
    input.value = ''; // so picking the same file again (to resume) fires `change` again
  });

  // A file dropped next to the zone would make the browser navigate to it and drop every upload.
  addEventListener('dragover', (event) => event.preventDefault());
  addEventListener('drop', (event) => event.preventDefault());
  dropZone.addEventListener('dragover', () => dropZone.classList.add('is-dragging'));
  dropZone.addEventListener('dragleave', () => dropZone.classList.remove('is-dragging'));
  dropZone.addEventListener('drop', (event) => {
    dropZone.classList.remove('is-dragging');
    startUploads(event.dataTransfer.files);
  });
}

/** Stops every transfer without cancelling: the remembered multipart uploads can be resumed later. */
export function pauseAllUploads() {
  for (const upload of activeUploads) upload.controller.abort('pause');
  listEl.replaceChildren();
}

/** True if this browser remembers an unfinished multipart upload of this video that is not running. */
export function isResumable(videoId) {
  const running = [...activeUploads].some((upload) => upload.videoId === videoId);
  return !running && Object.values(readResumable()).some((entry) => entry.videoId === videoId);
}

function startUploads(files) {
  for (const file of files) {
    const alreadyRunning = [...activeUploads].some((upload) => upload.fileKey === fileKey(file));
    if (!alreadyRunning) new FileUpload(file).run();
  }
}

class FileUpload {
  constructor(file) {
    this.file = file;
    this.fileKey = fileKey(file);
    this.videoId = null;
    this.controller = new AbortController();
    this.row = new UploadRow(file, () => this.controller.abort('cancel'));
    this.progress = new Progress(file.size, (text, fraction) => this.row.showProgress(text, fraction));
  }

  async run() {
    activeUploads.add(this);
    const { signal } = this.controller;
    try {
      const upload = await this.startOrResume();
      signal.throwIfAborted();
      const parts = upload.method === 'PUT' ? await this.putWhole(upload) : await this.putParts(upload);
      signal.throwIfAborted();
      this.row.showState('Finishing…');
      this.row.disableCancel();
      await api('POST', `/api/videos/${this.videoId}/complete`, { parts });
      forgetResumable(this.fileKey);
      this.row.finish('Uploaded. Converting now; see the library below.');
      onVideosChanged();
    } catch (error) {
      if (signal.reason === 'cancel') {
        await this.discard();
      } else if (signal.reason !== 'pause') {
        this.row.fail(failureText(error));
      }
    } finally {
      activeUploads.delete(this);
    }
  }

  /** Continues the remembered multipart upload of this file if S3 still has it, else starts anew. */
  async startOrResume() {
    const saved = readResumable()[this.fileKey];
    if (saved) {
      this.row.showState('Checking which parts are already uploaded…');
      try {
        const { parts } = await api('GET', `/api/videos/${saved.videoId}/parts`);
        this.videoId = saved.videoId;
        return { method: 'multipart', partSize: saved.partSize, partCount: saved.partCount, storedParts: parts };
      } catch (error) {
        if (isRetryable(error)) throw error; // keep the entry: the next try may resume
        forgetResumable(this.fileKey); // completed, cancelled or deleted meanwhile
      }
    }
    this.row.showState('Starting…');
    const { video, upload } = await api('POST', '/api/videos', {
      fileName: this.file.name,
      fileSize: this.file.size,
      fileType: this.file.type.startsWith('video/') ? this.file.type : 'application/octet-stream',
      title: this.file.name.replace(/\.[^.]+$/, ''),
    });
    this.videoId = video.id;
    if (upload.method === 'multipart') {
      rememberResumable(this.fileKey, { videoId: video.id, partSize: upload.partSize, partCount: upload.partCount });
    }
    onVideosChanged();
    return { ...upload, storedParts: [] };
  }

  /** Returns the parts to list on completion: none for a single PUT. */
  async putWhole(upload) {
    await putBlob(upload.uploadUrl, this.file, upload.headers, (loaded) => this.progress.update(0, loaded), this.controller.signal);
    return [];
  }

  /** Sends the parts S3 does not have yet; returns every part with its ETag, in order. */

  async putParts({ partSize, partCount, storedParts }) {
    const etags = new Map(storedParts.map((part) => [part.partNumber, part.etag]));
    if (storedParts.length) this.row.note = `resumed, ${storedParts.length} of ${partCount} parts were already uploaded`;

    this.progress.addStored(storedParts.reduce((sum, part) => sum + part.size, 0));

    const missing = [];
    for (let partNumber = 1; partNumber <= partCount; partNumber += 1) {
      if (!etags.has(partNumber)) missing.push(partNumber);
    }
    const urls = new PartUrls(this.videoId, missing);
    const queue = [...missing];
    const worker = async () => {
      for (let partNumber = queue.shift(); partNumber !== undefined; partNumber = queue.shift()) {
        const start = (partNumber - 1) * partSize;
        const blob = this.file.slice(start, Math.min(start + partSize, this.file.size));
        etags.set(partNumber, await this.putPart(partNumber, blob, urls));
      }
    };
    try {
      await Promise.all(Array.from({ length: Math.min(PARALLEL_PARTS, missing.length) }, worker));
    } catch (error) {
      this.controller.abort(error); // stop the other workers' transfers too
      throw error;
    }
    return [...etags]
      .sort(([a], [b]) => a - b)
      .map(([partNumber, etag]) => ({ partNumber, etag }));
  }

  async putPart(partNumber, blob, urls) {
    const { signal } = this.controller;
    for (let attempt = 1; ; attempt += 1) {
      try {
        const url = await urls.get(partNumber);
        const etag = await putBlob(url, blob, {}, (loaded) => this.progress.update(partNumber, loaded), signal);
        this.progress.complete(partNumber, blob.size);
        return etag;
      } catch (error) {
        this.progress.update(partNumber, 0);
        if (signal.aborted || attempt === MAX_ATTEMPTS) throw error;
        // Part URLs expire; after a long pause S3 answers 403 and a fresh URL fixes it.
        if (error.status === 403) urls.forgetAll();
        else if (!isRetryable(error)) throw error;
        const delay = backoffMs(attempt);
        this.row.showState(`Part ${partNumber}: ${error.message}; retrying in ${Math.ceil(delay / 1000)} s…`);
        await sleep(delay, signal);
      }
    }
  }

  async discard() {
    forgetResumable(this.fileKey);
    if (this.videoId) {
      try {
        await api('DELETE', `/api/videos/${this.videoId}/upload`);
      } catch (error) {
        this.row.fail(`Cancelled, but the server could not clean up: ${error.message}`);
        return;
      }
    }
    this.row.remove();
    onVideosChanged();
  }
}

/** Presigned part URLs, fetched lazily in batches and shared by the workers. */
class PartUrls {
  constructor(videoId, partNumbers) {
    this.videoId = videoId;
    this.partNumbers = partNumbers;
    this.position = new Map(partNumbers.map((number, index) => [number, index]));
    this.urls = new Map(); // part number → Promise<url>
  }

  get(partNumber) {
    if (!this.urls.has(partNumber)) this.fetchBatchFrom(partNumber);
    const ahead = this.partNumbers[this.position.get(partNumber) + SIGN_AHEAD];
    if (ahead !== undefined && !this.urls.has(ahead)) this.fetchBatchFrom(ahead);
    return this.urls.get(partNumber);
  }

  forgetAll() {
    this.urls.clear();
  }

  fetchBatchFrom(partNumber) {
    const batch = this.partNumbers
      .slice(this.position.get(partNumber))
      .filter((number) => !this.urls.has(number))
      .slice(0, MAX_URLS_PER_REQUEST);
    const request = api('POST', `/api/videos/${this.videoId}/parts`, { partNumbers: batch });
    for (const number of batch) {
      const url = request.then(({ parts }) => parts.find((part) => part.partNumber === number).url);
      // A failed batch is fetched again on the next attempt instead of failing for good.
      url.catch(() => this.urls.get(number) === url && this.urls.delete(number));
      this.urls.set(number, url);
    }
  }
}

/** Bytes on the server plus bytes in flight, and the speed over the last few seconds. */
class Progress {
  constructor(total, onChange) {
    this.total = total;
    this.onChange = onChange;
    this.stored = 0; // confirmed by S3
    this.inFlight = new Map(); // part number (0 for a single PUT) → bytes sent so far
    this.samples = []; // [time, bytes sent in this session]
    this.sentThisSession = 0;
  }

  addStored(bytes) {
    this.stored += bytes;
    this.report();
  }

  update(partNumber, loaded) {
    this.inFlight.set(partNumber, loaded);
    this.report();
  }

  complete(partNumber, size) {
    this.inFlight.delete(partNumber);
    this.stored += size;
    this.sentThisSession += size;
    this.report();
  }

  report() {
    const inFlight = [...this.inFlight.values()].reduce((sum, bytes) => sum + bytes, 0);
    const done = Math.min(this.total, this.stored + inFlight);
    const now = performance.now();
    this.samples.push([now, this.sentThisSession + inFlight]);
    while (now - this.samples[0][0] > SPEED_WINDOW_MS) this.samples.shift();
    const [firstTime, firstBytes] = this.samples[0];
    const seconds = (now - firstTime) / 1000;
    const speed = seconds > 0.5 ? (this.sentThisSession + inFlight - firstBytes) / seconds : 0;

    const fraction = this.total ? done / this.total : 1;
    const parts = [`${Math.floor(fraction * 100)} %`, `${formatBytes(done)} of ${formatBytes(this.total)}`];
    if (speed > 0) parts.push(formatRate(speed), formatTimeLeft((this.total - done) / speed));
    this.onChange(parts.join(' · '), fraction);
  }
}

/** One row in the "Uploads" list: name, <progress>, a status line and Cancel. */
class UploadRow {
  constructor(file, onCancel) {
    this.element = document.createElement('li');
    this.element.className = 'upload';
    this.element.innerHTML = `
      <div class="upload-head"><span class="upload-name"></span><span class="muted"></span></div>
      <progress max="1" value="0"></progress>
      <div class="upload-foot">
        <span class="upload-state muted"></span>
        <button type="button" class="quiet">Cancel</button>
      </div>`;
    this.fileName = file.name;
    const [name, size] = this.element.querySelector('.upload-head').children;
    name.textContent = file.name;
    size.textContent = formatBytes(file.size);
    this.progressEl = this.element.querySelector('progress');
    this.progressEl.setAttribute('aria-label', `Upload of ${file.name}`);
    this.stateEl = this.element.querySelector('.upload-state');
    this.note = ''; // shown after the progress figures, e.g. how much a resume skipped
    this.button = this.element.querySelector('button');
    this.button.setAttribute('aria-label', `Cancel upload of ${file.name}`);
    this.button.addEventListener('click', onCancel, { once: true });
    listEl.append(this.element);
  }

  showState(text) {
    this.stateEl.textContent = text;
  }

  showProgress(text, fraction) {
    this.progressEl.value = fraction;
    this.progressEl.textContent = `${Math.floor(fraction * 100)} %`;
    this.showState(this.note ? `${text} · ${this.note}` : text);
  }

  disableCancel() {
    this.button.disabled = true;
  }

  finish(text) {
    this.progressEl.value = 1;
    this.element.classList.add('is-done');
    this.button.remove();
    this.showState(text);
    setTimeout(() => this.remove(), DONE_ROW_LINGER_MS);
  }

  fail(message) {
    this.element.classList.add('is-failed');
    this.stateEl.setAttribute('role', 'alert');
    this.showState(message);
    this.button.textContent = 'Dismiss';
    this.button.disabled = false;
    this.button.setAttribute('aria-label', `Dismiss ${this.fileName}`);
    this.button.addEventListener('click', () => this.remove(), { once: true });
  }

  remove() {
    this.element.remove();
  }
}

class TransferError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/** PUT through XHR, because fetch() cannot report upload progress. Resolves to the ETag. */
function putBlob(url, body, headers, onProgress, signal) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    const abort = () => xhr.abort();
    xhr.open('PUT', url);
    for (const [name, value] of Object.entries(headers)) {
      if (!HEADERS_THE_BROWSER_SETS.has(name.toLowerCase())) xhr.setRequestHeader(name, value);
    }
    xhr.upload.addEventListener('progress', (event) => onProgress(event.loaded));
    xhr.addEventListener('loadend', () => signal.removeEventListener('abort', abort));
    xhr.addEventListener('load', () => {
      if (xhr.status < 200 || xhr.status >= 300) {
        reject(new TransferError(xhr.status, `storage answered ${xhr.status}`));
      } else if (xhr.getResponseHeader('ETag') === null) {
        reject(new TransferError(xhr.status, 'storage did not expose the ETag header (check the bucket CORS rules)'));
      } else {
        resolve(xhr.getResponseHeader('ETag'));
      }
    });
    xhr.addEventListener('error', () => reject(new TransferError(0, 'the network connection to storage failed')));
    xhr.addEventListener('abort', () => reject(signal.reason));
    signal.addEventListener('abort', abort, { once: true });
    xhr.send(body);
  });
}

/**
 * What a failed upload's row says. The API refuses a new video before anything is sent when
 * it would take the user past a quota, or when they start too many at once: its message has
 * the numbers.
 */
function failureText(error) {
  switch (error.code) {
    case 'quota_exceeded':
      return `Not uploaded, over your quota: ${error.message}.`;
    case 'rate_limited': {
      const wait = error.retryAfter && !error.message.includes(`${error.retryAfter} s`) ? ` (try again in ${error.retryAfter} s)` : '';
      return `Not uploaded yet: ${error.message}${wait}. Pick the file again then.`;
    }
    default:
      return `Upload failed: ${error.message}`;
  }
}

function isRetryable(error) {
  return error.status === 0 || error.status >= 500;
}

/** 1 s, 2 s, 4 s … up to 30 s, with jitter so parallel parts do not retry in lockstep. */
function backoffMs(attempt) {
  return Math.min(30000, 1000 * 2 ** (attempt - 1)) * (0.5 + Math.random() / 2);
}

function sleep(ms, signal) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(signal.reason);
    }, { once: true });
  });
}

function fileKey(file) {
  return JSON.stringify([file.name, file.size, file.lastModified]);
}

function readResumable() {
  try {
    return JSON.parse(localStorage.getItem(RESUME_KEY)) ?? {};
  } catch {
    return {};
  }
}

function rememberResumable(key, entry) {
  localStorage.setItem(RESUME_KEY, JSON.stringify({ ...readResumable(), [key]: entry }));
}

function forgetResumable(key) {
  const entries = readResumable();
  delete entries[key];
  localStorage.setItem(RESUME_KEY, JSON.stringify(entries));
}
