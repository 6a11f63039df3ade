// Adaptive procedures for Gabor and RDM blocks, chosen by the config's `algorithm` /
// `adaptive.mode`: QUEST (quest.js), the weighted up/down staircase (Kaernbach 1991) and the
// simple 1-up/1-down. Higher values are easier (coherence, contrast, tilt magnitude), so a
// correct answer lowers the value. Pure: no DOM, no randomness.

import { createQuest } from './quest.js';

// Resuming a run after its page died (resume.js): a procedure is rebuilt by replaying its
// updates on a fresh one made from the same options; the result is bit-identical because
// every step is deterministic. `resumeRecord()` gives the plain data this needs.
const RECORD = 'resumeRecord';

// Wraps `obj.update` so each call (with the value it actually used) is remembered.
function recordUpdates(obj, kind, opts, valueAt = null) {
  const updates = [];
  const inner = obj.update;
  obj.update = function update(...args) {
    if (valueAt !== null && args[valueAt] === undefined) args[valueAt] = this.lastValue ?? null;
    updates.push(args.map((a) => (a === undefined ? null : a)));
    return inner.apply(this, args);
  };
  Object.defineProperty(obj, RECORD, {
    enumerable: false,
    // The update arrays are never changed once pushed: a shallow copy of the list will do.
    value() { return { kind, opts, updates: updates.slice(), lastValue: this.lastValue ?? null }; },
  });
  return obj;
}

// The procedure a resumeRecord describes, in the state it had; null for an unknown record.
export function fromResumeRecord(record) {
  if (!record || !Array.isArray(record.updates)) return null;
  let obj;
  if (record.kind === 'procedure') obj = createProcedure(record.opts ?? {});
  else if (record.kind === 'gabor') obj = createGaborAdaptive(record.opts ?? {});
  else return null;
  for (const args of record.updates) obj.update(...args);
  if (record.kind === 'procedure' && record.lastValue !== undefined) obj.lastValue = record.lastValue;
  return obj;
}

export const hasResumeRecord = (v) => Boolean(v) && typeof v[RECORD] === 'function';

const finite = (v) => v !== null && v !== undefined && v !== '' && Number.isFinite(Number(v));
const clamp = (x, lo, hi) => Math.min(hi, Math.max(lo, x));

// Weighted: an error raises the value by step_size, a correct answer lowers it by
// step_size * (1 - p) / p, so the expected change is zero where p(correct) = p.
// Simple: +-step_size (converges near 50 %).
export function createUpDown(opts = {}) {
  const rule = opts.algorithm === 'simple' ? 'simple' : 'weighted';
  const p = finite(opts.target_performance) ? clamp(Number(opts.target_performance), 0.01, 0.99) : 0.75;
  const stepUp = finite(opts.step_size) && Number(opts.step_size) > 0 ? Number(opts.step_size) : 0.05;
  const stepDown = rule === 'simple' ? stepUp : (stepUp * (1 - p)) / p;
  const lo = finite(opts.min_value) ? Number(opts.min_value) : -Infinity;
  const hi = finite(opts.max_value) ? Number(opts.max_value) : Infinity;
  return {
    algorithm: rule === 'simple' ? 'simple' : 'staircase',
    target_performance: p, stepUp, stepDown,
    value: clamp(finite(opts.start_value) ? Number(opts.start_value) : 0.5, lo, hi),
    reversals: 0, lastDirection: 0, trials: 0, lastValue: null,
    next() {
      this.lastValue = this.value;
      return this.value;
    },
    update(correct) {
      const dir = correct === true ? -1 : +1; // no response counts as an error
      this.value = clamp(this.value + (dir < 0 ? -this.stepDown : this.stepUp), lo, hi);
      if (this.lastDirection !== 0 && dir !== this.lastDirection) this.reversals += 1;
      this.lastDirection = dir;
      this.trials += 1;
    },
    mean() { return this.value; },
    sd() { return null; },
  };
}

export function createProcedure(opts = {}) {
  const algo = String(opts.algorithm ?? opts.mode ?? 'quest').toLowerCase();
  const proc = algo === 'quest' ? createQuest(opts) : createUpDown({ ...opts, algorithm: algo });
  return recordUpdates(proc, 'procedure', opts, 1); // QUEST's update defaults its value
}

// RDM adaptive blocks adapt coherence (0..1). QUEST's prior SD follows the reference
// Interpreter: the block's step size, at least 0.02.
export function rdmProcedureOptions(a = {}) {
  const algorithm = String(a.algorithm ?? 'quest').toLowerCase();
  const start = finite(a.initial_coherence) ? Number(a.initial_coherence) : 0.5;
  const step = finite(a.step_size) ? Number(a.step_size) : 0.05;
  return {
    algorithm, start_value: start, step_size: step,
    start_sd: finite(a.start_sd) ? Number(a.start_sd) : Math.max(0.02, step),
    target_performance: a.target_performance,
    min_value: finite(a.min_coherence) ? Number(a.min_coherence) : (algorithm === 'quest' ? 0 : 0.01),
    max_value: finite(a.max_coherence) ? Number(a.max_coherence) : 1,
    beta: a.beta, delta: a.delta, gamma: a.gamma, psychometric: a.psychometric,
  };
}

// A Gabor QUEST block: one procedure, or one per target side (`staircase_per_location`), and a
// coarse -> fine restart after `quest_trials_coarse` trials of a procedure: the prior is
// re-centred on the current estimate with 40 % of the first SD (at least 0.5), as the reference
// Interpreter does.
export function createGaborAdaptive(spec) {
  const base = { ...spec, algorithm: spec.mode ?? spec.algorithm ?? 'quest' };
  const perLocation = spec.staircase_per_location === true;
  const coarse = finite(spec.quest_trials_coarse) ? Math.max(0, Math.round(Number(spec.quest_trials_coarse))) : 0;
  const procs = {};
  const counts = {};
  const phase = {};
  const keyOf = (loc) => (perLocation ? (loc === 'right' ? 'right' : 'left') : 'all');
  const proc = (loc) => {
    const k = keyOf(loc);
    procs[k] ??= createProcedure(base);
    counts[k] ??= 0;
    phase[k] ??= coarse > 0 ? 'coarse' : 'single';
    return procs[k];
  };
  return recordUpdates({
    parameter: spec.parameter ?? 'target_tilt_deg',
    perLocation,
    key: keyOf,
    procedure: proc,
    phase(loc) { proc(loc); return phase[keyOf(loc)]; },
    next(loc) { return proc(loc).next(); },
    update(loc, correct, value) {
      const k = keyOf(loc);
      const pr = proc(loc);
      pr.update(correct, value);
      counts[k] += 1;
      if (phase[k] === 'coarse' && counts[k] === coarse && pr.algorithm === 'quest') {
        const sd0 = finite(spec.start_sd) ? Number(spec.start_sd) : pr.prior_sd;
        procs[k] = createProcedure({ ...base, start_value: pr.mean(), start_sd: Math.max(0.5, sd0 * 0.4) });
        phase[k] = 'fine';
      }
    },
    estimate(loc) { const pr = proc(loc); return { mean: pr.mean(), sd: pr.sd(), trials: counts[keyOf(loc)] }; },
    thresholds() {
      if (perLocation) return { left: proc('left').mean(), right: proc('right').mean() };
      return { combined: proc('all').mean() };
    },
  }, 'gabor', spec);
}
