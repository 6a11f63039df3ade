// Block expansion: `length` trials of one component, each with its own sampled values (recorded
// under the config's field names in spec.meta.sampled), task generators, RDM direction
// schedules, n-back sequences or streams, and mini-block breaks.

import { KNOWN_COMPONENTS, RDM_TYPES } from './catalogue.js';
import { listFields, specFor } from './component-specs.js';
import { directionSchedule, directionSwitchPoints, emotionalStroopTrial, nbackSequence, sartTrial, stroopTrial,
  taskSwitchingTrial } from './generators.js';
import { GABOR_ALL, gaborSpecs } from './gabor-blocks.js';
import { CIP_TYPE, cipSpecs } from './cip-sequence.js';
import { makeRng } from './prng.js';
import { NBACK_TYPES, resolveParams } from './params.js';
import { optionsOf, sampleBlockParams, windowEntries } from './sampling.js';
import { blockValues, isContinuousNback, isContinuousRdm, miniblockOf } from './support.js';

const ADAPTIVE_KEYS = ['algorithm', 'initial_coherence', 'step_size', 'target_performance', 'min_coherence', 'max_coherence',
  'beta', 'delta', 'gamma', 'start_sd', 'psychometric'];
const QUEST_KEYS = ['beta', 'delta', 'gamma', 'start_sd', 'psychometric'];
const SCHEDULE_KEYS = ['direction_transition_mode', 'direction_transition_every_n_trials', 'direction_transition_count'];

export function unsupportedSpec(path, meta, originalType) {
  return [{ component_type: 'unsupported', params: { original_type: originalType ?? null }, meta: { ...meta, path } }];
}

// Continuous RDM parameter frames last one update interval; n-back streams one SOA.
export function rdmFrameMs(config) {
  const ui = Number(config.update_interval_ms ?? config.update_interval);
  if (ui > 0) return ui;
  const fr = Number(config.frame_rate);
  return fr > 0 ? Math.max(1, Math.round(1000 / fr)) : 100;
}

export function nbackSoaMs(p) {
  const trial = Number(p.trial_duration_ms);
  if (trial > 0) return trial;
  return Math.max(0, Number(p.stimulus_duration_ms ?? 500)) + Math.max(0, Number(p.isi_duration_ms ?? 700));
}

function blockLength(block, config, msPerTrial) {
  const length = Math.max(0, Math.floor(Number(block.length ?? block.block_length ?? 1)));
  const mode = String(block.block_sizing_mode ?? block.sizing_mode ?? '').toLowerCase();
  const seconds = Number(block.block_duration_seconds ?? block.duration_seconds);
  if (mode !== 'by_duration' || !(seconds > 0) || !(msPerTrial > 0)) return length;
  const cap = Number(config.duration);
  const s = cap > 0 ? Math.min(seconds, cap) : seconds;
  return Math.max(1, Math.round((s * 1000) / msPerTrial));
}

// Values of the sampled names as they were finally used (after generators), under the
// config's own names (RDM renames some internally, e.g. coherent_direction).
function sampledOf(params, names, drawn = {}) {
  const out = {};
  for (const k of names) {
    const v = params[k] !== undefined ? params[k] : drawn[k];
    if (v !== undefined) out[k] = v;
  }
  return out;
}

export function applyGenerators(type, params, rng, { index = null, digits = null, inBlock = false } = {}) {
  if (type === 'sart-trial') return sartTrial(params, rng, digits);
  if (type === 'stroop-trial') return stroopTrial(params, rng);
  if (type === 'emotional-stroop-trial') return emotionalStroopTrial(params, rng, inBlock);
  if (type === 'task-switching-trial') return taskSwitchingTrial(params, rng, index);
  if (type === 'image-keyboard-response' && !params.stimulus && Array.isArray(params.stimulus_images) && params.stimulus_images.length) {
    return { ...params, stimulus: rng.pick(params.stimulus_images) };
  }
  return params;
}

