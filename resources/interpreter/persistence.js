// Checkpoints and submit. Checkpoints are fire-and-forget: `add(row)` returns at once, a single
// sender posts queued rows in order and retries failures with exponential backoff, so a slow or
// absent server never delays the next trial.
//
// Rows not yet acknowledged are kept in memory. No plaintext trial, payload or participant id
// is ever written to the browser's storage: when the server handed the page a sealing key
// (`runs/start` -> `seal_public_key`, the install's public key), a *sealed* copy is kept in
// localStorage as well, so a page that dies while the server is unreachable loses nothing.
// It is sealed exactly as the server seals results (see sealing.js): readable only with the
// install private key, i.e. by a signed-in researcher, like every other result. The next page
// hands it over (`recoverPending` -> `results/recover`), still sealed.
//
// Storage faults (a full disk: 507; a database another program holds, or a damaged one: 503
// with Retry-After) pause recording instead of failing it: the rows stay queued (and sealed
// locally), the queue asks again once per Retry-After instead of spinning, and the state is
// published for the experimenter, never shown to the participant (`window.cogflowRecording`,
// `#cogflow-root[data-cogflow-recording]`; the desktop app shows it in its status bar).
//
// Submit retries while the server is unreachable or busy; an answer that will not change
// (the same 4xx, or the same 5xx for `giveUpAfterMs`) stops it: the result stays sealed
// locally and the page says so (`submitWithRetry` -> `{gaveUp: true}`).

import { ApiError, backoffMs, postJson, sleep } from './api.js';
import { SealedStore, sealingAvailable, wellFormed } from './sealing.js';

const LEGACY_PREFIX = 'cogflow.pending.'; // plaintext copies written by earlier versions
const SEALED_PREFIX = 'cogflow.sealed.';

// Longest wait between two attempts while recording is paused, whatever Retry-After says.
const MAX_PAUSE_MS = 60000;

// A failure that means "recording is paused, ask again later", or null.
export function storagePause(err) {
  if (!(err instanceof ApiError)) return null;
  const storageFault = err.status === 507 || (err.status === 503 && err.retryAfter !== null);
  if (!storageFault) return null;
  const detail = err.body && typeof err.body.detail === 'string' ? err.body.detail : String(err.message);
  const seconds = err.retryAfter ?? 30;
  return {
    reason: err.status === 507 ? 'disk_full' : 'storage_unavailable',
    detail,
    waitMs: Math.min(MAX_PAUSE_MS, Math.max(1000, seconds * 1000)),
  };
}

// For the experimenter's side only (the kiosk shell polls it); the participant sees nothing.
function reportRecording(info) {
  globalThis.cogflowRecording = info;
  const root = globalThis.document && typeof globalThis.document.getElementById === 'function'
    ? globalThis.document.getElementById('cogflow-root') : null;
  if (root) root.dataset.cogflowRecording = info.state;
}

function storage() {
  try { return globalThis.localStorage ?? null; } catch { return null; }
}

export class CheckpointQueue {
  constructor(runSessionId, payloadMeta, { maxBatch = 50, onState, post = postJson, wait = sleep, backoff = backoffMs, sealTo = null } = {}) {
    this.runSessionId = runSessionId;
    this.payloadMeta = payloadMeta; // () => small result_payload for partial results
    this.pending = [];
    this.sentCount = 0;
    this.checkpointIndex = 0;
    this.maxBatch = maxBatch;
    this.sending = false;
    this.stopped = false;
    this.failures = 0;
    this.onState = onState || (() => {});
    this.post = post;
    this.wait = wait;
    this.backoff = backoff;
    this.pausedSince = null; // Date.now() when a storage fault paused recording
    // The sealed local copy; null where the page got no key (e.g. a central server) or the
    // browser has no WebCrypto X25519: then the buffer is in memory only.
    this.sealed = sealTo && sealingAvailable() && storage()
      ? new SealedStore(storage(), SEALED_PREFIX + runSessionId, runSessionId, sealTo)
      : null;
  }

  add(row, totalRows) {
    if (this.stopped || !this.runSessionId) return;
    const clean = wellFormed(row);
    this.pending.push(clean);
    this.totalRows = totalRows;
    if (this.sealed) this.sealed.putTrial(clean, totalRows).catch((err) => console.warn('CogFlow: sealed copy failed', err));
    this.pump();
  }

  body(batch) {
    return {
      run_session_id: this.runSessionId,
      checkpoint_label: `trial-${batch[batch.length - 1].trial_index}`,
      checkpoint_index: this.checkpointIndex,
      trial_count: this.totalRows,
      result_payload: wellFormed(this.payloadMeta()),
      trials: batch,
    };
  }

  async pump() {
    if (this.sending) return;
    this.sending = true;
    try {
      while (this.pending.length && !this.stopped) {
        const batch = this.pending.slice(0, this.maxBatch);
        try {
          const { data } = await this.post('results/checkpoint', this.body(batch));
          this.pending.splice(0, batch.length);
          this.checkpointIndex += 1;
          this.sentCount += batch.length;
          this.failures = 0;
          if (this.sealed) await this.sealed.dropTrials(batch.map((r) => r.trial_index));
          if (this.pausedSince !== null) {
            this.pausedSince = null;
            reportRecording({ state: 'recording', resumed: true, pending: this.pending.length });
          }
          this.onState({ ok: true, pending: this.pending.length });
          if (data && data.stored === false) this.stop({ clear: true }); // run already terminal
        } catch (err) {
          const pause = storagePause(err);
          if (pause) {
            // Not a failure to back off from: the server said why and when to ask again.
            if (this.pausedSince === null) this.pausedSince = Date.now();
            const info = { state: 'paused', reason: pause.reason, detail: pause.detail, pending: this.pending.length, since: this.pausedSince };
            reportRecording(info);
            this.onState({ ok: false, paused: true, ...info });
            await this.wait(pause.waitMs);
            continue;
          }
          this.failures += 1;
          this.onState({ ok: false, pending: this.pending.length, error: String(err) });
          if (err instanceof ApiError && err.status === 404) { this.stop({ clear: true }); break; }
          await this.wait(this.backoff(this.failures - 1));
        }
      }
    } finally {
      this.sending = false;
    }
  }

