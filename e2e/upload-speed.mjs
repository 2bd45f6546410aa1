// `cargo xtask bench upload` runs this (it is no test): the web app in Debian's Chromium uploads
// one file, picked in its file input as a person would, and this prints how long that took as
// one JSON line: from the request that creates the video to the answer that completes its
// upload (the page's own Resource Timing), with the parts and how many were in flight at once.
// The video is deleted afterwards.
//
// Chromium runs as a person's browser does, as far as the bench can tell. It is driven over a
// bare DevTools pipe that only evaluates script and sets the file: Playwright's network
// instrumentation costs the browser about as much CPU as the upload itself (it follows every
// request), which no person's browser pays and which, on a small machine, the storage server
// beside it would miss. And run by root, Chromium raises its own threads' priority (nice -8),
// which a user's browser cannot: here it may not either (setpriv drops CAP_SYS_NICE), so the
// browser, SeaweedFS and `aws s3 cp` share the CPU on the same terms.
//
//   EDGEVID_BASE_URL=… DEV_ADMIN_EMAIL=… DEV_ADMIN_PASSWORD=… node e2e/upload-speed.mjs <file>

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { ADMIN, BASE_URL, CHROMIUM_ARGS } from './support.mjs';

const file = process.argv[2];
if (!file) {
  console.error('usage: node e2e/upload-speed.mjs <file>');
  process.exit(2);
}
const bytes = statSync(file).size;
const profile = mkdtempSync(join(tmpdir(), 'edgevid-upload-speed-'));
const browserCommand = [
  process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  ...CHROMIUM_ARGS,
  '--remote-debugging-pipe',
  `--user-data-dir=${profile}`,
  'about:blank',
];
if (process.getuid?.() === 0) browserCommand.unshift('setpriv', '--bounding-set', '-sys_nice', '--inh-caps', '-sys_nice');
const chromium = spawn(browserCommand[0], browserCommand.slice(1), { stdio: ['ignore', 'ignore', 'ignore', 'pipe', 'pipe'] });
const devtools = pipe(chromium);
try {
  const { targetId } = await devtools.send('Target.createTarget', { url: `${BASE_URL}/` });
  const { sessionId } = await devtools.send('Target.attachToTarget', { targetId, flatten: true });
  const evaluate = async (expression) => {
    const { result, exceptionDetails } = await devtools.send(
      'Runtime.evaluate',
      { expression, awaitPromise: true, returnByValue: true },
      sessionId,
    );
    if (exceptionDetails) throw new Error(exceptionDetails.exception?.description ?? exceptionDetails.text);
    return result.value;
  };
  // In the page: resolves once `test()` holds, checked on every change of the document.
  const when = (test, timeoutMs) => `new Promise((resolve, reject) => {
    const check = () => { const value = (${test})(); if (value) { observer.disconnect(); resolve(value); } };
    const observer = new MutationObserver(check);
    setTimeout(() => { observer.disconnect(); reject(new Error('timed out: ' + ${JSON.stringify(test)})); }, ${timeoutMs});
    if (document.readyState === 'loading') addEventListener('DOMContentLoaded', check); else check();
    addEventListener('load', check);
    observer.observe(document, { subtree: true, childList: true, attributes: true, characterData: true });
  })`;

  // The tab may still be on its first blank document: ask again until the app shows.
  for (let tries = 0; ; tries += 1) {
    const shown = await evaluate(`!(document.getElementById('sign-in-view')?.hidden ?? true)`).catch(() => false);
    if (shown) break;
    if (tries === 300) throw new Error('the sign-in form did not show');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await evaluate(`performance.setResourceTimingBufferSize(100000); (() => {
    const form = document.getElementById('sign-in-form');
    form.elements.email.value = ${JSON.stringify(ADMIN.email)};
    form.elements.password.value = ${JSON.stringify(ADMIN.password)};
    form.requestSubmit();
  })()`);
  await evaluate(when(`() => !document.getElementById('app-view').hidden`, 30_000));

  const { root } = await devtools.send('DOM.getDocument', {}, sessionId);
  const { nodeId } = await devtools.send('DOM.querySelector', { nodeId: root.nodeId, selector: '#file-input' }, sessionId);
  await devtools.send('DOM.setFileInputFiles', { nodeId, files: [file] }, sessionId);
  const outcome = await evaluate(
    when(`() => {
      const uploads = document.getElementById('uploads');
      const failed = uploads.querySelector('[role="alert"]');
      if (failed) return 'failed: ' + failed.textContent;
      return uploads.textContent.includes('Uploaded. Converting now') && 'done';
    }`, 15 * 60_000),
  );
  if (outcome !== 'done') throw new Error(outcome);

  const measured = await evaluate(`(() => {
    const entries = performance.getEntriesByType('resource').map((entry) => ({ url: new URL(entry.name), entry }));
    const create = entries.find(({ url, entry }) => url.pathname === '/api/videos' && !url.search && entry.initiatorType === 'fetch');
    const complete = entries.find(({ url }) => url.pathname.endsWith('/complete'));
    const parts = entries.filter(({ url }) => url.searchParams.has('partNumber')).map(({ entry }) => entry);
    // The most part PUTs started and not finished at one moment (queued in the browser too).
    const edges = parts.flatMap((part) => [[part.startTime, 1], [part.responseEnd, -1]]).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    let inFlight = 0;
    let most = 0;
    for (const [, change] of edges) {
      inFlight += change;
      most = Math.max(most, inFlight);
    }
    return {
      ms: complete.entry.responseEnd - create.entry.startTime,
      // Waiting on the API: before the first part (create, sign) and after the last (complete).
      beforeMs: Math.min(...parts.map((part) => part.startTime)) - create.entry.startTime,
      afterMs: complete.entry.responseEnd - Math.max(...parts.map((part) => part.responseEnd)),
      parts: new Set(parts.map((part) => new URL(part.name).searchParams.get('partNumber'))).size,
      most,
    };
  })()`);
  const seconds = measured.ms / 1000;
  console.log(JSON.stringify({
    file: basename(file),
    bytes,
    seconds,
    mib_per_s: bytes / 1024 / 1024 / seconds,
    parts: measured.parts,
    most_in_flight: measured.most,
    api_before_parts_s: measured.beforeMs / 1000,
    api_after_parts_s: measured.afterMs / 1000,
  }));
  await deleteVideosNamed(basename(file));
} finally {
  // Closed through the protocol, Chromium stops its helper processes before it exits.
  const exited = new Promise((resolve) => (chromium.exitCode === null ? chromium.once('exit', resolve) : resolve()));
  await Promise.race([devtools.send('Browser.close').catch(() => {}), new Promise((resolve) => setTimeout(resolve, 5000))]);
  const timer = setTimeout(() => chromium.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
  devtools.close();
  rmSync(profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
}

/** The DevTools protocol over Chromium's pipe (fd 3 in, fd 4 out; messages end with NUL). */
function pipe(child) {
  const [, , , input, output] = child.stdio;
  const pending = new Map();
  let nextId = 1;
  let buffered = '';
  output.on('data', (chunk) => {
    buffered += chunk.toString();
    let end;
    while ((end = buffered.indexOf('\0')) !== -1) {
      const message = JSON.parse(buffered.slice(0, end));
      buffered = buffered.slice(end + 1);
      const waiter = pending.get(message.id);
      if (!waiter) continue;
      pending.delete(message.id);
      if (message.error) waiter.reject(new Error(`${waiter.method}: ${message.error.message}`));
      else waiter.resolve(message.result);
    }
  });
  child.once('exit', (code) => {
    for (const waiter of pending.values()) waiter.reject(new Error(`Chromium exited (${code})`));
  });
  return {
    send(method, params = {}, sessionId) {
      const id = nextId++;
      return new Promise((resolve, reject) => {
        pending.set(id, { method, resolve, reject });
        input.write(`${JSON.stringify({ id, method, params, sessionId })}\0`);
      });
    },
    close() {
      input.end();
    },
  };
}

/** Removes the uploaded video (every object of it) through the API. */
async function deleteVideosNamed(fileName) {
  const call = async (method, path, { token, body } = {}) => {
    const response = await fetch(`${BASE_URL}${path}`, {
      method,
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: body && JSON.stringify(body),
    });
    return response.json();
  };
  const { token } = await call('POST', '/api/auth', { body: { ...ADMIN, refreshDelivery: 'body' } });
  const { videos } = await call('GET', '/api/videos?limit=100', { token });
  for (const video of videos.filter((v) => v.fileName === fileName)) {
    await call('DELETE', `/api/videos/${video.id}`, { token });
  }
}
