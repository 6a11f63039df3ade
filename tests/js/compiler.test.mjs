import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileConfig } from '../../resources/interpreter/compiler.js';
import { normalizeChoices, normalizeKey, keyAllowed } from '../../resources/interpreter/keys.js';
import { compatConfigs } from './helpers.mjs';

const byName = Object.fromEntries(compatConfigs().map((c) => [c.name, c.config]));
const base = (timeline, extra = {}) => ({ experiment_type: 'trial-based', timeline, ...extra });
const ofType = (trials, t) => trials.filter((x) => x.component_type === t);

test('same run seed reproduces the run; a different run seed changes it', () => {
  const cfg = byName['ABC1234-flanker-01.json'];
  const a = compileConfig(cfg, { runSeed: 123 }).trials;
  const b = compileConfig(cfg, { runSeed: 123 }).trials;
  const c = compileConfig(cfg, { runSeed: 124 }).trials;
  assert.deepEqual(a, b);
  const seq = (ts) => ofType(ts, 'flanker-trial').map((t) => `${t.params.target_direction}/${t.params.congruency}`).join(',');
  assert.notEqual(seq(a), seq(c));
});

test('compileConfig refuses to run without any seed', () => {
  assert.throws(() => compileConfig(base([])), /seed/);
});

test('config.seed fixes the run regardless of the run seed', () => {
  const cfg = { ...byName['ABC1234-flanker-01.json'], seed: 'fixed' };
  assert.deepEqual(compileConfig(cfg, { runSeed: 1 }).trials, compileConfig(cfg, { runSeed: 2 }).trials);
});

test('a block seed fixes that block across participants', () => {
  const cfg = byName['sample_adaptive_rdm_staircase.json'];
  const a = ofType(compileConfig(cfg, { runSeed: 1 }).trials, 'rdm-adaptive');
  const b = ofType(compileConfig(cfg, { runSeed: 999 }).trials, 'rdm-adaptive');
  assert.equal(a.length, 12);
  assert.deepEqual(a.map((t) => t.params.adaptive), b.map((t) => t.params.adaptive));
  const ad = a[0].params.adaptive;
  assert.ok(ad.initial_coherence >= 0.2 && ad.initial_coherence <= 0.4);
  assert.ok(ad.step_size >= 0.04 && ad.step_size <= 0.08);
  assert.equal(ad.algorithm, 'staircase');
  assert.ok(a.every((t) => t.params.adaptive.id === ad.id), 'one staircase per block');
});

test('value lists are sampled uniformly per trial and cover all values', () => {
  const cfg = base([{ type: 'block', component_type: 'flanker-trial', length: 400, seed: 5,
    parameter_values: { congruency: ['congruent', 'incongruent', 'neutral'], left_key: 'a' } }]);
  const ts = compileConfig(cfg, { runSeed: 1 }).trials;
  assert.equal(ts.length, 400);
  const counts = {};
  for (const t of ts) counts[t.params.congruency] = (counts[t.params.congruency] || 0) + 1;
  for (const v of ['congruent', 'incongruent', 'neutral']) assert.ok(counts[v] > 90 && counts[v] < 180, JSON.stringify(counts));
  assert.ok(ts.every((t) => t.params.left_key === 'a'));
});

test('windows: object and array forms, rounding of _ms names, floats otherwise', () => {
  for (const windows of [
    { iti_ms: { min: 300, max: 700 }, coherence: { min: 0.1, max: 0.2 } },
    [{ parameter: 'iti_ms', min: 300, max: 700 }, { parameter: 'coherence', min: 0.1, max: 0.2 }],
  ]) {
    const cfg = base([{ type: 'block', component_type: 'flanker-trial', length: 200, parameter_windows: windows }]);
    const ts = compileConfig(cfg, { runSeed: 3 }).trials;
    const itis = ts.map((t) => t.params.iti_ms);
    assert.ok(itis.every((x) => Number.isInteger(x) && x >= 300 && x <= 700), 'iti_ms rounded within window');
    assert.ok(new Set(itis).size > 50, 'iti_ms varies');
    const cohs = ts.map((t) => t.params.coherence);
    assert.ok(cohs.every((x) => x >= 0.1 && x < 0.2));
    assert.ok(cohs.some((x) => !Number.isInteger(x * 1000)), 'coherence is not rounded');
  }
});

