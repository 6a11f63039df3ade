// Entry point: /interpreter/?study=<slug>&participant=<id>, or ?preview=1 (see README.md).

import { startRun, ApiError } from './api.js';
import { validateConfig } from './validate.js';
import { recoverPending } from './persistence.js';
import { Run } from './runtime.js';
import { findMissingMedia, showMissingMedia } from './cip-media.js';
import * as ui from './ui.js';

const PREVIEW_KEY = 'cogflow.preview.config';
const root = document.getElementById('cogflow-root');
const params = new URLSearchParams(location.search);
let run = null;

// The desktop app calls this to stop a run; it submits status "failed" with what was collected.
window.cogflowAbort = (reason = 'experimenter_abort') => (run ? run.abort(reason) : false);
window.addEventListener('keydown', (e) => {
  if (e.ctrlKey && e.shiftKey && (e.key === 'Q' || e.key === 'q' || e.code === 'KeyQ')) {
    e.preventDefault();
    window.cogflowAbort('experimenter_abort_key');
  }
}, true);

function previewConfigFromStorage() {
  for (const store of [sessionStorage, localStorage]) {
    try {
      const raw = store.getItem(PREVIEW_KEY);
      if (raw) return JSON.parse(raw);
    } catch { /* storage blocked or bad JSON: try the next source */ }
  }
  return null;
}

function previewConfigFromMessage() {
  return new Promise((resolve) => {
    window.addEventListener('message', function on(e) {
      if (e.origin !== location.origin || !e.data || e.data.type !== 'cogflow:preview-config') return;
      window.removeEventListener('message', on);
      resolve(e.data.config);
    });
    for (const w of [window.parent, window.opener]) if (w && w !== window) w.postMessage({ type: 'cogflow:preview-ready' }, location.origin);
  });
}

async function loadSchema() {
  const res = await fetch('../schema/cogflow-config.schema.json', { credentials: 'same-origin' });
  if (!res.ok) throw new Error(`schema: HTTP ${res.status}`);
  return res.json();
}

async function main() {
  root.dataset.cogflowState = 'loading';
  ui.showMessage(root, { title: 'Loading…' });
  const preview = params.get('preview') === '1';
  const schema = await loadSchema();
  let config;
  let start = null;
  if (preview) {
    config = previewConfigFromStorage() ?? await previewConfigFromMessage();
  } else {
    const slug = params.get('study');
    if (!slug) {
      ui.showMessage(root, { kind: 'error', title: 'No study given', body: 'Open this page as /interpreter/?study=<slug>&participant=<id>, or with ?preview=1.' });
      root.dataset.cogflowState = 'error';
      return;
    }
    // Hand over rows an earlier page could not deliver (best effort, never blocks the start).
    recoverPending().catch(() => {});
    try {
      ({ data: start } = await startRun(slug, params.get('participant')));
    } catch (err) {
      const unknown = err instanceof ApiError && err.status === 404;
      ui.showMessage(root, { kind: 'error', title: unknown ? `Unknown study "${slug}"` : 'Could not start the run', body: unknown ? 'No published study has this name. Check the link.' : String(err.message || err) });
      root.dataset.cogflowState = 'error';
      return;
    }
    config = start.config;
  }
  const check = validateConfig(config, schema);
  if (!check.valid) {
    ui.showInvalidConfig(root, check.errors, start ? `${start.study_slug} (${start.config_version_label ?? start.config_version_id})` : 'the preview');
    root.dataset.cogflowState = 'invalid-config';
    return;
  }
  for (const w of check.warnings) console.warn('CogFlow config:', w.path, w.message);
  const missing = await findMissingMedia(config); // continuous-image blocks: every image loads, or no trial is shown
  if (missing.length) {
    showMissingMedia(root, missing, start ? `${start.study_slug} (${start.config_version_label ?? start.config_version_id})` : 'the preview');
    root.dataset.cogflowState = 'invalid-config';
    return;
  }
  run = new Run({ config, root, start, preview });
  window.cogflowRun = run; // for the desktop shell and tests: read-only inspection
  root.dataset.cogflowState = 'running';
  await run.begin();
}

main().catch((err) => {
  console.error(err);
  ui.showMessage(root, { kind: 'error', title: 'The Interpreter stopped with an error', body: String(err && err.message ? err.message : err) });
  root.dataset.cogflowState = 'error';
});
