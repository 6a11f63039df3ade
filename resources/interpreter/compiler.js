// Config -> flat list of trial specs. Pure (no DOM, no jsPsych): the runtime turns each spec
// into a jsPsych trial through the component modules. All randomness is seeded from the run
// seed (or an explicit block/group seed), so a run can be replayed from its recorded seed.
// What this compiler does not honour is refused beforehand by support.js; anything still
// unknown here becomes a visible "unsupported" trial (only reachable in a researcher preview
// with ?allow_unsupported=1).

import { KNOWN_COMPONENTS } from './catalogue.js';
import { applyGenerators, compileBlock, nbackSpecs, rdmFrameMs, unsupportedSpec } from './blocks.js';
import { GABOR_ALL, gaborSpecs } from './gabor-blocks.js';
import { hashSeed, makeRng } from './prng.js';
import { KEYBOARD_SCREENS, NBACK_TYPES, resolveParams } from './params.js';
import { bracketDrtAroundProbes, groupContinuousRdm, placeProbes } from './schedule.js';
import { applyRewardSwitch, placeRewardSpecs } from './rewards.js';
import { isContinuousRdm } from './support.js';
import { CIP_TYPE, cipSpecs } from './cip-sequence.js';
import { HELPER_KINDS, composeHelpers, helperAsSession } from './components/soc-schedule.js';
import { calibrationPoints, eyeTrackingSettings } from './eye-tracking-config.js';

export { resolveParams } from './params.js';

function hasSeed(s) {
  return s !== undefined && s !== null && s !== '';
}

function itemMeta(item, path, meta) {
  const m = { ...meta, path };
  const lbl = item.label ?? item.name;
  if (lbl !== undefined) m.label = lbl;
  if (item.data && typeof item.data === 'object' && !Array.isArray(item.data)) m.data = item.data;
  return m;
}

function compileComponent(item, path, ctx, meta) {
  const type = item.type;
  const m = itemMeta(item, path, meta);
  if (NBACK_TYPES.has(type)) {
    const params = resolveParams(ctx.config, type, item);
    return nbackSpecs(ctx.config, params, ctx.seedFor(item.seed ?? params.seed, path, meta), m);
  }
  const rng = makeRng(ctx.seedFor(undefined, path, meta));
  if (type === CIP_TYPE) return cipSpecs(item, { config: ctx.config, rng, isBlock: false, streamId: `${path}#${meta.iterKey ?? ''}`, meta: m });
  if (GABOR_ALL.has(type)) {
    return gaborSpecs(item, { type, block: false, config: ctx.config, resolve: (own) => resolveParams(ctx.config, type, own), rng, length: 1, seed: ctx.seedFor(item.seed, path, meta), id: `${path}#${meta.iterKey ?? ''}`, meta: m });
  }
  let params = resolveParams(ctx.config, type, item);
  params = applyGenerators(type, params, rng);
  return [{ component_type: type, params, meta: m }];
}

const isPoolable = (item) => item && (item.type === 'randomize-group' || item.type === 'randomize-across-markers')
  && item.randomizable_across_markers !== false;

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

// One list of sibling items -> specs. Adjacent randomize-groups are shuffled as one pool (the
// reference's default; randomizable_across_markers: false keeps a group to itself), then
// thought probes are placed inside the blocks next to them.
function compileList(items, path, ctx, meta, { shuffleTop = false } = {}) {
  if (!Array.isArray(items)) return [];
  let chunks = [];
  let sources = [];
  for (let i = 0; i < items.length; i++) {
    if (isPoolable(items[i])) {
      const start = i;
      const poolChunks = [];
      const poolItems = [];
      for (; i < items.length && isPoolable(items[i]); i++) {
        const g = items[i];
        const inner = Array.isArray(g.items) ? g.items : [];
        inner.forEach((child, k) => {
          poolChunks.push(compileItem(child, `${path}/${i}/items/${k}`, ctx, meta));
          poolItems.push(child);
        });
      }
      i -= 1;
      const seedOwner = items[start];
      const rng = makeRng(ctx.seedFor(seedOwner.seed, `${path}/${start}/shuffle`, meta));
      chunks.push(shuffleUnits(poolChunks, poolItems, rng).flat());
      sources.push({ type: 'randomize-group' });
      continue;
    }
    if (items[i] && (items[i].type === 'randomize-group' || items[i].type === 'randomize-across-markers')) {
      const g = items[i];
      const inner = Array.isArray(g.items) ? g.items : [];
      const innerChunks = inner.map((child, k) => compileItem(child, `${path}/${i}/items/${k}`, ctx, meta));
      const rng = makeRng(ctx.seedFor(g.seed, `${path}/${i}/shuffle`, meta));
      chunks.push(shuffleUnits(innerChunks, inner, rng).flat());
      sources.push(g);
      continue;
    }
    chunks.push(compileItem(items[i], `${path}/${i}`, ctx, meta));
    sources.push(items[i]);
  }
  if (shuffleTop) chunks = shuffleUnits(chunks, sources, makeRng(hashSeed(`${ctx.runSeed}|randomize_order`)));
  return placeProbes(chunks.flat(), makeRng(ctx.seedFor(undefined, `${path}/probes`, meta)));
}