// N-back: a trial per item (trial-based), or one stream with a constant SOA (continuous).
export function nbackSpecs(config, params, seed, meta, sampled = {}) {
  const seq = nbackSequence(params, makeRng(seed));
  const rest = params;
  if (isContinuousNback(config)) {
    return [{
      component_type: 'nback-continuous',
      params: { ...rest, sequence: seq.map((s) => ({ token: s.token, is_match: s.is_match })), length: seq.length },
      meta: { ...meta, sequence_seed: seed, sequence_length: seq.length, sampled },
    }];
  }
  return seq.map((s) => ({
    component_type: 'nback-trial-sequence',
    params: { ...rest, token: s.token, is_match: s.is_match, n: s.n },
    meta: { ...meta, sequence_index: s.sequence_index, sequence_seed: seed, sequence_length: seq.length, sampled },
  }));
}

function directionSequences(type, values, length, rng) {
  const mode = String(values.direction_transition_mode ?? 'random_each_trial').toLowerCase();
  if (mode !== 'every_n_trials' && mode !== 'exact_count') return {};
  const keys = type === 'rdm-dot-groups' ? ['group_1_direction', 'group_2_direction'] : ['direction'];
  const points = directionSwitchPoints(length, mode, values.direction_transition_every_n_trials, values.direction_transition_count, rng);
  const out = {};
  for (const k of keys) {
    const opts = optionsOf(values[k]);
    const list = Array.isArray(opts) ? opts : opts && opts.range ? Array.from({ length: opts.range.hi - opts.range.lo + 1 }, (_, i) => opts.range.lo + i) : null;
    if (list && list.length) out[k] = directionSchedule(list, length, points, rng);
  }
  return out;
}

function miniblockBreaks(specs, block, meta) {
  const mb = miniblockOf(block);
  const total = specs.length;
  if (!mb || total < 2) return specs;
  const every = Number.parseInt(mb.break_every_n_trials, 10);
  const per = Number.parseInt(mb.trials_per_block, 10);
  const parts = Number.parseInt(mb.num_blocks, 10);
  const after = new Set();
  if (every > 0) for (let i = every; i < total; i += every) after.add(i);
  else if (per > 0) for (let i = per; i < total; i += per) after.add(i);
  else if (parts > 1) for (let k = 1; k < parts; k++) { const i = Math.round((k * total) / parts); if (i > 0 && i < total) after.add(i); }
  if (!after.size) return specs;
  const points = [...after].sort((a, b) => a - b);
  const forced = mb.force_wait_for_break === true || mb.force_wait_for_break === 'true';
  const sec = Number(mb.break_duration_sec);
  const params = {
    message: typeof mb.break_message === 'string' && mb.break_message.trim() ? mb.break_message : 'Take a short break.\n\nPress the key below when you are ready to continue.',
    keys: mb.break_escape_keys ?? 'space', force_wait: forced, duration_ms: sec > 0 ? Math.max(250, Math.round(sec * 1000)) : 30000,
    total: points.length,
  };
  const out = [];
  specs.forEach((s, i) => {
    out.push(s);
    const k = points.indexOf(i + 1);
    if (k >= 0) out.push({ component_type: 'miniblock-break', params: { ...params, index: k + 1 }, meta: { ...meta, miniblock_break_index: k + 1, miniblock_break_total: points.length } });
  });
  return out;
}

