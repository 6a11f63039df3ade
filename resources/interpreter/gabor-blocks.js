// Gabor block expansion (pure, seeded): per-trial sampling plus the block-level designs of the
// reference Interpreter: cue presence gating, spatial-cue validity coupled to the target side,
// target-side bias, value-target coupling, reward availability per value, balanced schedules,
// QUEST / staircase blocks and learning blocks. Block-level keys fall back to `gabor_settings`
// (`spatial_cue_validity` there is the default `spatial_cue_validity_probability`).

import { sampleValue, sampleWindow, windowEntries, withoutInherit } from './sampling.js';

export const GABOR_TYPES = new Set(['gabor-trial', 'gabor-quest']);
export const GABOR_ALL = new Set([...GABOR_TYPES, 'gabor-learning']);

// Keys that describe the block's design, not one trial.
export const BLOCK_KEYS = new Set([
  'spatial_cue_enabled', 'spatial_cue_probability', 'spatial_cue_validity', 'spatial_cue_validity_probability',
  'spatial_cue_target_mode', 'target_left_probability', 'value_cue_enabled', 'value_cue_probability',
  'value_non_target_value', 'reward_availability_high', 'reward_availability_low', 'reward_availability_neutral',
  'spatial_cue_options', 'left_value_options', 'right_value_options', 'adaptive', 'algorithm',
  'learning_streak_length', 'learning_target_accuracy', 'learning_max_trials', 'learning_accuracy_start_trial',
]);

const finite = (v) => v !== null && v !== undefined && v !== '' && Number.isFinite(Number(v));
const clamp01 = (v) => Math.min(1, Math.max(0, Number(v)));
const lower = (v) => String(v ?? '').trim().toLowerCase();
const list = (v) => (v === undefined || v === null ? [] : Array.isArray(v) ? v : [v]);
const has = (o, k) => Object.prototype.hasOwnProperty.call(o, k);

// The block's design options: block values first, then gabor_settings.
export function blockOptions(values, settings = {}) {
  const pick = (k, ...alts) => {
    if (values[k] !== undefined) return values[k];
    for (const a of [k, ...alts]) if (settings[a] !== undefined) return settings[a];
    return undefined;
  };
  const o = {
    spatialCues: list(values.spatial_cue ?? settings.spatial_cue_options),
    leftValues: list(values.left_value ?? settings.left_value_options),
    rightValues: list(values.right_value ?? settings.right_value_options),
    targetLocations: list(values.target_location).map(lower),
    pLeft: pick('target_left_probability'),
    pValid: pick('spatial_cue_validity_probability', 'spatial_cue_validity'),
    cueMode: lower(pick('spatial_cue_target_mode') ?? 'couple_target_to_cue'),
    valueTarget: lower(pick('value_target_value') ?? 'any'),
    valueNonTarget: lower(pick('value_non_target_value') ?? 'any'),
    avail: { high: pick('reward_availability_high'), low: pick('reward_availability_low'), neutral: pick('reward_availability_neutral') },
  };
  const src = { ...settings, ...values };
  o.spatialGate = has(src, 'spatial_cue_enabled') || has(src, 'spatial_cue_probability');
  o.valueGate = has(src, 'value_cue_enabled') || has(src, 'value_cue_probability');
  o.spatialOn = has(src, 'spatial_cue_enabled') ? src.spatial_cue_enabled === true : true;
  o.valueOn = has(src, 'value_cue_enabled') ? src.value_cue_enabled === true : true;
  o.pSpatial = has(src, 'spatial_cue_probability') ? clamp01(src.spatial_cue_probability) : 1;
  o.pValue = has(src, 'value_cue_probability') ? clamp01(src.value_cue_probability) : 1;
  o.bothSides = o.targetLocations.includes('left') && o.targetLocations.includes('right');
  return o;
}

// Exactly round(n * p) trues, shuffled.
export function balancedBools(n, p, rng) {
  const k = Math.round(n * clamp01(p));
  return rng.shuffle(Array.from({ length: n }, (_, i) => i < k));
}