test('integer range strings expand to inclusive integer picks', () => {
  const cfg = base([{ type: 'block', component_type: 'sart-trial', length: 300, parameter_values: { digit: '1-4' } }]);
  const digits = compileConfig(cfg, { runSeed: 9 }).trials.map((t) => t.params.digit);
  assert.deepEqual([...new Set(digits)].sort(), [1, 2, 3, 4]);
});

test('per-block sampling draws once for the whole block', () => {
  const cfg = base([{ type: 'block', component_type: 'flanker-trial', length: 10, sampling_mode: 'per-block',
    parameter_windows: { iti_ms: { min: 0, max: 10000 } } }]);
  const itis = compileConfig(cfg, { runSeed: 1 }).trials.map((t) => t.params.iti_ms);
  assert.equal(new Set(itis).size, 1);
});

test('*_settings are defaults that components and blocks override; inherit falls back', () => {
  const cfg = byName['sample_simon_01.json'];
  const ts = ofType(compileConfig(cfg, { runSeed: 1 }).trials, 'simon-trial');
  assert.ok(ts.every((t) => t.params.left_key === 'f' && t.params.right_key === 'j' && t.params.circle_diameter_px === 140));
  assert.ok(ts.every((t) => t.params.response_device === 'keyboard'), 'inherit -> simon_settings.response_device');
  assert.ok(ts.slice(2).every((t) => t.params.trial_duration_ms >= 1200 && t.params.trial_duration_ms <= 1800), 'block window overrides settings');
  assert.equal(ts[0].params.trial_duration_ms, 1500, 'settings value where nothing overrides');

  const pvt = ofType(compileConfig(byName['sample_pvt_01.json'], { runSeed: 1 }).trials, 'pvt-trial');
  assert.ok(pvt.every((t) => t.params.response_key === 'space' && t.params.response_device === 'both'));
  assert.ok(pvt.every((t) => t.params.add_trial_per_false_start === true));
  assert.ok(pvt.every((t) => t.params.foreperiod_ms >= 2000 && t.params.foreperiod_ms <= 10000));

  const own = compileConfig(base([{ type: 'flanker-trial', left_key: 'q' }], { flanker_settings: { left_key: 'z', right_key: 'm' } }), { runSeed: 1 }).trials[0];
  assert.equal(own.params.left_key, 'q');
  assert.equal(own.params.right_key, 'm');
});

test('default_iti fills iti_ms for RDM/PVT/task switching only when unset', () => {
  const ts = compileConfig(base([{ type: 'pvt-trial' }, { type: 'pvt-trial', iti_ms: 5 }, { type: 'flanker-trial' }], { default_iti: 700 }), { runSeed: 1 }).trials;
  assert.equal(ts[0].params.iti_ms, 700);
  assert.equal(ts[1].params.iti_ms, 5);
  assert.equal(ts[2].params.iti_ms, undefined);
});

test('choices forms: ALL_KEYS, single key, comma list, array, NO_KEYS', () => {
  assert.equal(normalizeChoices('ALL_KEYS'), 'ALL_KEYS');
  assert.equal(normalizeChoices(undefined), 'ALL_KEYS');
  assert.equal(normalizeChoices('NO_KEYS'), 'NO_KEYS');
  assert.deepEqual(normalizeChoices('space'), ['space']);
  assert.deepEqual(normalizeChoices(' '), ['space']);
  assert.deepEqual(normalizeChoices('ArrowLeft,ArrowRight'), ['arrowleft', 'arrowright']);
  assert.deepEqual(normalizeChoices(['F', 'j', ' ']), ['f', 'j', 'space']);
  assert.equal(normalizeKey(' '), 'space');
  assert.equal(normalizeKey('Enter'), 'enter');
  assert.ok(keyAllowed(['space'], ' '));
  assert.ok(!keyAllowed(['f'], 'j'));
  assert.ok(keyAllowed('ALL_KEYS', 'x'));
  assert.ok(!keyAllowed('NO_KEYS', 'x'));
  // The compiler applies them (reference bug B7 turned "space" into ALL_KEYS).
  const ts = compileConfig(base([{ type: 'instructions', stimulus: 'x', choices: 'space' }, { type: 'html-keyboard-response', choices: 'ArrowLeft,ArrowRight' }]), { runSeed: 1 }).trials;
  assert.deepEqual(ts[0].params.choices, ['space']);
  assert.deepEqual(ts[1].params.choices, ['arrowleft', 'arrowright']);
  const c = compileConfig(byName['experiment_config_2026-01-07.json'], { runSeed: 1 }).trials[0];
  assert.deepEqual(c.params.choices, ['arrowleft', 'arrowright']);
});

