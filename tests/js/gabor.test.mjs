// Gabor: geometry and luminance (pure), the trial design and scoring, the block designs
// (cue validity, value coupling, balanced schedules, adaptive blocks, learning blocks).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compatConfigs, loadSchema } from './helpers.mjs';
import { controlKind, resolve } from '../../resources/builder/forms.js';
import { catalogue, settingsKeyFor } from '../../resources/builder/model.js';
import { compileConfig } from '../../resources/interpreter/compiler.js';
import {
  DEFAULT_PX_PER_DEG, cyclesPerPx, luminanceMapping, maskPixels, patchDiameter, patchPixels, pxPerDeg,
} from '../../resources/interpreter/components/gabor-geometry.js';
import { design, gaborReward, phasePlan, storedThreshold } from '../../resources/interpreter/components/gabor-logic.js';
import { balancedBools, expandGaborBlock, learningDone, learningOptions, learningTrialMaker } from '../../resources/interpreter/gabor-blocks.js';
import { withRewards } from '../../resources/interpreter/components/reward-screens.js';
import { newRewardState, normalizePolicy } from '../../resources/interpreter/rewards.js';
import { makeRng } from '../../resources/interpreter/prng.js';

const byName = Object.fromEntries(compatConfigs().map((c) => [c.name, c.config]));
const gabors = (cfg, seed = 1) => compileConfig(cfg, { runSeed: seed }).trials.filter((t) => t.component_type === 'gabor-trial');

test('px per degree: config, then calibration, then the documented default', () => {
  assert.ok(Math.abs(DEFAULT_PX_PER_DEG - 37.6) < 0.05, String(DEFAULT_PX_PER_DEG));
  assert.deepEqual(pxPerDeg({}, null), { px_per_deg: DEFAULT_PX_PER_DEG, source: 'default' });
  assert.deepEqual(pxPerDeg({}, { px_per_deg: 32.5 }), { px_per_deg: 32.5, source: 'calibration' });
  assert.deepEqual(pxPerDeg({ px_per_deg: 50 }, { px_per_deg: 32.5 }), { px_per_deg: 50, source: 'config' });
  assert.deepEqual(patchDiameter({ patch_diameter_deg: 4 }, 30), { css: 120, deg: 4, source: 'deg' });
  assert.deepEqual(patchDiameter({ patch_diameter_px: 90 }, 30), { css: 90, deg: 3, source: 'px' });
  assert.deepEqual(patchDiameter({}, 30), { css: 180, deg: 6, source: 'default' });
});

test('spatial frequency units (incl. the legacy cycles-per-patch rule)', () => {
  assert.deepEqual(cyclesPerPx({ spatial_frequency_cyc_per_px: 0.08 }, 30, 200), { f: 0.08, unit: 'cyc_per_px' });
  assert.deepEqual(cyclesPerPx({ spatial_frequency_cyc_per_px: 8 }, 30, 200), { f: 0.04, unit: 'cyc_per_patch' });
  assert.deepEqual(cyclesPerPx({ spatial_frequency_cyc_per_deg: 3 }, 30, 200), { f: 0.1, unit: 'cyc_per_deg' });
  assert.deepEqual(cyclesPerPx({ spatial_frequency_cyc_per_patch: 10 }, 30, 200), { f: 0.05, unit: 'cyc_per_patch' });
  assert.deepEqual(cyclesPerPx({ spatial_frequency: 2, spatial_frequency_unit: 'cpd' }, 40, 200), { f: 0.05, unit: 'cyc_per_deg' });
  assert.deepEqual(cyclesPerPx({}, 30, 200), { f: 0.06, unit: 'default' });
});

