// Lab hardware: event markers for LSL and serial triggers (README "Lab hardware: LSL and
// triggers"). A browser cannot open LSL sockets, so the page hands its events to the desktop
// host, which pushes them to an LSL outlet stamped on the LSL clock and sends trigger codes.
//
// - Only for a stored run whose config turns `lsl` or `triggers` on; never in preview.
// - Transport: Qt WebChannel when the desktop app hosts the page (`qt.webChannelTransport` and
//   the QWebChannel class, which the app injects), else POST ../api/hardware/markers (the local
//   server of `cogflow-desktop serve --lsl`). Both carry the same JSON messages.
// - Nothing here waits on a frame: emit() appends to a queue and schedules one background send
//   (a task after the current frame); a single sender posts batches in order and retries.
// - Clock: bursts of round trips (`performance.now()` against the host's `local_clock()`) at run
//   start, every SYNC_EVERY_MS and at the end; the host keeps the shortest round trip of each
//   burst and answers the offset in use. Every event is stamped page_ms / 1000 + offset_s: the
//   moment it happened, on the LSL clock.
// - Markers: one compact JSON object each, e.g.
//   {"event":"onset","seq":12,"trial_index":5,"component_type":"flanker-trial","t_ms":5012.7}.
//   `t_ms` is on the rows' clock (ms since the run's start). `trial_index` is the index the
//   trial's row will have; a DRT row recorded while the trial is still running takes one first,
//   so with a DRT running join markers to rows by `lsl_onset_time` (rows) = the onset marker's
//   timestamp, which is exact.

import * as ui from './ui.js';

// The next row's trial_index (a continued run's earlier rows are not in this page: resume.js).
const runIndex = (run) => (typeof run.nextIndex === 'function' ? run.nextIndex() : run.rows.length);

export const MARKER_ENDPOINT = '../api/hardware/markers';
export const START_PROBES = 12; // at least; up to MAX_START_PROBES while no round trip is short
export const MAX_START_PROBES = 32;
const SHORT_RTT_MS = 1;
export const PERIODIC_PROBES = 6;
export const SYNC_EVERY_MS = 10000;
const MAX_TRIES = 6;
const CLOSE_WAIT_MS = 4000;
const WARNING_SECONDS = 8;
const MATCH_MS = 1e-3; // two page times this close are the same event

export function wantsHardware(config) {
  return Boolean(config && ((config.lsl && config.lsl.enabled === true) || (config.triggers && config.triggers.enabled === true)));
}

const round3 = (x) => Math.round(x * 1000) / 1000;

function scalar(v) {
  if (v === null || typeof v === 'boolean') return v;
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v === 'string') return v.length > 200 ? v.slice(0, 200) : v;
  return undefined; // objects (survey answers) stay in the rows, not in markers
}

function cleanData(data) {
  const out = {};
  for (const [k, v] of Object.entries(data)) {
    const s = scalar(v);
    if (s !== undefined && /^[a-z][a-z0-9_]{0,39}$/.test(k)) out[k] = typeof s === 'number' && k.endsWith('_ms') ? round3(s) : s;
  }
  return out;
}

function csrfToken() {
  const m = /(?:^|;\s*)csrftoken=([^;]+)/.exec(typeof document !== 'undefined' ? document.cookie || '' : '');
  return m ? decodeURIComponent(m[1]) : null;
}

export function httpTransport(fetchImpl = globalThis.fetch) {
  return {
    kind: 'http',
    async request(message) {
      const headers = { 'Content-Type': 'application/json', Accept: 'application/json' };
      const token = csrfToken();
      if (token) headers['X-CSRFToken'] = token;
      const res = await fetchImpl(MARKER_ENDPOINT, { method: 'POST', credentials: 'same-origin', headers, body: JSON.stringify(message) });
      let data = null;
      try { data = await res.json(); } catch { data = null; }
      if (!res.ok) {
        const err = new Error(data && (data.error || data.detail) ? (data.error || data.detail) : `HTTP ${res.status}`);
        err.status = res.status;
        throw err;
      }
      return data;
    },
  };
}