test('unknown components, blocks of unknown components and untyped items map to one unsupported spec each', () => {
  const ts = compileConfig(base([{ type: 'no-such-component' }, { type: 'block', component_type: 'soc-dashboard', length: 30 }, { foo: 1 }, 'junk']), { runSeed: 1 }).trials;
  assert.deepEqual(ts.map((t) => t.component_type), ['unsupported', 'unsupported', 'unsupported', 'unsupported']);
  assert.deepEqual(ts.map((t) => t.params.original_type), ['no-such-component', 'block:soc-dashboard', null, 'string']);
  const c = compileConfig(byName['experiment_config_2026-01-07.json'], { runSeed: 1 }).trials;
  assert.equal(ofType(c, 'unsupported').length, 1);
});

test('loops unroll and re-sample blocks on each iteration (also with a block seed)', () => {
  const block = { type: 'block', component_type: 'flanker-trial', length: 20, parameter_windows: { iti_ms: { min: 0, max: 100000 } } };
  for (const b of [block, { ...block, seed: 77 }]) {
    const ts = compileConfig(base([{ type: 'loop', loop_id: 'L', iterations: 3, items: [b] }]), { runSeed: 1 }).trials;
    assert.equal(ts.length, 60);
    assert.deepEqual([...new Set(ts.map((t) => t.meta.loop_iteration))], [0, 1, 2]);
    const it = (k) => ts.filter((t) => t.meta.loop_iteration === k).map((t) => t.params.iti_ms).join();
    assert.notEqual(it(0), it(1));
  }
});

test('randomize-group shuffles reproducibly, keeps instructions in place and DRT spans together', () => {
  const items = [
    { type: 'instructions', stimulus: 'intro' },
    { type: 'flanker-trial', name: 'A' }, { type: 'flanker-trial', name: 'B' }, { type: 'flanker-trial', name: 'C' },
    { type: 'detection-response-task-start' }, { type: 'sart-trial', name: 'D' }, { type: 'detection-response-task-stop' },
    { type: 'flanker-trial', name: 'E' },
  ];
  const orders = new Set();
  for (let s = 0; s < 30; s++) {
    const ts = compileConfig(base([{ type: 'randomize-group', items }]), { runSeed: s }).trials;
    assert.equal(ts[0].params.stimulus, 'intro');
    const types = ts.map((t) => t.component_type);
    const i = types.indexOf('detection-response-task-start');
    assert.deepEqual(types.slice(i, i + 3), ['detection-response-task-start', 'sart-trial', 'detection-response-task-stop']);
    orders.add(ts.map((t) => t.meta.label ?? t.component_type).join());
    assert.deepEqual(ts, compileConfig(base([{ type: 'randomize-group', items }]), { runSeed: s }).trials);
  }
  assert.ok(orders.size > 5, `only ${orders.size} orders`);
});

test('randomize_order shuffles top-level items', () => {
  const tl = [1, 2, 3, 4, 5, 6].map((n) => ({ type: 'sart-trial', name: String(n) }));
  const orders = new Set([1, 2, 3, 4, 5].map((s) => compileConfig(base(tl, { randomize_order: true }), { runSeed: s }).trials.map((t) => t.meta.label).join()));
  assert.ok(orders.size > 1);
});