test('luminance mapping: mean grey at zero modulation, Michelson contrast exact in luminance', () => {
  for (const p of [{}, { luminance_mapping: 'gamma', display_gamma: 2.4 }, { mean_gray: 100 }]) {
    const m = luminanceMapping(p);
    assert.equal(m.code(0), m.mean);
    for (const c of [0.95, 0.5, 0.1]) {
      const hi = m.decode(m.code(c));
      const lo = m.decode(m.code(-c));
      const michelson = (hi - lo) / (hi + lo);
      assert.ok(Math.abs(michelson - c) < 0.02, `${m.kind} c=${c}: ${michelson}`);
    }
  }
  for (const p of [{}, { luminance_mapping: 'gamma' }, { luminance_mapping: 'linear' }, { mean_gray: 30 }]) {
    const m = luminanceMapping(p);
    const rng = makeRng(`lookup-${m.kind}-${m.mean}`);
    for (let i = 0; i < 20000; i++) {
      const x = rng() * 4 - 2;
      assert.equal(m.lookup(x), m.code(x), `${m.kind} ${x}`);
    }
  }
  const lin = luminanceMapping({ luminance_mapping: 'linear' });
  assert.equal(lin.code(0.5), 192);
  assert.equal(lin.code(-1), 0);
});

test('patch pixels: transparent outside the disc, the configured frequency and orientation', () => {
  const mapping = luminanceMapping({});
  const size = 200;
  const freq = 0.05;
  const px = patchPixels(size, { freq, orientationDeg: 0, contrast: 1, wave: 'sinusoidal', mapping });
  assert.equal(px[3], 0, 'corner is transparent');
  assert.equal(px[(100 * size + 100) * 4 + 3], 255);
  // Vertical stripes: a row through the centre crosses the mean 2 * f * width times.
  const row = Array.from({ length: size }, (_, x) => px[(100 * size + x) * 4] - mapping.mean);
  let crossings = 0;
  for (let x = 31; x < 169; x++) if (Math.sign(row[x]) !== Math.sign(row[x + 1]) && row[x] !== 0) crossings += 1;
  assert.ok(Math.abs(crossings - 2 * freq * 138) <= 1, `crossings ${crossings}`);
  const col = Array.from({ length: 60 }, (_, y) => px[((70 + y) * size + 100) * 4]);
  assert.ok(Math.max(...col) - Math.min(...col) <= 30, 'constant along a stripe (envelope only)');
  // +45 and -45 are mirror images.
  const r = patchPixels(64, { freq: 0.1, orientationDeg: 45, contrast: 0.8, wave: 'sinusoidal', mapping });
  const l = patchPixels(64, { freq: 0.1, orientationDeg: -45, contrast: 0.8, wave: 'sinusoidal', mapping });
  for (const [x, y] of [[10, 20], [32, 32], [40, 5], [50, 33]]) assert.equal(r[(y * 64 + x) * 4], l[(y * 64 + (63 - x)) * 4]);
  // The top of a +45 patch leans right: along the stripe through the centre, up-right stays dark/bright like the centre.
  const sq = patchPixels(64, { freq: 0.1, orientationDeg: 0, contrast: 1, wave: 'square', mapping });
  assert.ok(new Set(Array.from({ length: 64 * 64 }, (_, i) => sq[i * 4 + 3] && sq[i * 4])).size > 3);
  const mask = maskPixels(40, 2, makeRng(1));
  assert.equal(mask[(1 * 40 + 20) * 4], mask[(0 * 40 + 20) * 4], 'noise grain is one CSS px (2 device px)');
});

test('trial design: sides, angles, correct keys, catch trials, cue validity', () => {
  const d = design({ target_location: 'right', target_tilt_deg: -30, distractor_orientation_deg: 90, left_key: 'A', spatial_cue: 'right' });
  assert.deepEqual([d.leftAngle, d.rightAngle], [90, -30]);
  assert.equal(d.correctKey, 'a');
  assert.equal(d.cueValid, true);
  assert.equal(design({ target_tilt_deg: 20 }).correctKey, 'j');
  assert.equal(design({ target_tilt_deg: 0 }).correctKey, null, 'a vertical target has no tilt answer');
  const det = design({ response_task: 'detect_target', target_location: 'none', yes_key: 'y', no_key: 'n' });
  assert.equal(det.present, false);
  assert.equal(det.correctKey, 'n');
  assert.deepEqual(det.responseKeys, ['y', 'n']);
  assert.equal(design({ spatial_cue: 'left', target_location: 'right', spatial_cue_valid: true }).cueValid, true, 'a block\'s recorded validity wins');
  assert.equal(design({ spatial_cue: 'both' }).cueValid, null);
});

