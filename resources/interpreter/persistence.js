// Checkpoints and submit. Checkpoints are fire-and-forget: `add(row)` returns at once, a single
// sender posts queued rows in order and retries failures with exponential backoff, so a slow or
// absent server never delays the next trial. Submit retries until the server acknowledges.

import { ApiError, backoffMs, postJson, sleep } from './api.js';

export class CheckpointQueue {
  constructor(runSessionId, payloadMeta, { maxBatch = 50, onState } = {}) {
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
  }

  add(row, totalRows) {
    if (this.stopped || !this.runSessionId) return;
    this.pending.push(row);
    this.totalRows = totalRows;
    this.pump();
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
          const { data } = await postJson('results/checkpoint', this.body(batch));
          this.pending.splice(0, batch.length);
          this.checkpointIndex += 1;
          this.sentCount += batch.length;
          this.failures = 0;
          this.onState({ ok: true, pending: this.pending.length });
          if (data && data.stored === false) this.stopped = true; // run already terminal
        } catch (err) {
          this.failures += 1;
          this.onState({ ok: false, pending: this.pending.length, error: String(err) });
          if (err instanceof ApiError && err.status === 404) { this.stopped = true; break; }
          await sleep(backoffMs(this.failures - 1));
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
    postJson('results/checkpoint', this.body(batch), { keepalive: true }).catch(() => {});
  }

  stop() {
    this.stopped = true;
  }
}

// Submit the whole result; resolves once acknowledged (201), or with a conflict (409).
export async function submitWithRetry(body, { onRetry } = {}) {
  for (let attempt = 0; ; attempt++) {
    try {
      const { status, data } = await postJson('results/submit', body);
      return { ok: true, status, data };
    } catch (err) {
      if (err instanceof ApiError && err.status === 409) return { ok: false, conflict: true, error: err };
      if (onRetry) onRetry(err, attempt);
      await sleep(backoffMs(attempt, 1000, 30000));
    }
  }
}