test('n-back: matches are exact and seeds behave (fixed seed shared, empty seed per run)', () => {
  const cfg = byName['sample_nback_trial_based.json'];
  const a = ofType(compileConfig(cfg, { runSeed: 1 }).trials, 'nback-trial-sequence');
  const b = ofType(compileConfig(cfg, { runSeed: 2 }).trials, 'nback-trial-sequence');
  assert.equal(a.length, 24);
  assert.deepEqual(a.map((t) => t.params.token), b.map((t) => t.params.token), 'the config seed fixes the sequence');
  a.forEach((t, i) => {
    assert.equal(t.params.is_match, i >= 2 && a[i - 2].params.token === t.params.token);
    assert.ok('ABCDEFGH'.includes(t.params.token));
  });
  assert.ok(a.some((t) => t.params.is_match));
  const noSeed = { ...cfg, timeline: cfg.timeline.map((it) => ({ ...it, seed: '' })) };
  const c = ofType(compileConfig(noSeed, { runSeed: 1 }).trials, 'nback-trial-sequence').map((t) => t.params.token).join();
  const d = ofType(compileConfig(noSeed, { runSeed: 2 }).trials, 'nback-trial-sequence').map((t) => t.params.token).join();
  assert.notEqual(c, d, 'without a seed participants get different sequences (reference bug B2)');
});

test('SART nogo_probability and digit lists', () => {
  const ts = compileConfig(base([{ type: 'block', component_type: 'sart-trial', length: 1000, parameter_values: { digit: [1, 2, 3, 4, 5, 6, 7, 8, 9], nogo_probability: 0.2, nogo_digit: 3 } }]), { runSeed: 4 }).trials;
  const nogo = ts.filter((t) => t.params.digit === 3).length;
  assert.ok(nogo > 150 && nogo < 250, String(nogo));
  assert.ok(ts.every((t) => t.params.digit >= 1 && t.params.digit <= 9));
});

test('Stroop congruency requests are honoured', () => {
  const ts = ofType(compileConfig(byName['sample_stroop_01.json'], { runSeed: 5 }).trials, 'stroop-trial');
  for (const t of ts) assert.equal(t.params.congruency, t.params.word === t.params.ink_color_name ? 'congruent' : 'incongruent');
  const forced = compileConfig(base([{ type: 'block', component_type: 'stroop-trial', length: 50, parameter_values: { word: ['RED', 'BLUE'], ink_color_name: ['RED', 'BLUE'], congruency: 'incongruent' } }]), { runSeed: 1 }).trials;
  assert.ok(forced.every((t) => t.params.word !== t.params.ink_color_name));
});

test('task switching trials get a task, tokens and the correct side', () => {
  const ts = compileConfig(base([{ type: 'block', component_type: 'task-switching-trial', length: 100 }]), { runSeed: 1 }).trials;
  assert.ok(ts.some((t) => t.params.task_index === 1) && ts.some((t) => t.params.task_index === 2));
  for (const t of ts) {
    assert.ok(['left', 'right'].includes(t.params.correct_side));
    if (t.params.task_index === 1) assert.equal(t.params.correct_side, 'AEIOU'.includes(t.params.stimulus_task_1) ? 'left' : 'right');
    else assert.equal(t.params.correct_side, Number(t.params.stimulus_task_2) % 2 === 1 ? 'left' : 'right');
  }
});

test('RDM parameter groups, dotted overrides and block response overrides are merged', () => {
  const tmpl = compileConfig(byName['basic_rdm_template.json'], { runSeed: 1 }).trials;
  assert.equal(tmpl[0].params.coherence, 0.8);
  assert.equal(tmpl[0].params.stimulus_duration, 2000);
  assert.equal(tmpl[0].params.dot_color, '#FFFF00');
  assert.equal(tmpl[2].params.dot_color, '#FFFFFF');
  assert.equal(tmpl[0].params.aperture_diameter, 350);
  assert.deepEqual(tmpl[0].params.choices, ['f', 'j']);
  const cont = compileConfig(byName['ABC1111-rdm-01.json'], { runSeed: 1 }).trials;
  assert.equal(cont[1].component_type, 'rdm-continuous');
  assert.equal(cont[1].params.frames.length, 100);
  assert.equal(cont[1].params.update_interval_ms, 16);
  const f = cont[1].params.frames[0];
  assert.equal(f.response_device, 'mouse');
  assert.equal(f.response_target_group, 2, "the override's 'group_2' is group 2");
  assert.ok(f.group_1_percentage >= 40 && f.group_1_percentage <= 60);
  assert.ok([0, 180].includes(f.group_1_direction));
});
