// Entry point: /interpreter/?study=<slug>&participant=<id>, or ?preview=1 (see README.md).
//
// Before a participant sees anything the config is validated against the schema and checked
// for parts this Interpreter does not honour (support.js). The page reads the study's config
// first (GET studies/<slug>/latest-config), so a refused or invalid study starts no run; where
// that read is not allowed (the central server wants a login), the run is started, and a
// refused config ends it at once as "failed" with the reasons in result_payload.refusal.
// ?allow_unsupported=1 runs a refused config anyway, only in a researcher preview
// (?preview=1, nothing is stored), with the unsupported parts named on a banner.

import { startRun, ApiError, postJson } from './api.js';
import { validateConfig } from './validate.js';
import { recoverPending, submitWithRetry } from './persistence.js';
import { Run, INTERPRETER_VERSION } from './runtime.js';
import { findUnsupported } from './support.js';
import { compileConfig, effectiveConfig } from './compiler.js';
import { planResume } from './resume.js';
import { findMissingMedia, showMissingMedia } from './cip-media.js';
import { eyeTrackingPreflight } from './eye-tracking.js';
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

// The study's latest config without starting a run, or null where the server does not allow it.
async function peekConfig(slug) {
  try {
    const res = await fetch(`../api/v1/studies/${encodeURIComponent(slug)}/latest-config`, { credentials: 'same-origin', headers: { Accept: 'application/json' } });
    if (!res.ok) return null;
    const data = await res.json();
    return data && data.config && typeof data.config === 'object' ? data : null;
  } catch {
    return null;
  }
}

function applyTheme(config) {
  const theme = config && config.ui_settings && String(config.ui_settings.theme ?? '').toLowerCase();
  document.documentElement.dataset.theme = theme === 'light' ? 'light' : 'dark';
}

// reason: 'unsupported' (parts this version does not honour) or 'no_camera' (eye tracking on a
// computer without a camera).
function refuse(messages, where, reason = 'unsupported') {
  window.cogflowRefusal = { messages: messages.slice(), reason };
  if (reason === 'no_camera') ui.showMessage(root, { kind: 'error', title: 'This study cannot run on this computer', body: messages[0] });
  else ui.showRefusal(root, messages, where);
  root.dataset.cogflowState = 'unsupported';
}

// Refused after runs/start (the server did not let the page read the config first): the run
// is ended at once as failed, with the reasons on the record.
async function refuseStarted(start, reason, messages, where) {
  refuse(messages, where, reason);
  if (!start) return;
  await endRefusedRun(start, reason, messages);
  window.cogflowRefusal.run_ended = 'failed';
}

// A run that was started for a config this Interpreter then refused ends at once as failed,
// with the reasons on the record; it never counts as a completed run.
async function endRefusedRun(start, reason, messages) {
  const payload = {
    format: 'cogflow-result-v1', interpreter_version: INTERPRETER_VERSION, status: 'failed',
    study_slug: start.study_slug ?? null, config_version_id: start.config_version_id ?? null,
    config_version_label: start.config_version_label ?? null, trial_count: 0,
    refusal: { reason, messages }, finished_at: new Date().toISOString(), trials: [],
  };
  await submitWithRetry({
    run_session_id: start.run_session_id, status: 'failed', trial_count: 0,
    result_summary: { refused: true, reason }, result_payload: payload, trials: [],
  }, { onRetry: () => {} });
}

const label = (start, slug) => (start ? `${start.study_slug} (${start.config_version_label ?? start.config_version_id})` : slug ?? 'the preview');

