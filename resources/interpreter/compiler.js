// Config -> flat list of trial specs. Pure (no DOM, no jsPsych): the runtime turns each spec
// into a jsPsych trial through the component modules. All randomness is seeded from the run
// seed (or an explicit block/group seed), so a run can be replayed from its recorded seed.

import { KNOWN_COMPONENTS, RDM_TYPES, SETTINGS_KEY } from './catalogue.js';
import { normalizeChoices } from './keys.js';
import { hashSeed, makeRng } from './prng.js';
import { resolveRdmParams } from './rdm-params.js';
import { sampleBlockParams, withoutInherit } from './sampling.js';
import { nbackSequence, sartTrial, stroopTrial, taskSwitchingTrial } from './generators.js';
import { CIP_TYPE, cipSpecs } from './cip-sequence.js';

const KEYBOARD_SCREENS = new Set(['html-keyboard-response', 'instructions', 'image-keyboard-response']);
const NBACK_TYPES = new Set(['nback-trial-sequence', 'nback-block']);
const ITI_FROM_DEFAULT = new Set(['pvt-trial', 'task-switching-trial', ...RDM_TYPES]);
const ITEM_ONLY_KEYS = new Set(['type', 'items', 'name', 'label']);

function hasSeed(s) {
  return s !== undefined && s !== null && s !== '';
}

// Defaults from `*_settings`, then the component's own (or sampled) values.
export function resolveParams(config, type, own, blockOverride) {
  if (RDM_TYPES.has(type)) return resolveRdmParams(config, own, blockOverride);
  const settingsKey = SETTINGS_KEY[type];
  const base = settingsKey ? withoutInherit(config[settingsKey]) : {};
  const params = { ...base, ...withoutInherit(own) };
  for (const k of ITEM_ONLY_KEYS) delete params[k];
  if (ITI_FROM_DEFAULT.has(type) && params.iti_ms === undefined && Number.isFinite(Number(config.default_iti))) {
    params.iti_ms = Number(config.default_iti);
  }
  if (KEYBOARD_SCREENS.has(type)) params.choices = normalizeChoices(params.choices);
  return params;
}

function unsupported(item, path, meta, originalType) {
  return [{ component_type: 'unsupported', params: { original_type: originalType ?? null }, meta: { ...meta, path } }];
}

function label(item) {
  return item.label ?? item.name ?? undefined;
}

function compileComponent(item, path, ctx, meta) {
  const type = item.type;
  const m = { ...meta, path };
  if (label(item) !== undefined) m.label = label(item);
  if (NBACK_TYPES.has(type)) {
    const params = resolveParams(ctx.config, type, item);
    return nbackSpecs(params, ctx.seedFor(item.seed, path, meta), m);
  }
  const rng = makeRng(ctx.seedFor(undefined, path, meta));
  if (type === CIP_TYPE) return cipSpecs(item, { config: ctx.config, rng, isBlock: false, streamId: `${path}#${meta.iterKey ?? ''}`, meta: m });
  let params = resolveParams(ctx.config, type, item);
  params = applyGenerators(type, params, rng, null);
  return [{ component_type: type, params, meta: m }];
}

function applyGenerators(type, params, rng, block) {
  if (type === 'sart-trial') {
    const digits = block && Array.isArray(block.parameter_values?.digit) ? block.parameter_values.digit : null;
    return sartTrial(params, rng, digits);
  }
  if (type === 'stroop-trial' || type === 'emotional-stroop-trial') return stroopTrial(params, rng);
  if (type === 'task-switching-trial') return taskSwitchingTrial(params, rng);
  if (type === 'image-keyboard-response' && !params.stimulus && Array.isArray(params.stimulus_images) && params.stimulus_images.length) {
    return { ...params, stimulus: rng.pick(params.stimulus_images) };
  }
  return params;
}

function nbackSpecs(params, seed, meta) {
  const seq = nbackSequence(params, makeRng(seed));
  const { stimulus_pool: _pool, ...rest } = params;
  return seq.map((s) => ({
    component_type: 'nback-trial-sequence',
    params: { ...rest, token: s.token, is_match: s.is_match, n: s.n },
    meta: { ...meta, sequence_index: s.sequence_index, sequence_seed: seed, sequence_length: seq.length },
  }));
}

function compileBlock(block, path, ctx, meta) {
  const type = block.component_type ?? block.block_component_type;
  const blockIndex = ctx.blockCounter++;
  const m = { ...meta, path, block_index: blockIndex };
  if (label(block) !== undefined) m.label = label(block);
  if (!KNOWN_COMPONENTS.has(type)) return unsupported(block, path, m, type ? `block:${type}` : 'block');
  const length = Math.max(0, Math.floor(Number(block.length ?? block.block_length ?? 1)));
  const seed = ctx.seedFor(block.seed, path, meta);
  m.block_seed = seed;
  const rng = makeRng(seed);
  if (type === CIP_TYPE) return cipSpecs(block, { config: ctx.config, rng, isBlock: true, streamId: `${path}#${meta.iterKey ?? ''}`, meta: m });
  if (NBACK_TYPES.has(type)) {
    const params = resolveParams(ctx.config, type, sampleBlockParams(block, rng));
    return nbackSpecs({ ...params, length }, seed, m);
  }
  const perBlock = block.sampling_mode === 'per-block' ? sampleBlockParams(block, rng) : null;
  const specs = [];
  let adaptive = null;
  for (let i = 0; i < length; i++) {
    const sampled = perBlock ?? sampleBlockParams(block, rng);
    let params = resolveParams(ctx.config, type, sampled, block.response_parameters_override);
    params = applyGenerators(type, params, rng, block);
    if (type === 'pvt-trial' && block.add_trial_per_false_start !== undefined) {
      params.add_trial_per_false_start = Boolean(block.add_trial_per_false_start);
    }
    if (type === 'rdm-adaptive') {
      // The staircase settings are drawn once per block; every trial shares the staircase.
      adaptive ??= {
        id: `${path}#${meta.iterKey ?? ''}`,
        algorithm: params.algorithm ?? 'staircase',
        initial_coherence: Number(params.initial_coherence ?? params.coherence ?? 0.5),
        step_size: Number(params.step_size ?? 0.05),
        target_performance: Number(params.target_performance ?? 0.75),
        min_coherence: Number(params.min_coherence ?? 0.01),
        max_coherence: Number(params.max_coherence ?? 1),
      };
      params.adaptive = adaptive;
    }
    specs.push({ component_type: type, params, meta: { ...m, block_trial_index: i, block_length: length } });
  }
  return specs;
}