// Every (a, b) combination once per cycle, each cycle shuffled.
export function balancedPairs(n, as, bs, rng) {
  const combos = as.flatMap((a) => bs.map((b) => [a, b]));
  const out = [];
  while (combos.length && out.length < n) out.push(...rng.shuffle(combos));
  return out.slice(0, n);
}

const uniqueNumbers = (v) => [...new Set(list(v).map(Number).filter(Number.isFinite))];
const nonNeutral = (opts, none) => { const f = opts.filter((x) => lower(x) !== none); return f.length ? f : opts; };

// Cue presence gating: a spatial cue / value cues appear with their probabilities.
function gate(t, o, rng) {
  if (!(o.spatialGate || o.valueGate)) return true;
  const spatial = o.spatialOn && rng() < o.pSpatial;
  const value = o.valueOn && rng() < o.pValue;
  t.spatial_cue = spatial && o.spatialCues.length ? rng.pick(nonNeutral(o.spatialCues, 'none')) : (spatial ? t.spatial_cue ?? 'none' : 'none');
  if (!value) { t.left_value = 'neutral'; t.right_value = 'neutral'; } else {
    if (o.leftValues.length) t.left_value = rng.pick(nonNeutral(o.leftValues, 'neutral'));
    if (o.rightValues.length) t.right_value = rng.pick(nonNeutral(o.rightValues, 'neutral'));
  }
  return value;
}

// Target side, cue validity, value coupling and reward availability for one trial, given the
// plans' draws for it (`plan.left`: target on the left; `plan.valid`: cue valid).
function applyDesign(t, o, plan, rng, valuePresent) {
  if (plan.left !== undefined) t.target_location = plan.left ? 'left' : 'right';
  const cue = lower(t.spatial_cue ?? 'none');
  if (finite(o.pValid) && (cue === 'left' || cue === 'right') && o.cueMode !== 'preserve_target_distribution') {
    t.target_location = plan.valid ? cue : (cue === 'left' ? 'right' : 'left');
  }
  if (['high', 'low', 'neutral'].includes(o.valueTarget) && (!o.valueGate || valuePresent)) {
    let side = plan.left !== undefined ? (plan.left ? 'left' : 'right') : null;
    if (!side) {
      const c = ['left', 'right'].filter((s) => lower(t[`${s}_value`]) === o.valueTarget);
      side = c.length === 1 ? c[0] : (c.length === 2 ? rng.pick(c) : (lower(t.target_location) === 'right' ? 'right' : 'left'));
    }
    t.target_location = side;
    t.value_target_value = o.valueTarget;
    t[`${side}_value`] = o.valueTarget;
    if (['high', 'low', 'neutral'].includes(o.valueNonTarget)) t[`${side === 'left' ? 'right' : 'left'}_value`] = o.valueNonTarget;
  }
  const targetValue = lower(lower(t.target_location) === 'right' ? t.right_value : t.left_value);
  if (finite(o.avail[targetValue])) {
    t.reward_availability_probability = clamp01(o.avail[targetValue]);
    t.reward_available = rng() < t.reward_availability_probability;
  }
  const c2 = lower(t.spatial_cue ?? 'none');
  if (c2 === 'left' || c2 === 'right') t.spatial_cue_valid = lower(t.target_location) === c2;
}

// The block's adaptive procedure (values.adaptive = {mode|algorithm, parameter, ...}); min/max
// default to the parameter's window in the same block (contrast: 0..1).
export function adaptiveSpec(values, windows, id) {
  const a = values.adaptive;
  if (!a || typeof a !== 'object') return null;
  const mode = lower(a.mode ?? a.algorithm ?? values.algorithm ?? 'quest');
  if (!['quest', 'staircase', 'simple'].includes(mode)) return null;
  const parameter = String(a.parameter ?? 'target_tilt_deg');
  const w = windows.find(([k]) => k === parameter)?.[1] ?? {};
  const spec = { ...a, id, mode, parameter };
  if (!finite(a.min_value)) spec.min_value = finite(w.min) ? Number(w.min) : (parameter === 'contrast' ? 0 : undefined);
  if (!finite(a.max_value)) spec.max_value = finite(w.max) ? Number(w.max) : (parameter === 'contrast' ? 1 : undefined);
  for (const k of Object.keys(spec)) if (spec[k] === undefined) delete spec[k];
  return spec;
}

