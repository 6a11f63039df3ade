// One participant run: compiles the config, drives jsPsych, records one row per trial in the
// shared vocabulary, checkpoints each row as it ends and submits the result at the end.

import { compileConfig } from './compiler.js';
import { freshRunSeed, makeRng } from './prng.js';
import { computeSummary } from './summary.js';
import { FrameTimer, estimateRefresh, measureRefresh, sharedClock, timingFingerprint } from './timing.js';
import { setInputPaused, startKeyLog } from './input.js';
import { CheckpointQueue, submitWithRetry } from './persistence.js';
import { componentFor } from './components/index.js';
import { DrtEngine } from './components/drt.js';
import { connectMarkers, showHardwareWarning } from './markers.js';
import { ClockWatch } from './clock-watch.js';
import { eyeTrackingSettings } from './eye-tracking-config.js';
import { SnapshotSender, makeSnapshot } from './resume.js';
import { postJson } from './api.js';
import { applyTrialRecording, stampVisualAngle } from './recording.js';
import * as ui from './ui.js';

export const INTERPRETER_VERSION = '1.0.0';
const META_FIELDS = ['block_index', 'block_trial_index', 'block_seed', 'loop_iteration', 'loop_id', 'label', 'sequence_index', 'sequence_seed'];
const ABS_TIME_FIELDS = ['stimulus_onset_ms', 'stimulus_offset_ms', 'trial_start_ms', 'trial_end_ms'];
const round3 = (x) => (typeof x === 'number' && Number.isFinite(x) ? Math.round(x * 1000) / 1000 : x);
// Untimed components that do not use respond(): after a pause they continue where they were.
// Every other trial is restarted if the pause came before its response window closed (respond()
// and the components set ctx.pausePolicy; see README "Pausing").
const CONTINUE_AFTER_PAUSE = new Set(['survey-response', 'mw-probe', 'visual-angle-calibration']);
const RESTART = Symbol('restart');
export const RESUME_BLANK_MS = 1000; // blank screen before a restarted trial
export const WARNING_SECONDS = 5; // how long the timing warning stays before the run starts

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
  // resume: a plan from resume.js's planResume (the kiosk continues a run whose page died).
  constructor({ config, root, start = null, preview = false, unsupported = [], resume = null }) {
    this.config = config;
    this.resumePlan = resume;
    this.firstIndex = resume ? resume.firstTrialIndex : 0; // trial_index of this page's first row
    this.interruptions = resume ? resume.interruptions : [];
    this.unsupported = unsupported; // refused parts a researcher preview runs anyway (main.js)
    this.root = root;
    this.start = start; // runs/start response, null in preview
    this.preview = preview;
    this.rows = [];
    this.state = { staircases: {}, pvt: {}, lastTaskIndex: null, visualAngle: null };
    this.finished = false;
    this.aborted = false;
    this.attention = { visibility_hidden: 0, window_blur: 0 };
    this.started = false;
    this.paused = null;
    this.pauses = [];
    this.remeasurements = [];
    this.pendingRefresh = null;
    this.keyLog = [];
  }

  // The trial_index the next row gets (rows of a page that died before are not in this.rows).
  nextIndex() { return this.firstIndex + this.rows.length; }

  rel(ts) { return typeof ts === 'number' ? round3(ts - this.t0) : ts; }

  async begin() {
    ui.showMessage(this.root, { title: 'Preparing…', body: 'Measuring the display refresh rate.' });
    this.clock = sharedClock();
    const markers = connectMarkers(this).catch(() => null); // lab hardware, beside the measurement
    this.refresh = await measureRefresh(90, this.clock);
    this.timer = new FrameTimer(this.refresh.frame_ms, this.clock);
    if (this.refresh.warnings.length) await this.showTimingWarning(this.refresh.warnings);
    this.markers = await markers;
    if (this.markers && this.markers.reasons.length) await showHardwareWarning(this.root, this.markers.reasons);
    this.runSeed = this.resumePlan ? this.resumePlan.runSeed : this.config.seed ?? freshRunSeed();
    const { trials } = compileConfig(this.config, { runSeed: this.runSeed });
    this.specs = trials;
    this.startedAt = (this.resumePlan && this.resumePlan.startedAt) || new Date().toISOString();
    if (this.resumePlan) Object.assign(this.state, this.resumePlan.state, { pvt: { ...this.state.pvt, ...this.resumePlan.state.pvt } });
    this.nextPvtExtra = this.resumePlan ? this.resumePlan.pvtExtra : false;
    // Sleep and wall-clock jumps (#17): recorded in clock_events, rows stored after a jump marked.
    this.clockWatch = new ClockWatch();
    this.stopClockWatch = this.clockWatch.watch((mono) => this.clockInfo(mono));
    this.drt = new DrtEngine(this);
    if (this.start) {
      this.queue = new CheckpointQueue(this.start.run_session_id, () => this.payload('started', false), { sealTo: this.start.seal_public_key });
      window.addEventListener('pagehide', () => this.queue.flushOnUnload());
      // Where the run stands goes to the desktop app, when runs/start said it keeps it (only the
      // app's own server does; see resume.js).
      if (this.start.resume_snapshots === true) this.snapshots = new SnapshotSender(postJson);
    }
    document.addEventListener('visibilitychange', () => {
      if (document.visibilityState !== 'hidden') return;
      this.attention.visibility_hidden += 1;
      if (this.current) this.current.hidden = true;
    });
    window.addEventListener('blur', () => {
      this.attention.window_blur += 1;
      if (this.current) this.current.blurred = true;
    });
    this.watchDisplay();
    await this.whilePaused();
    if (this.aborted) return;
    ui.clear(this.root);
    // The run's time origin is a fresh frame; the first trial starts on it (or the next one).
    this.t0 = await this.clock.next();
    this.clock.resetStats();
    if (this.markers) this.markers.runStart(this);
    const { initJsPsych, ParameterType } = window.jsPsychModule;
    this.Plugin = makePluginClass(ParameterType);
    this.jsPsych = initJsPsych({ display_element: this.root, default_iti: 0, on_finish: () => { if (!this.aborted) this.finish('completed'); } });
    this.started = true;
    const from = this.resumePlan ? this.resumePlan.specIndex : 0; // items the dead page already ran
    if (from >= this.specs.length) { await this.finish('completed'); return; } // died while saving
    await this.jsPsych.run(this.specs.slice(from).map((s, k) => this.toJsPsych(s, from + k)));
  }

  // An unusual display (#10: below 50 Hz, or frame SD above 1 ms) is shown to whoever starts the
  // run, before the first trial, for WARNING_SECONDS (Enter or Space goes on at once); the same
  // sentences are in result_payload.timing.warnings.
  async showTimingWarning(warnings) {
    const items = warnings.map((w) => `<li>${ui.escapeHtml(w)}</li>`).join('');
    const render = (left) => ui.showMessage(this.root, {
      kind: 'warning', title: 'Display timing check',
      html: `<ul class="cf-errors" data-role="timing-warning">${items}</ul><p>Durations are still counted in whole frames of the measured rate; this warning is saved with the results. The study starts in ${left} s (Enter starts it now).</p>`,
    });
    render(WARNING_SECONDS);
    const ac = new AbortController();
    await new Promise((resolve) => {
      document.addEventListener('keydown', (e) => { if (e.key === 'Enter' || e.key === ' ') resolve(); }, { signal: ac.signal });
      let left = WARNING_SECONDS;
      const id = setInterval(() => { left -= 1; if (left <= 0) resolve(); else render(left); }, 1000);
      ac.signal.addEventListener('abort', () => clearInterval(id));
    });
    ac.abort();
  }

  // A full-screen change (or a window that enters or leaves the screen's size, as the kiosk's
  // showFullScreen does) can change the refresh rate: measure again over the next 90 frames and
  // use the new interval from the next trial on.
  watchDisplay() {
    const fullSize = () => globalThis.innerWidth >= (globalThis.screen?.width ?? Infinity) && globalThis.innerHeight >= (globalThis.screen?.height ?? Infinity);
    let wasFull = fullSize();
    const remeasure = (reason) => {
      if (this.remeasuring || this.finished) return;
      this.remeasuring = true;
      this.clock.collect(91).then((ts) => {
        this.remeasuring = false;
        const r = estimateRefresh(ts);
        this.remeasurements.push({
          reason, at_ms: this.rel(ts[0]), refresh_hz: Math.round(r.refresh_hz * 100) / 100,
          frame_ms: round3(r.frame_ms), frame_ms_se: round3(r.frame_ms_se), frame_ms_sd: round3(r.frame_ms_sd),
          warnings: r.warnings, applied_from_trial_index: null,
        });
        this.pendingRefresh = r;
      });
    };
    document.addEventListener('fullscreenchange', () => remeasure('fullscreenchange'));
    window.addEventListener('resize', () => {
      const full = fullSize();
      if (full !== wasFull) remeasure(full ? 'entered_full_screen_size' : 'left_full_screen_size');
      wasFull = full;
    });
  }

  applyPendingRefresh() {
    const r = this.pendingRefresh;
    this.pendingRefresh = null;
    this.refreshInUse = r;
    this.timer.frameMs = r.frame_ms;
    const last = this.remeasurements[this.remeasurements.length - 1];
    if (last) last.applied_from_trial_index = this.nextIndex();
  }

  toJsPsych(spec, specIndex) {
    const trial = { type: this.Plugin, run: (el) => this.runSpec(el, spec, specIndex) };
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

  // One trial. If a pause restarts it, the same component runs again with the same random
  // stream and state, after a blank second; a pause that lets it continue only stops its clock.
  async runSpec(el, spec, specIndex) {
    if (this.pendingRefresh) this.applyPendingRefresh();
    this.sendSnapshot(specIndex);
    if (!this.warm) {
      // jsPsych's set-up ran in the current frame: the first trial starts on a fresh one.
      this.warm = true;
      await this.clock.next();
    }
    const mod = componentFor(spec.component_type);
    const seed = `${this.runSeed}|trial|${this.nextIndex()}`;
    const stateBefore = { ...this.state };
    const extra = this.nextPvtExtra ? { pvt_extra_trial: true } : spec.component_type === 'pvt-trial' ? { pvt_extra_trial: false } : {};
    this.nextPvtExtra = false;
    // A trial starts on the frame being built, or else on the next frame (the first one it can
    // draw on; its timestamp can precede this moment, as a frame's timestamp marks its start).
    // `start` is fixed at once (the shell and tests use it to tell trials apart).
    const open = this.clock.open();
    const trial = {
      spec, start: open ? this.clock.frameTs : performance.now(), startFrame: open ? this.clock.frameTs : null,
      droppedAtStart: this.clock.stats.dropped,
      hidden: document.visibilityState === 'hidden',
      blurred: typeof document.hasFocus === 'function' ? !document.hasFocus() : false,
      pauseMs: 0, restarts: 0, pauseEntries: [], attempt: null,
    };
    this.current = trial;
    const mark = this.markers ? this.markers.trialStart(this, trial) : null;
    if (trial.startFrame === null) this.clock.next().then((ts) => { trial.startFrame ??= ts; });
    this.keyLog = startKeyLog();
    let data;
    for (;;) {
      this.trialAc = new AbortController();
      const signal = this.trialAc.signal;
      let restart;
      const restarted = new Promise((resolve) => { restart = resolve; });
      const ctx = {
        run: this, config: this.config, timer: this.timer.bound(signal), frameMs: this.timer.frameMs,
        signal, state: this.state, spec, rng: makeRng(seed), timing: {}, mark,
        pausePolicy: CONTINUE_AFTER_PAUSE.has(spec.component_type) ? 'continue' : 'restart',
      };
      trial.attempt = { ctx, restart };
      let out;
      try {
        out = await Promise.race([mod.run(el, spec.params, ctx), restarted.then(() => RESTART)]);
      } catch (err) {
        console.error(err);
        out = { ended_reason: 'error', error: String(err && err.stack ? err.stack : err) };
      }
      if (this.aborted) return {};
      if (out !== RESTART) { data = out; break; }
      for (const k of Object.keys(this.state)) if (!(k in stateBefore)) delete this.state[k];
      Object.assign(this.state, stateBefore);
      this.keyLog.length = 0;
      el.innerHTML = '';
      trial.attempt = null; // a pause during the blank second just extends it
      await this.timer.wait(RESUME_BLANK_MS);
      if (this.aborted) return {};
    }
    const row = this.record(spec, { ...extra, ...data }, trial);
    this.current = null;
    // Where the run stands now, too: a page that dies before the next trial starts (or while
    // the result is being saved) can still be continued. Not after a PVT trial that may repeat
    // (its loop decides after this); the next trial's start sends it then.
    if (!(spec.component_type === 'pvt-trial' && spec.params.add_trial_per_false_start)) this.sendSnapshot(specIndex + 1);
    return row;
  }

  baseRow(componentType) {
    return {
      trial_index: this.nextIndex(), component_type: componentType, task_type: this.config.task_type ?? null,
      rt_ms: null, response: null, correct: null, stimulus_onset_ms: null, ended_reason: 'response',
    };
  }

  record(spec, data, trial) {
    const row = this.baseRow(spec.component_type);
    for (const f of META_FIELDS) if (spec.meta[f] !== undefined) row[f] = spec.meta[f];
    Object.assign(row, data, { trial_index: this.nextIndex(), component_type: spec.component_type });
    applyTrialRecording(row, spec, this.config);
    const t = trial.attempt ? trial.attempt.ctx.timing : {};
    if (row.stimulus_duration_ms === undefined && t.stimulus_duration_ms !== undefined) row.stimulus_duration_ms = t.stimulus_duration_ms;
    if (typeof row.stimulus_onset_ms === 'number') {
      // Delivered, not planned: whole refresh intervals from the onset frame to the first frame
      // without the stimulus.
      row.stimulus_frames = typeof row.stimulus_offset_ms === 'number'
        ? Math.round((row.stimulus_offset_ms - row.stimulus_onset_ms) / this.timer.frameMs) : null;
    }
    if (t.iti_ms !== undefined) {
      if (row.iti_ms === undefined) row.iti_ms = t.iti_ms;
      row.iti_actual_ms = round3(t.iti_actual_ms);
    }
    if (row.response_code === undefined) {
      const hit = typeof row.response === 'string' ? this.keyLog.find((k) => k.key === row.response) : null;
      row.response_code = hit ? hit.code : null;
    }
    row.dropped_frames = this.clock.stats.dropped - trial.droppedAtStart;
    row.page_hidden = trial.hidden;
    row.window_blurred = trial.blurred;
    row.paused = trial.pauseMs > 0 || trial.restarts > 0 || this.paused !== null;
    if (row.paused) {
      row.pause_ms = round3(trial.pauseMs);
      row.pause_restarts = trial.restarts;
    }
    for (const e of trial.pauseEntries) e.trial_index = this.nextIndex();
    row.trial_start_ms = trial.startFrame ?? trial.start;
    row.trial_end_ms = this.clock.open() ? this.clock.frameTs : performance.now();
    if (this.markers) this.markers.rowRecorded(this, trial, row);
    return this.push(row);
  }

  // Before each trial: where the run stands, for the app to hold in memory (resume.js).
  sendSnapshot(specIndex) {
    if (!this.snapshots || this.aborted || this.finished) return;
    this.eyeTracking ??= eyeTrackingSettings(this.config).enabled;
    this.snapshots.send({
      run_session_id: this.start.run_session_id,
      snapshot: makeSnapshot({
        runSessionId: this.start.run_session_id, configVersionId: this.start.config_version_id ?? null,
        configVersionLabel: this.start.config_version_label ?? null, studySlug: this.start.study_slug ?? null,
        sealPublicKey: this.start.seal_public_key ?? null,
        runSeed: this.runSeed, specIndex, nextTrialIndex: this.nextIndex(), pvtExtra: this.nextPvtExtra,
        state: this.state, startedAt: this.startedAt, interruptions: this.interruptions,
        drtActive: Boolean(this.drt && this.drt.active), eyeTracking: this.eyeTracking,
      }),
    });
  }

  // ---- pausing (window.cogflowPause / cogflowResume; the desktop app's exit dialog)

  pause() {
    if (this.finished || this.aborted || this.paused) return false;
    if (!this.started) {
      // Still preparing (refresh measurement, timing warning): hold the first trial until resumed.
      this.paused = { at: performance.now(), trial: null, policy: 'continue', state: this.root.dataset.cogflowState, beforeStart: true };
      this.pauseEl = ui.showPaused();
      this.root.dataset.cogflowState = 'paused';
      return true;
    }
    this.clock.pause();
    setInputPaused(true);
    const trial = this.current;
    this.paused = { at: performance.now(), trial, policy: trial && trial.attempt ? trial.attempt.ctx.pausePolicy : 'continue', state: this.root.dataset.cogflowState };
    if (this.markers) this.markers.emit('pause', this.paused.at, { trial_index: this.nextIndex() });
    if (this.drt) this.drt.pause();
    this.pauseEl = ui.showPaused();
    this.root.dataset.cogflowState = 'paused';
    return true;
  }

  resume() {
    return this.endPause(false);
  }

  endPause(aborting) {
    const p = this.paused;
    if (!p) return false;
    this.paused = null;
    const ms = p.beforeStart ? performance.now() - p.at : this.clock.resume();
    setInputPaused(false);
    if (this.pauseEl) { this.pauseEl.remove(); this.pauseEl = null; }
    this.root.dataset.cogflowState = p.state === 'paused' ? 'running' : p.state;
    const trial = p.trial && p.trial === this.current ? p.trial : null;
    const action = aborting ? 'aborted' : !trial ? 'between_trials' : p.policy === 'restart' ? 'restarted' : 'continued';
    const entry = {
      trial_index: null, component_type: trial ? trial.spec.component_type : null,
      paused_at_ms: this.rel(p.at), resumed_at_ms: this.rel(performance.now()), pause_ms: round3(ms), action,
    };
    this.pauses.push(entry);
    if (this.markers) this.markers.emit('resume', performance.now(), { trial_index: this.nextIndex(), action });
    if (trial) {
      trial.pauseMs += ms;
      trial.pauseEntries.push(entry);
      if (action === 'restarted') {
        trial.restarts += 1;
        this.trialAc.abort();
        trial.attempt.restart();
      }
    }
    if (this.drt && !aborting && !p.beforeStart) this.drt.resume();
    if (this.unpaused) { this.unpaused(); this.unpaused = null; }
    return true;
  }

  // Resolves at once, or when a pause made before the first trial ends.
  whilePaused() {
    return this.paused ? new Promise((resolve) => { this.unpaused = resolve; }) : Promise.resolve();
  }

  clockInfo(mono) {
    return {
      at_ms: typeof this.t0 === 'number' ? this.rel(mono) : null, trial_index: this.nextIndex(),
      page_hidden: document.visibilityState === 'hidden',
    };
  }

  // Rows that are not jsPsych trials (DRT stimuli) come in here too, so trial_index follows time.
  push(row) {
    if (this.clockWatch) {
      // Checked now, not only on the next tick: the row's checkpoint is stored by the wall clock.
      this.clockWatch.check('row', (mono) => this.clockInfo(mono));
      if (this.clockWatch.jumped) row.wall_clock_offset_ms = this.clockWatch.offsetMs();
    }
    row.trial_index = this.nextIndex();
    for (const f of ABS_TIME_FIELDS) if (typeof row[f] === 'number') row[f] = this.rel(row[f]);
    if (typeof row.rt_ms === 'number') row.rt_ms = round3(row.rt_ms);
    stampVisualAngle(row, this.state);
    this.rows.push(row);
    if (this.queue) this.queue.add(row, this.nextIndex());
    return row;
  }

  fingerprint() {
    const fp = timingFingerprint(this.refresh, this.clock, this.timer, this.jsPsych ? this.jsPsych.version() : null);
    if (this.clockFinal) Object.assign(fp, this.clockFinal);
    fp.frame_ms_in_use = this.timer ? round3(this.timer.frameMs) : null;
    fp.remeasurements = this.remeasurements;
    fp.warnings = [...fp.warnings, ...this.remeasurements.flatMap((m) => m.warnings.map((w) => `After a display change (${m.reason}): ${w}`))];
    fp.pause_count = this.pauses.length;
    fp.paused_ms_total = round3(this.pauses.reduce((a, e) => a + e.pause_ms, 0));
    return { ...fp, ...this.attention };
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
      time_origin: 'stimulus_onset_ms, stimulus_offset_ms, trial_start_ms and trial_end_ms are ms since run start (performance.now clock; onsets and offsets are animation-frame timestamps)',
      timing: this.fingerprint(),
      pauses: this.pauses,
      clock_events: this.clockWatch ? this.clockWatch.events : [],
      wall_clock_offset_ms: this.clockWatch ? this.clockWatch.offsetMs() : 0,
      trial_count: this.nextIndex(),
    };
    if (this.abortReason) p.abort_reason = this.abortReason;
    if (this.interruptions.length) p.interruptions = this.interruptions;
    if (this.markers) p.lsl = this.lsl ?? this.markers.info();
    if (this.unsupported.length) p.unsupported = this.unsupported;
    if (withTrials) {
      if (this.clockWatch) {
        this.clockWatch.check('finish', (mono) => this.clockInfo(mono));
        p.wall_clock_offset_ms = this.clockWatch.offsetMs();
      }
      p.finished_at = new Date().toISOString();
      p.trials = this.rows;
    }
    return p;
  }

  abort(reason = 'experimenter_abort') {
    if (this.finished || this.aborted) return false;
    if (this.paused) this.endPause(true);
    this.aborted = true;
    this.abortReason = reason;
    if (this.markers) this.markers.emit('abort', performance.now(), { reason, trial_index: this.nextIndex() });
    if (this.current) this.record(this.current.spec, { ended_reason: 'aborted' }, this.current);
    if (this.trialAc) this.trialAc.abort();
    try { this.jsPsych.abortExperiment(''); } catch { /* jsPsych not started */ }
    this.finish('failed');
    return true;
  }

  async finish(status) {
    if (this.finished) return;
    this.finished = true;
    if (this.drt) this.drt.stop('run_end');
    if (this.eyeTracker) this.eyeTracker.stop(); // the last gaze samples, before the payload
    if (this.clock) this.clockFinal = this.clock.snapshot();
    if (this.stopClockWatch) this.stopClockWatch();
    if (this.queue) this.queue.stop();
    if (this.markers) this.lsl = await this.markers.close(this, status);
    // A preview that ran refused parts (?allow_unsupported=1) is never a completed run.
    if (this.unsupported.length && status === 'completed') status = 'preview-unsupported';
    const summary = computeSummary(this.rows, { taskType: this.config.task_type ?? null, status });
    // After a resume only this page's rows are here (the earlier ones are never read back).
    if (this.firstIndex > 0) summary.computed_from_trial_index = this.firstIndex;
    const payload = this.payload(status);
    if (this.preview) {
      ui.showPreviewEnd(this.root, summary, this.unsupported);
      const msg = { type: 'cogflow:preview-finished', status, result_summary: summary, result_payload: payload };
      for (const w of [window.parent, window.opener]) if (w && w !== window) w.postMessage(msg, location.origin);
      window.cogflowResult = msg;
      return;
    }
    ui.showMessage(this.root, { title: 'Saving your responses…', body: 'Please wait.' });
    if (this.queue) await this.queue.keepPayload({ ...this.payload(status, false), result_summary: summary });
    const res = await submitWithRetry({
      run_session_id: this.start.run_session_id, status, trial_count: this.nextIndex(),
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
    const kept = this.queue ? await this.queue.keepSealed(this.rows, { ...this.payload(status, false), result_summary: summary }, this.nextIndex()) : false;
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

// Hooks for the desktop shell (the kiosk's exit dialog): pause and resume the running study.
// Both return true when they took effect.
if (typeof window !== 'undefined') {
  window.cogflowPause = () => Boolean(window.cogflowRun && window.cogflowRun.pause());
  window.cogflowResume = () => Boolean(window.cogflowRun && window.cogflowRun.resume());
}