test('phase plan: value-cue trials use the diamond and value rings; QUEST and learning do not', () => {
  const v = phasePlan({ left_value: 'high' }, design({ left_value: 'high' }), 120);
  assert.equal(v.rewardMain, true);
  assert.equal(v.before[2].diamond, 'cue');
  assert.equal(v.stimulus.rings, 'value');
  assert.deepEqual(v.before.map((p) => p.ms), [1000, 400, 300, 120]);
  const q = phasePlan({ left_value: 'high', adaptive: { mode: 'quest' } }, design({ left_value: 'high' }), 100);
  assert.equal(q.rewardMain, false);
  assert.equal(q.stimulus.rings, 'neutral');
  const plain = phasePlan({ mask_duration_ms: 0 }, design({}), 100);
  assert.equal(plain.before[0].diamond, null);
  assert.equal(plain.mask.ms, 0);
  const primed = phasePlan({ adaptive_practice_prime_enabled: true, fixation_ms: 800 }, design({}), 100);
  assert.deepEqual(primed.before.slice(0, 2).map((p) => [p.phase, p.ms, p.rings]), [['fixation_prime', 200, 'none'], ['fixation', 600, 'neutral']]);
  const cued = phasePlan({ spatial_cue: 'left' }, design({ spatial_cue: 'left' }), 100);
  assert.equal(cued.before[2].diamond, 'cue', 'a spatial cue is always shown');
});

test('the trial\'s own reward: tiered by RT, proportional by value and RT', () => {
  const d = design({ left_value: 'high', target_location: 'left' });
  const on = { reward_feedback_enabled: true };
  assert.equal(gaborReward(on, d, { correct: true, rt: 300 }).reward_points_awarded, 2);
  assert.equal(gaborReward(on, d, { correct: true, rt: 600 }).reward_rt_tier, 'medium');
  assert.equal(gaborReward(on, d, { correct: false, rt: 300 }).reward_points_awarded, null);
  assert.equal(gaborReward({}, d, { correct: true, rt: 300 }).reward_points_awarded, null, 'off by default');
  assert.equal(gaborReward({ ...on, reward_available: false }, d, { correct: true, rt: 300 }).reward_points_awarded, null);
  const prop = { ...on, reward_scoring_mode: 'proportional_linear' };
  const r = gaborReward(prop, d, { correct: true, rt: 600 });
  assert.equal(r.reward_base_points, 50);
  assert.ok(Math.abs(r.reward_bonus_points - 25) < 1e-9);
  assert.equal(gaborReward(prop, design({ right_value: 'low', target_location: 'right' }), { correct: true, rt: 100 }).reward_points_awarded, 10);
  const st = storedThreshold({ parameter: 'target_tilt_deg', left: 7, right: 9 }, 'right', makeRng(2));
  assert.equal(Math.abs(st.value), 9);
  assert.equal(st.source, 'right');
  assert.equal(storedThreshold({ parameter: 'contrast', combined: 0.2 }, 'left', makeRng(2)).value, 0.2);
});

test('gabor_settings: trial defaults under the trial, cue validity as the block default', () => {
  const ts = gabors(byName['GABOR00-gabor-01.json']);
  assert.equal(ts.length, 15);
  for (const t of ts) {
    assert.equal(t.params.fixation_ms, 1000);
    assert.ok(t.params.stimulus_duration_ms >= 100 && t.params.stimulus_duration_ms <= 300, 'the block window wins over gabor_settings');
    assert.equal(t.params.spatial_cue_validity, undefined, 'block design keys are not trial parameters');
    const cue = t.params.spatial_cue;
    if (cue === 'left' || cue === 'right') assert.equal(t.params.spatial_cue_valid, t.params.target_location === cue);
  }
  for (const side of ['left', 'right']) {
    const cued = ts.filter((t) => t.params.spatial_cue === side);
    assert.equal(cued.filter((t) => t.params.spatial_cue_valid).length, Math.round(cued.length * 0.8), side);
  }
});

test('blocks balance tilt x distractor per target side; seeds fix them', () => {
  const a = gabors(byName['SAMPLE000-gabor-01.json'], 1).slice(2);
  const b = gabors(byName['SAMPLE000-gabor-01.json'], 99).slice(2);
  assert.equal(a.length, 6);
  assert.deepEqual(a.map((t) => t.params), b.map((t) => t.params), 'block seed 12345');
  for (const side of ['left', 'right']) {
    const combos = a.filter((t) => t.params.target_location === side).map((t) => `${t.params.target_tilt_deg}/${t.params.distractor_orientation_deg}`);
    assert.equal(new Set(combos).size, Math.min(4, combos.length), `${side}: ${combos}`);
  }
});