  // Page going away: one last best-effort post that outlives the page.
  flushOnUnload() {
    if (this.stopped || !this.pending.length) return;
    const batch = this.pending.slice(0, this.maxBatch);
    this.post('results/checkpoint', this.body(batch), { keepalive: true }).catch(() => {});
  }

  // The final payload (without its trials), kept sealed while the submit is under way: a page
  // that dies before the server answers leaves the whole result for the next one.
  async keepPayload(payload) {
    if (!this.sealed) return false;
    await this.sealed.putPayload(wellFormed(payload));
    return true;
  }

  // The submit was given up: keep every row sealed here for the next page to hand over.
  // totalRows: the run's trial count (more than allRows on a page that continued a run).
  async keepSealed(allRows, payload, totalRows = allRows.length) {
    if (!this.sealed) return false;
    for (const row of allRows) await this.sealed.putTrial(wellFormed(row), totalRows);
    await this.sealed.putPayload(wellFormed(payload));
    return true;
  }

  // Stops sending. The local copy is dropped only with `clear` (final submit acknowledged, or
  // the server said the run is over), so rows survive a submit that never got through.
  stop({ clear = false } = {}) {
    this.stopped = true;
    if (clear) {
      this.pending = [];
      if (this.sealed) this.sealed.clear();
    }
  }
}

// What earlier pages left: sealed buffers go to `results/recover` still sealed; plaintext
// copies from versions before sealing are posted as checkpoints and deleted. An entry is kept
// while the server cannot be reached, and dropped once it is stored or can never be (the run
// is unknown, or already has its final result).
export async function recoverPending({ post = postJson } = {}) {
  const s = storage();
  if (!s) return [];
  const keys = [];
  for (let i = 0; i < s.length; i++) {
    const key = s.key(i);
    if (key.startsWith(SEALED_PREFIX) || key.startsWith(LEGACY_PREFIX)) keys.push(key);
  }
  const done = [];
  for (const key of keys) {
    let saved;
    try { saved = JSON.parse(s.getItem(key)); } catch { s.removeItem(key); continue; }
    if (!saved || typeof saved !== 'object') { s.removeItem(key); continue; }
    try {
      if (key.startsWith(SEALED_PREFIX)) {
        const body = SealedStore.recoverBody(saved);
        if (!body) { s.removeItem(key); continue; }
        await post('results/recover', body);
      } else {
        if (!Array.isArray(saved.trials) || !saved.trials.length) { s.removeItem(key); continue; }
        await post('results/checkpoint', {
          run_session_id: saved.run_session_id, checkpoint_label: 'recovered-after-reload',
          checkpoint_index: 0, trial_count: saved.trial_count ?? saved.trials.length,
          result_payload: { format: 'cogflow-result-v1', recovered: true }, trials: wellFormed(saved.trials),
        });
      }
      s.removeItem(key);
      done.push(saved.run_session_id);
    } catch (err) {
      if (err instanceof ApiError && [400, 404, 409, 413, 415].includes(err.status)) s.removeItem(key);
    }
  }
  return done;
}

// Is this failure an answer that will not change by asking again? Connection failures, 408
// and 429 will (the server comes back, the throttle lifts); other 4xx will not; a 5xx is
// judged by how long it has stayed the same.
function permanentClientError(err) {
  return err instanceof ApiError && err.status >= 400 && err.status < 500 && err.status !== 408 && err.status !== 429;
}

// Submit the whole result; resolves once acknowledged (201), with a conflict (409), or given
// up ({gaveUp: true}) after the same 4xx `maxClientErrors` times or the same 5xx for
// `giveUpAfterMs`. Until then it retries with backoff; connection failures never give up.
export async function submitWithRetry(body, { onRetry, post = postJson, wait = sleep, now = () => Date.now(), maxClientErrors = 3, giveUpAfterMs = 120000 } = {}) {
  const clean = wellFormed(body); // the same bytes every attempt: a retry is recognised as one
  let sameSince = null;
  let lastStatus = null;
  let clientErrors = 0;
  let paused = false; // the last answer was a storage fault (see storagePause)
  for (let attempt = 0; ; attempt++) {
    try {
      const { status, data } = await post('results/submit', clean);
      if (paused) reportRecording({ state: 'recording', resumed: true, pending: 0 });
      return { ok: true, status, data };
    } catch (err) {
      if (err instanceof ApiError && err.status === 409) return { ok: false, conflict: true, error: err };
      const status = err instanceof ApiError ? err.status : null;
      if (status !== lastStatus) { lastStatus = status; sameSince = now(); clientErrors = 0; }
      if (permanentClientError(err)) {
        clientErrors += 1;
        if (clientErrors >= maxClientErrors) return { ok: false, gaveUp: true, error: err };
      } else if (status !== null && status >= 500 && now() - sameSince >= giveUpAfterMs) {
        return { ok: false, gaveUp: true, error: err };
      }
      if (onRetry) onRetry(err, attempt);
      const pause = storagePause(err);
      paused = Boolean(pause);
      if (pause) reportRecording({ state: 'paused', reason: pause.reason, detail: pause.detail, pending: 0, since: sameSince });
      await wait(pause ? pause.waitMs : backoffMs(attempt, 1000, 30000));
    }
  }
}
