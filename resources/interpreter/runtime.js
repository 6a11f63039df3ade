// One participant run: compiles the config, drives jsPsych, records one row per trial in the
// shared vocabulary, checkpoints each row as it ends and submits the result at the end.

import { compileConfig } from './compiler.js';
import { freshRunSeed, makeRng } from './prng.js';
import { computeSummary } from './summary.js';
import { FrameMonitor, FrameTimer, measureRefresh, timingFingerprint } from './timing.js';
import { CheckpointQueue, submitWithRetry } from './persistence.js';
import { componentFor } from './components/index.js';
import { DrtEngine } from './components/drt.js';
import * as ui from './ui.js';

export const INTERPRETER_VERSION = '1.0.0';
const META_FIELDS = ['block_index', 'block_trial_index', 'block_seed', 'loop_iteration', 'loop_id', 'label', 'sequence_index', 'sequence_seed'];
const ABS_TIME_FIELDS = ['stimulus_onset_ms', 'stimulus_offset_ms', 'trial_start_ms', 'trial_end_ms'];
const round3 = (x) => (typeof x === 'number' && Number.isFinite(x) ? Math.round(x * 1000) / 1000 : x);

// The one jsPsych plugin: it hands the display element to a CogFlow component and ends the
// trial with the row the component produced.
function makePluginClass(ParameterType) {
  return class CogflowPlugin {
    static info = {
      name: 'cogflow', version: INTERPRETER_VERSION,
      parameters: { run: { type: ParameterType.FUNCTION, default: null } },
      data: {},
    };

    constructor(jsPsych) { this.jsPsych = jsPsych; }

    trial(el, trial) { return trial.run(el); }
  };
}

export class Run {
  constructor({ config, root, start = null, preview = false }) {
    this.config = config;
    this.root = root;
    this.start = start; // runs/start response, null in preview
    this.preview = preview;
    this.rows = [];
    this.state = { staircases: {}, pvt: {}, lastTaskIndex: null, visualAngle: null };
    this.finished = false;
    this.aborted = false;
    this.attention = { visibility_hidden: 0, window_blur: 0 };
  }

  rel(ts) { return typeof ts === 'number' ? round3(ts - this.t0) : ts; }

  async begin() {
    ui.showMessage(this.root, { title: 'Preparing…', body: 'Measuring the display refresh rate.' });
    this.refresh = await measureRefresh(90);
    this.timer = new FrameTimer(this.refresh.frame_ms);
    this.monitor = new FrameMonitor(this.refresh.frame_ms);
    this.runSeed = this.config.seed ?? freshRunSeed();
    const { trials } = compileConfig(this.config, { runSeed: this.runSeed });
    this.specs = trials;
    this.startedAt = new Date().toISOString();
    this.t0 = performance.now();
    this.drt = new DrtEngine(this);
    if (this.start) {
      this.queue = new CheckpointQueue(this.start.run_session_id, () => this.payload('started', false), { sealTo: this.start.seal_public_key });
      window.addEventListener('pagehide', () => this.queue.flushOnUnload());
    }
    document.addEventListener('visibilitychange', () => { if (document.visibilityState === 'hidden') this.attention.visibility_hidden += 1; });
    window.addEventListener('blur', () => { this.attention.window_blur += 1; });
    this.monitor.start();
    ui.clear(this.root);
    const { initJsPsych, ParameterType } = window.jsPsychModule;
    this.Plugin = makePluginClass(ParameterType);
    this.jsPsych = initJsPsych({ display_element: this.root, default_iti: 0, on_finish: () => { if (!this.aborted) this.finish('completed'); } });
    await this.jsPsych.run(this.specs.map((s) => this.toJsPsych(s)));
  }

  toJsPsych(spec) {
    const trial = { type: this.Plugin, run: (el) => this.runSpec(el, spec) };
    if (spec.component_type === 'pvt-trial' && spec.params.add_trial_per_false_start) {
      // Each false start adds one trial: repeat this trial until it is valid (capped).
      return { timeline: [trial], loop_function: () => this.pvtRepeat(spec) };
    }
    return trial;
  }

  pvtRepeat(spec) {
    const last = this.rows.filter((r) => r.component_type === 'pvt-trial').pop();
    const key = spec.meta.path;
    const extra = this.state.pvt[key] ?? 0;
    const cap = Math.max(1, spec.meta.block_length ?? 10);
    if (last && last.false_start && extra < cap && !this.aborted) {
      this.state.pvt[key] = extra + 1;
      this.nextPvtExtra = true;
      return true;
    }
    return false;
  }

  async runSpec(el, spec) {
    const mod = componentFor(spec.component_type);
    this.trialAc = new AbortController();
    const ctx = {
      run: this, config: this.config, timer: this.timer, frameMs: this.refresh.frame_ms,
      signal: this.trialAc.signal, state: this.state, spec,
      rng: makeRng(`${this.runSeed}|trial|${this.rows.length}`),
    };
    const extra = this.nextPvtExtra ? { pvt_extra_trial: true } : spec.component_type === 'pvt-trial' ? { pvt_extra_trial: false } : {};
    this.nextPvtExtra = false;
    this.current = { spec, start: performance.now() };
    let data;
    try {
      data = await mod.run(el, spec.params, ctx);
    } catch (err) {
      console.error(err);
      data = { ended_reason: 'error', error: String(err && err.stack ? err.stack : err) };
    }
    if (this.aborted) return {};
    const row = this.record(spec, { ...extra, ...data }, this.current.start);
    this.current = null;
    return row;
  }