// One block's trials. `resolve(sampled)` merges gabor_settings under the trial's own values.
export function expandGaborBlock(block, { settings = {}, rng, length, resolve, id }) {
  const values = withoutInherit(block.parameter_values);
  const windows = windowEntries(block.parameter_windows);
  const o = blockOptions(values, withoutInherit(settings));
  const adaptive = adaptiveSpec(values, windows, id);
  const trials = [];
  const present = [];
  const sample = () => {
    const own = {};
    for (const [k, v] of Object.entries(values)) if (!BLOCK_KEYS.has(k)) { const s = sampleValue(v, rng).value; if (s !== undefined) own[k] = s; }
    for (const [k, w] of windows) { const s = sampleWindow(k, w, rng); if (s !== undefined) own[k] = s; }
    return own;
  };
  // per-block: one draw of the parameters for every trial (the designs still apply per trial).
  const once = block.sampling_mode === 'per-block' ? sample() : null;
  for (let i = 0; i < length; i++) {
    const own = once ? { ...once } : sample();
    present.push(gate(own, o, rng));
    trials.push(own);
  }
  const n = trials.length;
  const leftPlan = finite(o.pLeft) && o.bothSides ? balancedBools(n, o.pLeft, rng) : null;
  const validPlan = {};
  if (finite(o.pValid)) {
    for (const side of ['left', 'right']) {
      const idx = trials.map((t, i) => (lower(t.spatial_cue) === side ? i : -1)).filter((i) => i >= 0);
      const plan = balancedBools(idx.length, o.pValid, rng);
      idx.forEach((ti, j) => { validPlan[ti] = plan[j]; });
    }
  }
  trials.forEach((t, i) => applyDesign(t, o, { left: leftPlan ? leftPlan[i] : undefined, valid: validPlan[i] }, rng, present[i]));
  const tilts = uniqueNumbers(values.target_tilt_deg);
  const distractors = uniqueNumbers(values.distractor_orientation_deg);
  if (!adaptive && tilts.length && distractors.length) {
    for (const side of ['left', 'right']) {
      const idx = trials.map((t, i) => (lower(t.target_location) === side ? i : -1)).filter((i) => i >= 0);
      const pairs = balancedPairs(idx.length, tilts, distractors, rng);
      idx.forEach((ti, j) => { [trials[ti].target_tilt_deg, trials[ti].distractor_orientation_deg] = pairs[j]; });
    }
  }
  return trials.map((own) => {
    const params = resolve(own);
    for (const k of BLOCK_KEYS) delete params[k];
    if (adaptive) params.adaptive = adaptive;
    return { params, own_keys: Object.keys(own) };
  });
}

// Learning blocks: trials are made one at a time until the criterion is met, so the balanced
// schedules are laid out for `learning_max_trials` up front (as the reference does).
export function learningOptions(src) {
  const streak = Math.max(1, Math.round(finite(src.learning_streak_length) ? Number(src.learning_streak_length) : 20));
  return {
    streak_length: streak,
    target_accuracy: finite(src.learning_target_accuracy) ? clamp01(src.learning_target_accuracy) : 0.9,
    max_trials: Math.max(1, Math.round(finite(src.learning_max_trials) ? Number(src.learning_max_trials) : 200)),
    accuracy_start_trial: Math.max(1, Math.round(finite(src.learning_accuracy_start_trial) ? Number(src.learning_accuracy_start_trial) : streak)),
    show_feedback: src.show_feedback !== false,
    feedback_duration_ms: finite(src.feedback_duration_ms) ? Math.max(0, Number(src.feedback_duration_ms)) : 800,
  };
}