async function main() {
  root.dataset.cogflowState = 'loading';
  ui.showMessage(root, { title: 'Loading…' });
  const preview = params.get('preview') === '1';
  const allowUnsupported = preview && params.get('allow_unsupported') === '1';
  const schema = await loadSchema();
  let config;
  let start = null;
  const slug = params.get('study');
  if (params.get('recover') === '1' && params.get('resume')) {
    await resumeRun(schema, params.get('resume'), params.get('grant') ?? '');
    return;
  }
  if (params.get('recover') === '1') {
    // The desktop app's kiosk after its page crashed: hand over what the dead page kept
    // sealed, then say so (state `recovered`, `window.cogflowRecovered` = the runs handed over).
    ui.showMessage(root, { title: 'One moment…' });
    window.cogflowRecovered = await recoverPending().catch(() => []);
    root.dataset.cogflowState = 'recovered';
    return;
  }
  if (preview) {
    config = previewConfigFromStorage() ?? await previewConfigFromMessage();
  } else {
    if (!slug) {
      ui.showMessage(root, { kind: 'error', title: 'No study given', body: 'Open this page as /interpreter/?study=<slug>&participant=<id>, or with ?preview=1.' });
      root.dataset.cogflowState = 'error';
      return;
    }
    const peek = await peekConfig(slug);
    if (peek) {
      applyTheme(peek.config);
      const where = `${slug} (${peek.config_version_label ?? peek.config_version_id ?? 'latest'})`;
      const pre = validateConfig(peek.config, schema);
      if (!pre.valid) { ui.showInvalidConfig(root, pre.errors, where); root.dataset.cogflowState = 'invalid-config'; return; }
      const refused = findUnsupported(peek.config);
      if (refused.length) { refuse(refused.map((u) => u.message), where); return; }
      const missing = await findMissingMedia(peek.config);
      if (missing.length) { showMissingMedia(root, missing, where); root.dataset.cogflowState = 'invalid-config'; return; }
      const noCamera = await eyeTrackingPreflight(peek.config);
      if (noCamera) { refuse([noCamera], where, 'no_camera'); return; }
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
  applyTheme(config);
  const check = validateConfig(config, schema);
  if (!check.valid) {
    ui.showInvalidConfig(root, check.errors, label(start, slug));
    root.dataset.cogflowState = 'invalid-config';
    if (start) endRefusedRun(start, 'invalid-config', check.errors.map((e) => `${e.path}: ${e.message}`)).catch(() => {});
    return;
  }
  for (const w of check.warnings) console.warn('CogFlow config:', w.path, w.message);
  const refused = findUnsupported(config);
  if (refused.length && !allowUnsupported) {
    await refuseStarted(start, 'unsupported', refused.map((u) => u.message), label(start, slug));
    return;
  }
  // Continuous-image blocks: every image loads, or no trial is shown (the screen names them).
  const missing = await findMissingMedia(config);
  if (missing.length) {
    showMissingMedia(root, missing, label(start, slug));
    root.dataset.cogflowState = 'invalid-config';
    if (start) endRefusedRun(start, 'missing-media', missing.map((m) => `${m.path}: ${m.message}`)).catch(() => {});
    return;
  }
  const noCamera = await eyeTrackingPreflight(config); // eye tracking without a camera: refuse
  if (noCamera) { await refuseStarted(start, 'no_camera', [noCamera], label(start, slug)); return; }
  run = new Run({ config: effectiveConfig(config), root, start, preview, unsupported: refused.map((u) => u.message) });
  window.cogflowRun = run; // for the desktop shell and tests: read-only inspection
  if (refused.length) ui.showUnsupportedBanner(refused.map((u) => u.message));
  root.dataset.cogflowState = 'running';
  await run.begin();
}

// The kiosk continues a run whose page died (?recover=1&resume=<run>&grant=<one-time>): hand
// over what the dead page kept sealed, read where the run stood from the app (resume.js), and
// go on with the same run from its next trial. Any misfit ends in state `resume-failed` with
// one sentence, before anything is recorded; the kiosk then ends the run as failed.
async function resumeRun(schema, runId, grant) {
  ui.showMessage(root, { title: 'One moment…' });
  window.cogflowRecovered = await recoverPending().catch(() => []);
  let plan;
  let config;
  try {
    let answer;
    try {
      ({ data: answer } = await postJson('runs/resume-snapshot/read', { run_session_id: runId, grant }));
    } catch (err) {
      const said = err instanceof ApiError && err.body ? err.body.error || err.body.detail : null;
      throw new Error(said ? `This run cannot be continued: ${said}` : 'This run cannot be continued: the app did not hand back where it stood.');
    }
    const snapshot = answer.snapshot;
    const peek = snapshot && snapshot.study_slug ? await peekConfig(snapshot.study_slug) : null;
    if (!peek) throw new Error('This run cannot be continued: its study\'s config could not be read.');
    config = effectiveConfig(peek.config);
    const check = validateConfig(config, schema);
    if (!check.valid) throw new Error('This run cannot be continued: its study\'s config is not valid.');
    const specCount = compileConfig(config, { runSeed: snapshot.run_seed }).trials.length;
    plan = planResume(snapshot, { runSessionId: runId, specCount, storedTrials: answer.stored_trials, configVersionId: peek.config_version_id });
  } catch (err) {
    ui.showMessage(root, { kind: 'error', title: 'The run could not be continued', body: String(err.message || err) });
    window.cogflowResumed = { ok: false, error: String(err.message || err) };
    root.dataset.cogflowState = 'resume-failed';
    return;
  }
  const interruption = {
    reason: 'page_crashed', renderer_status: params.get('crash') || null,
    at_trial: plan.firstTrialIndex, resumed_at_trial: plan.firstTrialIndex,
    trials_lost: plan.lostTrials, resumed_at: new Date().toISOString(),
  };
  plan.interruptions = [...plan.interruptions, interruption];
  applyTheme(config);
  run = new Run({ config, root, start: plan.start, resume: plan });
  window.cogflowRun = run;
  window.cogflowResumed = { ok: true, run_session_id: runId, from_trial_index: plan.firstTrialIndex, spec_index: plan.specIndex };
  root.dataset.cogflowState = 'running';
  await run.begin();
}

main().catch((err) => {
  console.error(err);
  ui.showMessage(root, { kind: 'error', title: 'The Interpreter stopped with an error', body: String(err && err.message ? err.message : err) });
  root.dataset.cogflowState = 'error';
});