// The app registers `cogflowMarkers` (slot `call(json) -> json`) on the page's WebChannel.
export function webChannelTransport(win = globalThis, timeoutMs = 3000) {
  const qt = win.qt;
  if (!qt || !qt.webChannelTransport || typeof win.QWebChannel !== 'function') return Promise.resolve(null);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(null), timeoutMs);
    // eslint-disable-next-line no-new
    new win.QWebChannel(qt.webChannelTransport, (channel) => {
      clearTimeout(timer);
      const obj = channel.objects.cogflowMarkers;
      if (!obj) { resolve(null); return; }
      resolve({
        kind: 'webchannel',
        request: (message) => new Promise((res, rej) => {
          obj.call(JSON.stringify(message), (raw) => {
            let data;
            try { data = JSON.parse(raw); } catch { rej(new Error('The app answered something that is not JSON.')); return; }
            if (data && data.error) { const err = new Error(data.error); err.status = data.status; rej(err); } else res(data);
          });
        }),
      });
    });
  });
}

export async function chooseTransport(win = globalThis) {
  return (await webChannelTransport(win)) ?? httpTransport();
}

export class MarkerLink {
  constructor(transport, runSessionId, { now = () => performance.now(), schedule = (fn, ms) => setTimeout(fn, ms), cancel = (id) => clearTimeout(id) } = {}) {
    this.transport = transport;
    this.runSessionId = runSessionId;
    this.now = now;
    this.schedule = schedule;
    this.cancel = cancel;
    this.hello = null;
    this.reasons = [];
    this.estimate = null;
    this.queue = [];
    this.seq = 0;
    this.sending = false;
    this.flushTimer = null;
    this.tries = 0;
    this.acknowledged = 0;
    this.failed = 0;
    this.syncing = null;
    this.syncTimer = null;
    this.closed = false;
    this.t0 = null;
    this.block = null;
    this.runStartLsl = null;
    this.idle = null; // resolves when the queue is empty and nothing is in flight
  }

  get enabled() { return Boolean(this.hello && this.hello.enabled && this.estimate); }

  get lslOn() { return this.enabled && this.hello.lsl === true; }

  // hello, then the first clock burst; afterwards `enabled` says whether markers go anywhere.
  async connect() {
    try {
      this.hello = await this.transport.request({ op: 'hello', run_session_id: this.runSessionId });
      this.reasons = [...(this.hello.reasons || [])];
      if (this.hello.enabled) await this.syncClock(START_PROBES, MAX_START_PROBES);
    } catch (err) {
      this.reasons.push(`The lab hardware host did not answer: ${err && err.message ? err.message : err}`);
      this.hello = this.hello ?? { enabled: false };
    }
    if (this.hello.enabled && !this.estimate) this.reasons.push('The page clock could not be matched to the LSL clock; no markers are sent.');
    return this;
  }

  // One burst: `probes` round trips one after another (more, up to `most`, while none was
  // short: a busy moment), then the host's estimate from the shortest.
  syncClock(probes = PERIODIC_PROBES, most = probes) {
    if (this.syncing) return this.syncing;
    this.syncing = (async () => {
      const samples = [];
      let best = Infinity;
      for (let i = 0; i < most && (i < probes || best > SHORT_RTT_MS); i++) {
        const sent = this.now();
        const r = await this.transport.request({ op: 'clock' });
        const received = this.now();
        samples.push({ page_sent_ms: sent, page_received_ms: received, lsl_s: r.lsl_s });
        best = Math.min(best, received - sent);
      }
      const r = await this.transport.request({ op: 'clock', run_session_id: this.runSessionId, samples });
      this.estimate = r.estimate;
      return r.estimate;
    })().catch((err) => { console.warn('CogFlow markers: clock burst failed', err); return null; })
      .finally(() => { this.syncing = null; });
    return this.syncing;
  }

  toLsl(pageMs) {
    return this.estimate ? pageMs / 1000 + this.estimate.offset_s : null;
  }

  rel(pageMs) { return this.t0 === null ? null : round3(pageMs - this.t0); }

  // Queue one marker; returns its LSL time (null when nothing is sent). Never waits.
  emit(event, pageMs, data = {}, live = true) {
    if (!this.enabled || this.closed) return null;
    const lsl = this.toLsl(pageMs);
    const t = this.rel(pageMs);
    this.queue.push({ seq: this.seq++, event, page_ms: pageMs, lsl_time: lsl, live, data: cleanData({ ...data, ...(t === null ? {} : { t_ms: t }) }) });
    if (!this.sending && this.flushTimer === null) this.flushTimer = this.schedule(() => { this.flushTimer = null; this.flush(); }, 0);
    return lsl;
  }