test('block designs: target bias, value coupling, cue gating and reward availability', () => {
  const rng = makeRng(5);
  const block = {
    parameter_values: {
      target_location: ['left', 'right'], target_left_probability: 0.25, spatial_cue: ['none', 'left', 'right'],
      left_value: ['high', 'low'], right_value: ['high', 'low'], value_target_value: 'high', value_non_target_value: 'low',
      reward_availability_high: 1, reward_availability_low: 0, value_cue_probability: 1,
    },
  };
  const ts = expandGaborBlock(block, { rng, length: 40, resolve: (own) => ({ ...own }), id: 'x' }).map((t) => t.params);
  assert.equal(ts.filter((t) => t.target_location === 'left').length, 10, 'P(left) = 0.25, balanced');
  for (const t of ts) {
    assert.equal(t[`${t.target_location}_value`], 'high');
    assert.equal(t[`${t.target_location === 'left' ? 'right' : 'left'}_value`], 'low');
    assert.equal(t.reward_available, true);
    assert.equal(t.reward_availability_probability, 1);
    assert.equal(t.value_target_value, 'high');
  }
  const gated = expandGaborBlock({ parameter_values: { spatial_cue: ['none', 'left'], spatial_cue_probability: 0, left_value: ['high'], value_cue_enabled: false } },
    { rng: makeRng(1), length: 20, resolve: (o) => o, id: 'g' }).map((t) => t.params);
  assert.ok(gated.every((t) => t.spatial_cue === 'none' && t.left_value === 'neutral'));
  assert.deepEqual(balancedBools(10, 0.3, makeRng(1)).filter(Boolean).length, 3);
  const perBlock = expandGaborBlock({ sampling_mode: 'per-block', parameter_windows: { contrast: { min: 0.1, max: 0.9 } }, parameter_values: { target_location: ['left', 'right'] } },
    { rng: makeRng(3), length: 10, resolve: (o) => o, id: 'p' }).map((t) => t.params);
  assert.equal(new Set(perBlock.map((t) => t.contrast)).size, 1, 'per-block: one draw for the block');
});

test('adaptive blocks: QUEST spec with bounds from the parameter window', () => {
  const ts = gabors(byName['sample_adaptive_gabor_rdm.json']);
  assert.equal(ts.length, 12);
  const a = ts[0].params.adaptive;
  assert.deepEqual({ mode: a.mode, parameter: a.parameter, min: a.min_value, max: a.max_value, beta: a.beta }, { mode: 'quest', parameter: 'target_tilt_deg', min: 2, max: 30, beta: 3.5 });
  assert.ok(ts.every((t) => t.params.adaptive.id === a.id), 'one procedure per block');
  const rdm = compileConfig(byName['sample_adaptive_rdm_staircase.json'], { runSeed: 1 }).trials.find((t) => t.component_type === 'rdm-adaptive');
  assert.equal(rdm.params.adaptive.algorithm, 'staircase');
  const rdmQuest = compileConfig({ experiment_type: 'trial-based', timeline: [{ type: 'block', component_type: 'rdm-adaptive', length: 2 }] }, { runSeed: 1 }).trials[0];
  assert.equal(rdmQuest.params.adaptive.algorithm, 'quest', 'QUEST when the algorithm is not given (the reference default)');
});

