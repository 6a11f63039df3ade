// Checkpoints and submit. Checkpoints are fire-and-forget: `add(row)` returns at once, a single
// sender posts queued rows in order and retries failures with exponential backoff, so a slow or
// absent server never delays the next trial. Rows not yet acknowledged are also kept in
// localStorage, so a page that dies while the server is unreachable can hand them over on the
// next start (`recoverPending`). Submit retries until the server acknowledges.

import { ApiError, backoffMs, postJson, sleep } from './api.js';

const PENDING_PREFIX = 'cogflow.pending.';

function storage() {
  try { return globalThis.localStorage ?? null; } catch { return null; }
}

export class CheckpointQueue {
  constructor(runSessionId, payloadMeta, { maxBatch = 50, onState, post = postJson, wait = sleep, backoff = backoffMs } = {}) {
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
    this.key = PENDING_PREFIX + runSessionId;
  }

  add(row, totalRows) {
    if (this.stopped || !this.runSessionId) return;
    this.pending.push(row);
    this.totalRows = totalRows;
    this.persist();
    this.pump();
  }

  persist() {
    const s = storage();
    if (!s) return;
    try {
      if (this.pending.length) s.setItem(this.key, JSON.stringify({ run_session_id: this.runSessionId, trial_count: this.totalRows, trials: this.pending }));
      else s.removeItem(this.key);
    } catch { /* quota or privacy mode: the in-memory queue still works */ }
  }

  body(batch) {
    return {
      run_session_id: this.runSessionId,
      checkpoint_label: `trial-${batch[batch.length - 1].trial_index}`,
      checkpoint_index: this.checkpointIndex,
      trial_count: this.totalRows,
      result_payload: this.payloadMeta(),
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
          this.persist();
          this.onState({ ok: true, pending: this.pending.length });
          if (data && data.stored === false) this.stop({ clear: true }); // run already terminal
        } catch (err) {
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

  // Stops sending. The local copy is dropped only with `clear` (final submit acknowledged, or
  // the server said the run is over), so rows survive a submit that never got through.
  stop({ clear = false } = {}) {
    this.stopped = true;
    if (clear) {
      this.pending = [];
      this.persist();
    }
  }
}

// Rows a previous page left unacknowledged: post each run's rows once; keep them on failure.
export async function recoverPending({ post = postJson } = {}) {
  const s = storage();
  if (!s) return [];
  const keys = [];
  for (let i = 0; i < s.length; i++) if (s.key(i).startsWith(PENDING_PREFIX)) keys.push(s.key(i));
  const done = [];
  for (const key of keys) {
    let saved;
    try { saved = JSON.parse(s.getItem(key)); } catch { s.removeItem(key); continue; }
    if (!saved || !Array.isArray(saved.trials) || !saved.trials.length) { s.removeItem(key); continue; }
    try {
      await post('results/checkpoint', {
        run_session_id: saved.run_session_id, checkpoint_label: 'recovered-after-reload',
        checkpoint_index: 0, trial_count: saved.trial_count ?? saved.trials.length,
        result_payload: { format: 'cogflow-result-v1', recovered: true }, trials: saved.trials,
      });
      s.removeItem(key);
      done.push(saved.run_session_id);
    } catch (err) {
      if (err instanceof ApiError && err.status >= 400 && err.status < 500 && err.status !== 429) s.removeItem(key);
    }
  }
  return done;
}

// Submit the whole result; resolves once acknowledged (201), or with a conflict (409).
export async function submitWithRetry(body, { onRetry, post = postJson, wait = sleep } = {}) {
  for (let attempt = 0; ; attempt++) {
    try {
      const { status, data } = await post('results/submit', body);
      return { ok: true, status, data };
    } catch (err) {
      if (err instanceof ApiError && err.status === 409) return { ok: false, conflict: true, error: err };
      if (onRetry) onRetry(err, attempt);
      await wait(backoffMs(attempt, 1000, 30000));
    }
  }
}