  async flush() {
    if (this.sending || !this.queue.length) return;
    this.sending = true;
    const batch = this.queue.splice(0, 500);
    try {
      const r = await this.transport.request({ op: 'markers', run_session_id: this.runSessionId, markers: batch });
      this.acknowledged = r.total ?? this.acknowledged;
      this.tries = 0;
    } catch (err) {
      this.tries += 1;
      if (this.tries < MAX_TRIES) {
        this.queue.unshift(...batch); // in order; the host skips what it already pushed (seq)
        this.sending = false;
        this.flushTimer = this.schedule(() => { this.flushTimer = null; this.flush(); }, Math.min(5000, 100 * 2 ** this.tries));
        return;
      }
      console.warn('CogFlow markers: a batch could not be delivered', err);
      this.failed += batch.length;
      this.tries = 0;
    }
    this.sending = false;
    if (this.queue.length) this.flush();
    else if (this.idle) { this.idle.resolve(); this.idle = null; }
  }

  drained() {
    if (!this.queue.length && !this.sending) return Promise.resolve();
    if (!this.idle) { let resolve; const p = new Promise((r) => { resolve = r; }); this.idle = { p, resolve }; }
    return this.idle.p;
  }

  // ---- the run's events (hooks in runtime.js, components/common.js and components/drt.js)

  runStart(run) {
    this.t0 = run.t0;
    this.runStartLsl = this.toLsl(run.t0);
    this.emit('run_start', run.t0, {
      run_session_id: this.runSessionId, study_slug: run.start?.study_slug ?? null,
      config_version_label: run.start?.config_version_label ?? null, run_seed: run.runSeed,
    });
    const tick = () => {
      if (this.closed) return;
      this.syncClock(PERIODIC_PROBES).finally(() => { if (!this.closed) this.syncTimer = this.schedule(tick, SYNC_EVERY_MS); });
    };
    if (this.enabled) this.syncTimer = this.schedule(tick, SYNC_EVERY_MS);
  }

  // A trial starts: block boundaries, and the function components call as ctx.mark(event, ts).
  trialStart(run, trial) {
    const meta = trial.spec.meta || {};
    const block = meta.block_index ?? null;
    if (block !== this.block) {
      if (this.block !== null) this.emit('block_end', trial.start, { block_index: this.block });
      if (block !== null) this.emit('block_start', trial.start, { block_index: block, component_type: trial.spec.component_type, label: meta.label ?? null, block_length: meta.block_length ?? null });
      this.block = block;
    }
    trial.marked = [];
    return (event, ts, extra = {}) => this.trialEvent(run, trial, event, ts, extra);
  }

  trialEvent(run, trial, event, ts, extra = {}, live = true) {
    if (typeof ts !== 'number') return null;
    const meta = trial.spec.meta || {};
    const lsl = this.emit(event, ts, {
      trial_index: runIndex(run), component_type: trial.spec.component_type,
      ...(meta.block_index !== undefined ? { block_index: meta.block_index } : {}),
      ...(meta.label !== undefined ? { label: meta.label } : {}),
      ...extra,
    }, live);
    if (trial.marked) trial.marked.push({ event, ts, lsl });
    return lsl;
  }

  marked(trial, event, ts) {
    return (trial.marked || []).find((m) => m.event === event && Math.abs(m.ts - ts) < MATCH_MS) ?? null;
  }