  baseRow(componentType) {
    return {
      trial_index: this.rows.length, component_type: componentType, task_type: this.config.task_type ?? null,
      rt_ms: null, response: null, correct: null, stimulus_onset_ms: null, ended_reason: 'response',
    };
  }

  record(spec, data, start) {
    const row = this.baseRow(spec.component_type);
    for (const f of META_FIELDS) if (spec.meta[f] !== undefined) row[f] = spec.meta[f];
    Object.assign(row, data, { trial_index: this.rows.length, component_type: spec.component_type });
    row.trial_start_ms = start;
    row.trial_end_ms = performance.now();
    return this.push(row);
  }

  // Rows that are not jsPsych trials (DRT stimuli) come in here too, so trial_index follows time.
  push(row) {
    row.trial_index = this.rows.length;
    for (const f of ABS_TIME_FIELDS) if (typeof row[f] === 'number') row[f] = this.rel(row[f]);
    if (typeof row.rt_ms === 'number') row.rt_ms = round3(row.rt_ms);
    this.rows.push(row);
    if (this.queue) this.queue.add(row, this.rows.length);
    return row;
  }

  fingerprint() {
    return { ...timingFingerprint(this.refresh, this.monitor, this.timer, this.jsPsych ? this.jsPsych.version() : null), ...this.attention };
  }

  payload(status, withTrials = true) {
    const p = {
      format: 'cogflow-result-v1',
      interpreter_version: INTERPRETER_VERSION,
      schema_version: this.config.schema_version ?? '1.0',
      status,
      study_slug: this.start?.study_slug ?? null,
      config_version_id: this.start?.config_version_id ?? null,
      config_version_label: this.start?.config_version_label ?? null,
      task_type: this.config.task_type ?? null,
      experiment_type: this.config.experiment_type ?? null,
      run_seed: this.runSeed,
      started_at: this.startedAt,
      time_origin: 'stimulus_onset_ms, trial_start_ms and trial_end_ms are ms since run start (performance.now clock)',
      timing: this.fingerprint(),
      trial_count: this.rows.length,
    };
    if (this.abortReason) p.abort_reason = this.abortReason;
    if (withTrials) {
      p.finished_at = new Date().toISOString();
      p.trials = this.rows;
    }
    return p;
  }

  abort(reason = 'experimenter_abort') {
    if (this.finished || this.aborted) return false;
    this.aborted = true;
    this.abortReason = reason;
    if (this.current) {
      const { spec, start } = this.current;
      this.record(spec, { ended_reason: 'aborted' }, start);
    }
    if (this.trialAc) this.trialAc.abort();
    try { this.jsPsych.abortExperiment(''); } catch { /* jsPsych not started */ }
    this.finish('failed');
    return true;
  }

  async finish(status) {
    if (this.finished) return;
    this.finished = true;
    if (this.drt) this.drt.stop('run_end');
    if (this.monitor) this.monitor.stop();
    if (this.queue) this.queue.stop();
    const summary = computeSummary(this.rows, { taskType: this.config.task_type ?? null, status });
    const payload = this.payload(status);
    if (this.preview) {
      ui.showPreviewEnd(this.root, summary);
      const msg = { type: 'cogflow:preview-finished', status, result_summary: summary, result_payload: payload };
      for (const w of [window.parent, window.opener]) if (w && w !== window) w.postMessage(msg, location.origin);
      window.cogflowResult = msg;
      return;
    }
    ui.showMessage(this.root, { title: 'Saving your responses…', body: 'Please wait.' });
    if (this.queue) await this.queue.keepPayload({ ...this.payload(status, false), result_summary: summary });
    const res = await submitWithRetry({
      run_session_id: this.start.run_session_id, status, trial_count: this.rows.length,
      result_summary: summary, result_payload: payload, trials: this.rows,
    }, { onRetry: (err, attempt) => ui.showSaveProblem(this.root, err, attempt) });
    if (res.gaveUp) return this.keptLocally(status, summary, res.error);
    if (this.queue) this.queue.stop({ clear: true });
    window.cogflowResult = { status, submitted: res.ok, conflict: !!res.conflict };
    if (res.ok) ui.showThanks(this.root, status);
    else ui.showMessage(this.root, { kind: 'error', title: 'This run was already saved differently', body: 'The server refused this result because the run already has another final result. Please tell the experimenter.' });
  }

  // The server keeps refusing the result (the same answer again and again): stop asking, keep
  // everything sealed on this computer for the next run to hand over, and say so.
  async keptLocally(status, summary, error) {
    const kept = this.queue ? await this.queue.keepSealed(this.rows, { ...this.payload(status, false), result_summary: summary }) : false;
    window.cogflowResult = { status, submitted: false, gave_up: true, kept_sealed: kept, error: String(error && error.message ? error.message : error) };
    this.root.dataset.cogflowState = 'error';
    ui.showMessage(this.root, {
      kind: 'error',
      title: 'Your responses could not be saved',
      body: kept
        ? 'The server refused them. They are kept on this computer, sealed so that only a researcher can read them, and will be handed over when the next run starts. Please tell the experimenter.'
        : 'The server refused them. Please tell the experimenter now, before this window is closed.',
    });
  }
}