export function compileBlock(block, path, ctx, meta) {
  const config = ctx.config;
  const type = block.component_type ?? block.block_component_type;
  const blockIndex = ctx.blockCounter++;
  const m = { ...meta, path, block_index: blockIndex };
  const lbl = block.label ?? block.name;
  if (lbl !== undefined) m.label = lbl;
  if (block.data && typeof block.data === 'object') m.data = block.data;
  if (!KNOWN_COMPONENTS.has(type) || specFor(type)?.noBlock) return unsupportedSpec(path, m, type ? `block:${type}` : 'block');
  const seed = ctx.seedFor(block.seed, path, meta);
  m.block_seed = seed;
  const rng = makeRng(seed);
  if (type === CIP_TYPE) return miniblockBreaks(cipSpecs(block, { config, rng, isBlock: true, streamId: `${path}#${meta.iterKey ?? ''}`, meta: m }), block, m);
  if (GABOR_ALL.has(type)) {
    return gaborSpecs(block, { type, block: true, config, resolve: (own) => resolveParams(config, 'gabor-trial', own), rng, length: blockLength(block, config, 0), seed, id: `${path}#${meta.iterKey ?? ''}`, meta: m });
  }
  const values = blockValues(block, type);
  const lists = listFields(type);
  if (NBACK_TYPES.has(type)) {
    // The sequence is one block-wide draw; a list value is picked once for the block.
    const { params: drawn, sampled } = sampleBlockParams(values, block.parameter_windows, rng, lists);
    const params = resolveParams(config, type, drawn);
    const length = blockLength(block, config, isContinuousNback(config) ? nbackSoaMs(params) : 0);
    return nbackSpecs(config, { ...params, length }, seed, m, sampledOf(params, sampled, drawn));
  }
  const length = blockLength(block, config, isContinuousRdm(config) && RDM_TYPES.has(type) ? rdmFrameMs(config) : 0);
  // Block-wide draws: direction schedules and the staircase settings.
  const schedules = RDM_TYPES.has(type) ? directionSequences(type, values, length, rng) : {};
  for (const k of SCHEDULE_KEYS) delete values[k];
  let adaptive = null;
  let adaptiveSampled = {};
  if (type === 'rdm-adaptive') {
    const own = {};
    const ownWindows = [];
    for (const k of ADAPTIVE_KEYS) if (k in values) { own[k] = values[k]; delete values[k]; }
    const windows = windowEntries(block.parameter_windows).filter(([k]) => ADAPTIVE_KEYS.includes(k));
    for (const [k, w] of windows) ownWindows.push({ parameter: k, min: w.min, max: w.max });
    const { params: a, sampled } = sampleBlockParams(own, ownWindows, rng);
    const p = resolveParams(config, type, a, block.response_parameters_override);
    adaptive = {
      id: `${path}#${meta.iterKey ?? ''}`,
      algorithm: String(p.algorithm ?? 'quest').toLowerCase(), // the reference Interpreter's default
      ...Object.fromEntries(QUEST_KEYS.filter((k) => p[k] !== undefined).map((k) => [k, p[k]])),
      initial_coherence: Number(p.initial_coherence ?? p.coherence ?? 0.5),
      step_size: Number(p.step_size ?? 0.05),
      target_performance: Number(p.target_performance ?? 0.82),
      min_coherence: Number(p.min_coherence ?? 0),
      max_coherence: Number(p.max_coherence ?? 1),
    };
    adaptiveSampled = sampledOf(p, sampled, a);
  }
  const windows = windowEntries(block.parameter_windows).filter(([k]) => !(adaptive && ADAPTIVE_KEYS.includes(k)))
    .map(([k, w]) => ({ parameter: k, min: w.min, max: w.max }));
  const perBlock = block.sampling_mode === 'per-block' ? sampleBlockParams(values, windows, rng, lists) : null;
  const digits = type === 'sart-trial' && Array.isArray(values.digit) ? values.digit : null;
  const specs = [];
  for (let i = 0; i < length; i++) {
    const draw = perBlock ?? sampleBlockParams(values, windows, rng, lists);
    const own = { ...draw.params };
    const names = [...draw.sampled];
    for (const [k, seq] of Object.entries(schedules)) { own[k] = seq[i]; if (!names.includes(k)) names.push(k); }
    let params = resolveParams(config, type, own, block.response_parameters_override);
    params = applyGenerators(type, params, rng, { index: i, digits, inBlock: true });
    if (type === 'pvt-trial' && block.add_trial_per_false_start !== undefined) {
      params.add_trial_per_false_start = Boolean(block.add_trial_per_false_start);
    }
    if (adaptive) params.adaptive = adaptive;
    const sampled = { ...adaptiveSampled, ...sampledOf(params, names, own) };
    specs.push({ component_type: type, params, meta: { ...m, block_trial_index: i, block_length: length, sampled } });
  }
  return miniblockBreaks(specs, block, m);
}