function compileItem(item, path, ctx, meta) {
  if (!item || typeof item !== 'object' || Array.isArray(item)) return unsupportedSpec(path, meta, typeof item);
  const t = item.type;
  if (t === 'loop') {
    const n = Math.min(10000, Math.max(1, Math.floor(Number(item.iterations ?? item.loop_iterations ?? 1))));
    const out = [];
    for (let k = 0; k < n; k++) {
      const iterKey = `${meta.iterKey ?? ''}${path}:${k};`;
      const inner = { ...meta, loop_iteration: k, iterKey };
      if (item.loop_id !== undefined) inner.loop_id = item.loop_id;
      out.push(...compileList(item.items, `${path}/items`, ctx, inner));
    }
    return out;
  }
  if (t === 'randomize-group' || t === 'randomize-across-markers') return compileList([item], path, ctx, meta);
  if (t === 'block') return compileBlock(item, path, ctx, meta);
  if (t === 'mouse-tracking') return []; // a run-level setting (mouse-tracking.js), not a trial
  // SOC helper items left after composeHelpers: one-window sessions; a lone icon decorates nothing.
  if (HELPER_KINDS[t]) return compileComponent(helperAsSession(item), path, ctx, meta);
  if (t === 'soc-dashboard-icon') return unsupportedSpec(path, itemMeta(item, path, meta), t);
  if (KNOWN_COMPONENTS.has(t)) return compileComponent(item, path, ctx, meta);
  return unsupportedSpec(path, itemMeta(item, path, meta), t);
}

// The reference reads a continuous config without task_type as continuous RDM.
export function effectiveConfig(config) {
  if (config.experiment_type === 'continuous' && (config.task_type === undefined || config.task_type === null || config.task_type === '')) {
    return { ...config, task_type: 'rdm' };
  }
  return config;
}

export function compileConfig(rawConfig, options = {}) {
  if (!rawConfig || typeof rawConfig !== 'object') throw new TypeError('config must be an object');
  const config = applyRewardSwitch(effectiveConfig(rawConfig));
  const runSeed = hasSeed(config.seed) ? config.seed : options.runSeed;
  if (!hasSeed(runSeed)) throw new Error('compileConfig needs config.seed or options.runSeed');
  const ctx = {
    config,
    runSeed,
    blockCounter: 0,
    // A seed for one item: its own seed (plus the loop iteration, so loops re-sample),
    // else one derived from the run seed and the item's place in the timeline.
    seedFor(own, path, meta) {
      const iter = meta.iterKey ?? '';
      if (hasSeed(own)) return iter ? hashSeed(`${own}|${iter}`) : hashSeed(own);
      return hashSeed(`${runSeed}|${path}|${iter}`);
    },
  };
  const timeline = composeHelpers(config); // SOC helper items -> one soc-dashboard session
  let trials = compileList(timeline, '/timeline', ctx, {}, { shuffleTop: Boolean(config.randomize_order) });
  for (const s of trials) delete s.meta.iterKey;
  trials = bracketDrtAroundProbes(trials);
  if (isContinuousRdm(config)) trials = groupContinuousRdm(trials, config, rdmFrameMs(config));
  trials = placeRewardSpecs(trials);
  return { trials: withEyeTracking(trials, config), run_seed: runSeed };
}

// Eye tracking on: camera start and calibration dots before the study, the last samples after.
function withEyeTracking(trials, config) {
  const et = eyeTrackingSettings(config);
  if (!et.enabled) return trials;
  const pts = et.calibration_enabled ? calibrationPoints(et.calibration_points) : [];
  const meta = (i) => ({ path: '/data_collection/eye_tracking', ...(i === undefined ? {} : { sequence_index: i }) });
  return [
    { component_type: 'eye-tracking-start', params: {}, meta: meta() },
    ...pts.map((pt, i) => ({ component_type: 'eye-tracking-calibration', params: { index: i, count: pts.length, x_norm: pt.x, y_norm: pt.y, calibration_key: et.calibration_key }, meta: meta(i) })),
    ...trials,
    { component_type: 'eye-tracking-stop', params: {}, meta: meta() },
  ];
}