test('learning blocks: one spec, rolling-accuracy criterion, reproducible trials', () => {
  const cfg = {
    experiment_type: 'trial-based', task_type: 'gabor', gabor_settings: { fixation_ms: 300 },
    timeline: [{ type: 'block', component_type: 'gabor-learning', seed: 4, parameter_values: {
      target_location: ['left', 'right'], target_tilt_deg: [-45, 45], distractor_orientation_deg: [0, 90],
      learning_streak_length: 4, learning_target_accuracy: 0.75, learning_max_trials: 12,
    } }],
  };
  const [spec] = compileConfig(cfg, { runSeed: 1 }).trials;
  assert.equal(spec.component_type, 'gabor-learning');
  assert.deepEqual(spec.params.learning, learningOptions(spec.params.values));
  const o = spec.params.learning;
  assert.deepEqual([o.streak_length, o.target_accuracy, o.max_trials, o.accuracy_start_trial, o.show_feedback], [4, 0.75, 12, 4, true]);
  assert.deepEqual(learningDone(o, [true, true, true]), { done: false });
  assert.equal(learningDone(o, [false, true, true, true]).reason, 'criterion_met');
  assert.equal(learningDone(o, [false, false, true, true]).done, false);
  assert.equal(learningDone(o, Array(12).fill(false)).reason, 'max_trials');
  const make = (s) => { const f = learningTrialMaker(spec.params.values, null, cfg.gabor_settings, makeRng(s)); return Array.from({ length: 8 }, (_, i) => f(i)); };
  assert.deepEqual(make('x'), make('x'));
  const trials = make('x');
  assert.ok(trials.every((t) => [-45, 45].includes(t.target_tilt_deg) && t.learning_max_trials === undefined));
});

test('withRewards scores marked trials and leaves others alone', async () => {
  const mod = { run: async () => ({ correct: true, rt_ms: 250, ended_reason: 'response' }) };
  const wrapped = withRewards(mod);
  assert.equal(withRewards(mod), wrapped, 'one wrapper per module');
  const policy = normalizePolicy({ scoring_basis: 'accuracy', points_per_success: 3 });
  const state = { rewards: { policy, state: newRewardState() } };
  const scored = await wrapped.run(null, {}, { spec: { meta: { reward_scored: true } }, state, signal: new AbortController().signal });
  assert.equal(scored.reward_points, 3);
  assert.equal(scored.reward_total_points, 3);
  const plain = await wrapped.run(null, {}, { spec: { meta: {} }, state, signal: new AbortController().signal });
  assert.equal(plain.reward_points, undefined);
  assert.equal(state.rewards.state.eligible_trials, 1);
});

test('Builder: the new components are in the library with forms, and gabor_settings is a defaults panel', () => {
  const schema = loadSchema();
  const types = catalogue(schema).map((c) => c.type);
  for (const t of ['gabor-trial', 'gabor-quest', 'gabor-learning', 'reward-settings']) assert.ok(types.includes(t), t);
  assert.equal(settingsKeyFor(schema, 'gabor'), 'gabor_settings');
  const gs = schema.properties.gabor_settings;
  assert.equal(gs.type, 'object');
  assert.ok(gs.properties.spatial_cue_validity && gs.properties.fixation_ms && !gs.properties.type);
  const kind = (type, key) => controlKind(key, resolve(schema, schema.$defs[type].properties[key]), undefined);
  assert.equal(kind('gabor-trial', 'response_task'), 'enum');
  assert.equal(kind('gabor-trial', 'contrast'), 'number');
  assert.equal(kind('gabor-trial', 'show_feedback'), 'bool');
  assert.equal(kind('gabor-learning', 'learning_max_trials'), 'number');
  assert.equal(kind('reward-settings', 'intermediate_screens'), 'objects');
  assert.equal(kind('reward-settings', 'milestones'), 'objects');
  assert.equal(kind('reward-settings', 'scoring_basis'), 'enum');
  assert.equal(schema.$defs['rdm-adaptive'].properties.algorithm.default, 'quest');
});

test('a Gabor block samples list values per trial as plain values (not sampling records)', () => {
  const cfg = {
    experiment_type: 'trial-based', task_type: 'gabor',
    timeline: [{ type: 'block', component_type: 'gabor-trial', length: 6, parameter_values: { left_key: ['f', 'd'], target_tilt_deg: [-45, 45] } }],
  };
  const trials = compileConfig(cfg, { runSeed: 3 }).trials.filter((t) => t.component_type === 'gabor-trial');
  assert.equal(trials.length, 6);
  for (const t of trials) {
    assert.ok(['f', 'd'].includes(t.params.left_key), JSON.stringify(t.params.left_key));
    assert.ok([-45, 45].includes(t.params.target_tilt_deg), JSON.stringify(t.params.target_tilt_deg));
  }
});