// DRT start..stop spans move as one unit; instruction screens keep their place.
function shuffleUnits(chunks, items, rng) {
  const units = [];
  let open = null;
  items.forEach((item, i) => {
    const t = item && item.type;
    if (open) {
      open.chunks.push(chunks[i]);
      if (t === 'detection-response-task-stop') { units.push(open); open = null; }
      return;
    }
    if (t === 'detection-response-task-start') { open = { fixed: false, chunks: [chunks[i]] }; return; }
    units.push({ fixed: KEYBOARD_SCREENS.has(t) && t !== 'image-keyboard-response', chunks: [chunks[i]] });
  });
  if (open) units.push(open);
  const movable = rng.shuffle(units.filter((u) => !u.fixed));
  let j = 0;
  return units.map((u) => (u.fixed ? u : movable[j++])).flatMap((u) => u.chunks);
}

function compileItems(items, path, ctx, meta) {
  if (!Array.isArray(items)) return [];
  return items.map((item, i) => compileItem(item, `${path}/${i}`, ctx, meta));
}

function compileItem(item, path, ctx, meta) {
  if (!item || typeof item !== 'object' || Array.isArray(item)) return unsupported(item, path, meta, typeof item);
  const t = item.type;
  if (t === 'loop') {
    const n = Math.min(10000, Math.max(1, Math.floor(Number(item.iterations ?? 1))));
    const out = [];
    for (let k = 0; k < n; k++) {
      const iterKey = `${meta.iterKey ?? ''}${path}:${k};`;
      const inner = { ...meta, loop_iteration: k, iterKey };
      if (item.loop_id !== undefined) inner.loop_id = item.loop_id;
      out.push(...compileItems(item.items, `${path}/items`, ctx, inner).flat());
    }
    return out;
  }
  if (t === 'randomize-group' || t === 'randomize-across-markers') {
    const chunks = compileItems(item.items, `${path}/items`, ctx, meta);
    const rng = makeRng(ctx.seedFor(item.seed, `${path}/shuffle`, meta));
    return shuffleUnits(chunks, item.items, rng).flat();
  }
  if (t === 'block') return compileBlock(item, path, ctx, meta);
  if (t === 'mouse-tracking') return []; // a run-level setting (mouse-tracking.js), not a trial
  if (KNOWN_COMPONENTS.has(t)) return compileComponent(item, path, ctx, meta);
  return unsupported(item, path, meta, t);
}

// Continuous RDM: consecutive RDM trials form one segment whose parameter frames follow each other.
function groupContinuousRdm(specs, config) {
  const out = [];
  const frameMs = Number(config.update_interval) > 0 ? Number(config.update_interval)
    : Math.round(1000 / (Number(config.frame_rate) > 0 ? Number(config.frame_rate) : 60));
  for (const s of specs) {
    const last = out[out.length - 1];
    if (RDM_TYPES.has(s.component_type)) {
      if (last && last.component_type === 'rdm-continuous' && last.meta.path.split('/')[2] === s.meta.path.split('/')[2]) {
        last.params.frames.push({ ...s.params, source_type: s.component_type });
        continue;
      }
      out.push({ component_type: 'rdm-continuous', params: { frames: [{ ...s.params, source_type: s.component_type }], update_interval_ms: frameMs, transition: config.transition_settings ?? null }, meta: { ...s.meta } });
      continue;
    }
    out.push(s);
  }
  return out;
}

export function compileConfig(config, options = {}) {
  if (!config || typeof config !== 'object') throw new TypeError('config must be an object');
  const runSeed = hasSeed(config.seed) ? config.seed : options.runSeed;
  if (!hasSeed(runSeed)) throw new Error('compileConfig needs config.seed or options.runSeed');
  const ctx = {
    config,
    blockCounter: 0,
    // A seed for one item: its own seed (plus the loop iteration, so loops re-sample),
    // else one derived from the run seed and the item's place in the timeline.
    seedFor(own, path, meta) {
      const iter = meta.iterKey ?? '';
      if (hasSeed(own)) return iter ? hashSeed(`${own}|${iter}`) : hashSeed(own);
      return hashSeed(`${runSeed}|${path}|${iter}`);
    },
  };
  let chunks = compileItems(config.timeline, '/timeline', ctx, {});
  if (config.randomize_order) {
    chunks = shuffleUnits(chunks, config.timeline, makeRng(hashSeed(`${runSeed}|randomize_order`)));
  }
  let trials = chunks.flat();
  for (const s of trials) delete s.meta.iterKey;
  if (config.experiment_type === 'continuous' && config.task_type === 'rdm') trials = groupContinuousRdm(trials, config);
  return { trials, run_seed: runSeed };
}