// Continue while fewer than accuracy_start_trial trials were run or the rolling accuracy over
// the last streak_length trials is below target; stop at max_trials.
export function learningDone(opts, history) {
  if (history.length >= opts.max_trials) return { done: true, reason: 'max_trials' };
  if (history.length < opts.accuracy_start_trial || history.length < opts.streak_length) return { done: false };
  const recent = history.slice(-opts.streak_length);
  const acc = recent.filter(Boolean).length / recent.length;
  return acc >= opts.target_accuracy ? { done: true, reason: 'criterion_met', accuracy: acc } : { done: false, accuracy: acc };
}

// `values` / `windows`: the learning block's parameter_values and parameter_windows.
export function learningTrialMaker(values0, windowsRaw, settings, rng) {
  const values = withoutInherit(values0);
  const windows = windowEntries(windowsRaw);
  const o = blockOptions(values, withoutInherit(settings));
  const max = learningOptions(values).max_trials;
  const leftPlan = finite(o.pLeft) && o.bothSides ? balancedBools(max, o.pLeft, rng) : null;
  const validPlans = { left: balancedBools(max, finite(o.pValid) ? o.pValid : 1, rng), right: balancedBools(max, finite(o.pValid) ? o.pValid : 1, rng) };
  const tilts = uniqueNumbers(values.target_tilt_deg);
  const distractors = uniqueNumbers(values.distractor_orientation_deg);
  const pairPlans = { left: balancedPairs(max, tilts, distractors, rng), right: balancedPairs(max, tilts, distractors, rng) };
  const cursor = { left: 0, right: 0, pairLeft: 0, pairRight: 0 };
  return (index) => {
    const t = {};
    for (const [k, v] of Object.entries(values)) if (!BLOCK_KEYS.has(k)) { const s = sampleValue(v, rng).value; if (s !== undefined) t[k] = s; }
    for (const [k, w] of windows) { const s = sampleWindow(k, w, rng); if (s !== undefined) t[k] = s; }
    const valuePresent = gate(t, o, rng);
    const cue = lower(t.spatial_cue);
    const valid = cue === 'left' || cue === 'right' ? validPlans[cue][Math.min(max - 1, cursor[cue]++)] : undefined;
    applyDesign(t, o, { left: leftPlan ? leftPlan[Math.min(max - 1, index)] : undefined, valid }, rng, valuePresent);
    const key = lower(t.target_location) === 'right' ? 'pairRight' : 'pairLeft';
    const pair = pairPlans[key === 'pairRight' ? 'right' : 'left'][Math.min(max - 1, cursor[key]++)];
    if (pair) [t.target_tilt_deg, t.distractor_orientation_deg] = pair;
    return t;
  };
}

// Compiler hook: specs for a Gabor item or block. `block` is null for a single item.
// gabor-trial / gabor-quest blocks expand to gabor-trial specs; a gabor-learning block (or item)
// is one gabor-learning spec whose component runs trials until the criterion is met.
export function gaborSpecs(item, { type, block, config, resolve, rng, length, seed, id, meta }) {
  const settings = config.gabor_settings ?? {};
  if (type === 'gabor-learning') {
    const values = block ? { ...(item.parameter_values ?? {}) } : withoutInherit(Object.fromEntries(Object.entries(item).filter(([k]) => !['type', 'name', 'label', 'seed', 'parameter_windows'].includes(k))));
    return [{ component_type: 'gabor-learning', params: { values, windows: item.parameter_windows ?? null, settings, seed, learning: learningOptions(values) }, meta: { ...meta } }];
  }
  if (!block) {
    const params = resolve(item);
    for (const k of BLOCK_KEYS) if (k !== 'adaptive') delete params[k];
    if (params.adaptive && typeof params.adaptive === 'object') params.adaptive = adaptiveSpec(params, [], id);
    return [{ component_type: type, params, meta: { ...meta, own_keys: Object.keys(withoutInherit(item)) } }];
  }
  return expandGaborBlock(item, { settings, rng, length, resolve, id }).map((t, i) => ({
    component_type: 'gabor-trial', params: t.params, meta: { ...meta, block_trial_index: i, block_length: length, own_keys: t.own_keys },
  }));
}