  // The row is complete (times still on the page clock): mark what the component did not mark
  // as it happened (the timestamps are still the events' own), and stamp lsl_onset_time.
  rowRecorded(run, trial, row) {
    if (!this.enabled) return;
    const onset = typeof row.stimulus_onset_ms === 'number' ? row.stimulus_onset_ms : null;
    const extra = { trial_index: row.trial_index };
    let onsetLsl = null;
    if (onset !== null) {
      const m = this.marked(trial, 'onset', onset);
      onsetLsl = m ? m.lsl : this.trialEvent(run, trial, 'onset', onset, extra, false);
    }
    if (typeof row.stimulus_offset_ms === 'number' && !this.marked(trial, 'offset', row.stimulus_offset_ms)) {
      this.trialEvent(run, trial, 'offset', row.stimulus_offset_ms, extra, false);
    }
    if (onset !== null && typeof row.rt_ms === 'number' && !this.marked(trial, 'response', onset + row.rt_ms)) {
      this.trialEvent(run, trial, 'response', onset + row.rt_ms, { ...extra, response: row.response, rt_ms: round3(row.rt_ms) }, false);
    }
    if (this.lslOn && onsetLsl !== null) row.lsl_onset_time = onsetLsl;
  }

  drtEvent(event, ts, data = {}) {
    return this.emit(event, ts, { component_type: 'drt-stimulus', ...data });
  }

  info() {
    const h = this.hello || {};
    return {
      enabled: this.enabled, lsl: this.lslOn, triggers: this.enabled && h.triggers === true,
      transport: this.transport ? this.transport.kind : null,
      stream_name: h.stream_name ?? null, source_id: h.source_id ?? null, lsl_library: h.lsl_library ?? null,
      reasons: this.reasons, run_start_lsl_time: this.runStartLsl,
      clock_offset_s: this.estimate ? this.estimate.offset_s : null,
      clock_uncertainty_s: this.estimate ? this.estimate.uncertainty_s : null,
      markers_sent: this.seq, markers_acknowledged: this.acknowledged, markers_failed: this.failed,
    };
  }

  // The run ended: a last clock burst (drift over the run), deliver what is queued, and fetch
  // the host's record of the run. Bounded in time: a silent host never holds up the submit.
  async close(run, status) {
    if (this.closed) return this.info();
    const end = this.now();
    if (this.block !== null) this.emit('block_end', end, { block_index: this.block });
    if (this.enabled) this.emit('run_end', end, { status, trial_count: runIndex(run) });
    if (this.syncTimer !== null) { this.cancel(this.syncTimer); this.syncTimer = null; }
    if (!this.enabled) { this.closed = true; return this.info(); }
    const timeout = () => new Promise((r) => { this.schedule(() => r(null), CLOSE_WAIT_MS); });
    await Promise.race([Promise.all([this.drained(), this.syncClock(PERIODIC_PROBES)]), timeout()]);
    this.closed = true;
    let host = null;
    try {
      host = await Promise.race([this.transport.request({ op: 'summary', run_session_id: this.runSessionId, end: true }), timeout()]);
    } catch (err) {
      this.reasons.push(`The lab hardware host did not give its record of the run: ${err && err.message ? err.message : err}`);
    }
    return host ? { ...this.info(), ...host, reasons: [...new Set([...this.reasons, ...(host.reasons || [])])] } : this.info();
  }
}

// Connect for a stored run whose config asks for markers or triggers; null otherwise.
export async function connectMarkers(run, { transport = null } = {}) {
  if (run.preview || !run.start || !wantsHardware(run.config)) return null;
  const t = transport ?? await chooseTransport();
  return new MarkerLink(t, run.start.run_session_id).connect();
}

// Asked for but not working: say so before the first trial (for the experimenter; Enter goes
// on at once), as the timing warning does. The same sentences are in result_payload.lsl.reasons.
export async function showHardwareWarning(root, reasons) {
  const items = reasons.map((r) => `<li>${ui.escapeHtml(r)}</li>`).join('');
  const render = (left) => ui.showMessage(root, {
    kind: 'warning', title: 'Lab hardware check',
    html: `<ul class="cf-errors" data-role="hardware-warning">${items}</ul><p>This study asks for LSL markers or trigger codes. The run can go on without them; this warning is saved with the results. It starts in ${left} s (Enter starts it now).</p>`,
  });
  render(WARNING_SECONDS);
  await new Promise((resolve) => {
    const ac = new AbortController();
    const done = () => { ac.abort(); clearInterval(id); resolve(); };
    document.addEventListener('keydown', (e) => { if (e.key === 'Enter' || e.key === ' ') done(); }, { signal: ac.signal });
    let left = WARNING_SECONDS;
    const id = setInterval(() => { left -= 1; if (left <= 0) done(); else render(left); }, 1000);
  });
}
