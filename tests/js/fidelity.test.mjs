// Issue 10 §1 and §3 at the compiler: what each component is asked to do reaches it, and every
// value a block samples is carried to the row under the config's own name.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT, compatConfigs } from './helpers.mjs';
import { compileConfig } from '../../resources/interpreter/compiler.js';
import { taskSwitchingSide } from '../../resources/interpreter/generators.js';
import { resolveRdmParams } from '../../resources/interpreter/rdm-params.js';
import { applyTrialRecording, degToPx, stampVisualAngle } from '../../resources/interpreter/recording.js';
import { borderFor, rdmGroups, requireResponse } from '../../resources/interpreter/components/rdm-setup.js';
import { blendGroups, transitionKind } from '../../resources/interpreter/components/rdm-continuous.js';
import { makeRng } from '../../resources/interpreter/prng.js';

const AUTHORED = path.join(ROOT, 'tests', 'fixtures', 'compat', 'configs-authored');
const authored = (f) => JSON.parse(fs.readFileSync(path.join(AUTHORED, f), 'utf8'));
const corpus = Object.fromEntries(compatConfigs().map((c) => [c.name, c.config]));
const base = (timeline, extra = {}) => ({ experiment_type: 'trial-based', timeline, ...extra });
const compile = (cfg, seed = 1) => compileConfig(cfg, { runSeed: seed }).trials;
const ofType = (ts, t) => ts.filter((x) => x.component_type === t);

// ---- n-back --------------------------------------------------------------------------------

test('n-back blocks read the Builder\'s nback_* keys; a continuous study runs them as one stream', () => {
  const cfg = corpus['sample_nback_continuous.json'];
  const block = cfg.timeline.find((i) => i.type === 'block');
  const ts = compile(cfg);
  const streams = ofType(ts, 'nback-continuous');
  assert.equal(streams.length, 1, 'one stream, not one trial per item');
  const p = streams[0].params;
  assert.equal(p.n, block.nback_n);
  assert.equal(p.length, block.block_length);
  assert.equal(p.sequence.length, block.block_length);
  for (const k of ['stimulus_duration_ms', 'isi_duration_ms', 'trial_duration_ms', 'response_paradigm', 'go_key', 'stimulus_mode', 'target_probability', 'show_feedback', 'render_mode']) {
    assert.deepEqual(p[k], block[`nback_${k}`], k);
  }
  const pool = String(block.nback_stimulus_pool).split(',').map((s) => s.trim());
  assert.ok(p.sequence.every((s) => pool.includes(s.token)), 'tokens come from nback_stimulus_pool');
  p.sequence.forEach((s, i) => assert.equal(s.is_match, i >= p.n && p.sequence[i - p.n].token === s.token));
  // The same block in a trial-based study: one trial per item with the same settings.
  const tb = ofType(compile({ ...cfg, experiment_type: 'trial-based' }), 'nback-trial-sequence');
  assert.equal(tb.length, block.block_length);
  assert.ok(tb.every((t) => t.params.n === block.nback_n && t.params.isi_duration_ms === block.nback_isi_duration_ms));
});

test('continuous n-back by_duration: as many items as fit the duration at the SOA', () => {
  const cfg = { experiment_type: 'continuous', task_type: 'nback', timeline: [{ type: 'block', component_type: 'nback-block', block_sizing_mode: 'by_duration', block_duration_seconds: 12, nback_trial_duration_ms: 1500 }] };
  assert.equal(compile(cfg)[0].params.sequence.length, 8);
});

// ---- emotional Stroop ----------------------------------------------------------------------

test('emotional Stroop shows words from word_lists (single trials and blocks) and records the list', () => {
  const cfg = authored('emotional-stroop.json');
  const lists = cfg.emotional_stroop_settings.word_lists;
  const ts = ofType(compile(cfg, 5), 'emotional-stroop-trial');
  const single = ts.find((t) => t.meta.block_index === undefined);
  const colourWords = ['RED', 'GREEN', 'BLUE', 'YELLOW'];
  assert.ok(!colourWords.includes(single.params.word), `the single trial shows a list word, not ${single.params.word}`);
  assert.ok(lists[single.params.word_list_index - 1].words.includes(single.params.word));
  assert.equal(single.params.word_list_label, lists[single.params.word_list_index - 1].label);
  const blockLists = cfg.timeline[2].parameter_values.word_lists;
  const inBlock = ts.filter((t) => t.meta.block_index !== undefined);
  assert.equal(inBlock.length, 6);
  for (const t of inBlock) {
    const list = blockLists[t.params.word_list_index - 1];
    assert.ok(list.words.includes(t.params.word), 'the word belongs to the recorded list');
    assert.equal(t.params.word_list_label, list.label);
    assert.ok(['RED', 'GREEN', 'BLUE'].includes(t.params.ink_color_name));
    assert.equal(t.params.congruency, undefined, 'emotional words have no congruency');
  }
  // Over many seeds, both lists are used.
  const labels = new Set();
  for (let s = 0; s < 20; s++) for (const t of ofType(compile(cfg, s), 'emotional-stroop-trial')) labels.add(t.params.word_list_label);
  assert.deepEqual([...labels].sort(), ['Negative', 'Neutral']);
});

// ---- task switching -------------------------------------------------------------------------

test('task switching: single/switch blocks, authored stimuli, the whole token set, cue settings', () => {
  const cfg = authored('task-switching.json');
  const ts = ofType(compile(cfg), 'task-switching-trial');
  const [authoredO1, authoredB1] = ts;
  assert.equal(authoredO1.params.stimulus, 'O 1');
  assert.equal(authoredO1.params.stimulus_task_1, 'O');
  assert.equal(authoredO1.params.correct_side, 'left', 'O is a vowel');
  assert.equal(authoredB1.params.task_index, 2);
  assert.equal(authoredB1.params.correct_side, 'left', '1 is odd');
  const single = ts.filter((t) => t.meta.block_index === 0);
  assert.equal(single.length, 6);
  assert.ok(single.every((t) => t.params.task_index === 2 && t.params.trial_type === 'single'), 'single_task_index 2 throughout');
  assert.ok(single.every((t) => t.params.cue_type === 'explicit' && t.params.cue_font_size_px === 40 && t.params.cue_color_hex === '#ffffff'));
  const sw = ts.filter((t) => t.meta.block_index === 1);
  assert.deepEqual(sw.map((t) => t.params.task_index), [1, 2, 1, 2, 1, 2], 'a switch block alternates the tasks');
  assert.ok(sw.every((t) => t.params.task_1_position === 'left' && t.params.task_2_position === 'right' && t.params.cue_type === 'position'));
  // Every letter and digit can appear and is scored.
  const big = compile(base([{ type: 'block', component_type: 'task-switching-trial', length: 600, seed: 1 }]));
  const letters = new Set(big.map((t) => t.params.stimulus_task_1));
  assert.ok(letters.size > 20 && letters.has('O'), `letters drawn: ${[...letters].join('')}`);
  for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZ') assert.equal(taskSwitchingSide({}, 1, c), 'AEIOU'.includes(c) ? 'left' : 'right', c);
  for (const n of ['1', '2', '7', '8', '13']) assert.equal(taskSwitchingSide({}, 2, n), Number(n) % 2 ? 'left' : 'right');
  const custom = { stimulus_set_mode: 'custom', tasks: [{ category_a_tokens: ['cat', 'dog'], category_b_tokens: 'car, bus' }, { category_a_tokens: ['1'], category_b_tokens: ['2'] }] };
  assert.equal(taskSwitchingSide(custom, 1, 'bus'), 'right');
  assert.equal(taskSwitchingSide(custom, 1, 'dog'), 'left');
  assert.equal(taskSwitchingSide(custom, 1, 'emu'), null);
});

// ---- RDM ---------------------------------------------------------------------------------

test('RDM: flat cue_border_*, numeric response_target_group, noise aliases, require_response', () => {
  const cont = compile(corpus['AAA1111-rdm-01.json']);
  const frame = cont.find((t) => t.component_type === 'rdm-continuous').params.frames[0];
  assert.equal(frame.response_target_group, 1);
  assert.equal(frame.cue_border_mode, 'target-group-color');
  assert.equal(frame.cue_border_width, 4);
  const g = rdmGroups(frame, makeRng(1));
  assert.equal(g.target, 0, 'group 1 is the target');
  assert.deepEqual(borderFor(frame, g.groups, g.target), { color: '#FF0066', width: 4 }, 'the border takes the target group colour');
  assert.equal(rdmGroups({ ...frame, response_target_group: 2 }, makeRng(1)).target, 1);
  assert.equal(resolveRdmParams({}, { response_target_group: 'group_2' }).response_target_group, 2);
  assert.equal(resolveRdmParams({}, { response_target_group: '1' }).response_target_group, 1);
  const noTarget = rdmGroups({ enable_groups: true, group_1_coherence: 0.2, group_2_coherence: 0.8 }, makeRng(1));
  assert.equal(noTarget.target, 1, 'without a target group, the more coherent one (the reference)');
  const nested = resolveRdmParams({}, {}, { cue_border: { enabled: true, color: '#00ff00', width: 6 } });
  assert.deepEqual(borderFor(nested, [{ color: '#fff' }], 0), { color: '#00ff00', width: 6 });
  assert.equal(borderFor({ cue_border_mode: 'off' }, [], 0), null);
  for (const [alias, want] of [['brownian', 'random_walk'], ['correlated_noise', 'random_walk'], ['random-walk', 'random_walk'], ['randompos', 'random_position'], ['random-position', 'random_position'], ['whatever', 'random_direction']]) {
    assert.equal(resolveRdmParams({ motion_parameters: { noise_type: alias } }, {}).noise_type, want, alias);
  }
  assert.equal(requireResponse(resolveRdmParams(corpus['AAA1111-rdm-01.json'], {})), false);
  assert.equal(requireResponse({}), true);
});

test('RDM direction-transition schedules: every_n_trials and exact_count', () => {
  const blk = (values, length = 12) => base([{ type: 'block', component_type: 'rdm-trial', length, seed: 9, parameter_values: values }]);
  const dirs = (cfg) => compile(cfg).map((t) => t.params.direction);
  const every = dirs(blk({ direction: [0, 90, 180], direction_transition_mode: 'every_n_trials', direction_transition_every_n_trials: 4 }));
  for (let i = 0; i < 12; i++) {
    if (i % 4 === 0 && i > 0) assert.notEqual(every[i], every[i - 1], `changes at ${i}`);
    else if (i > 0) assert.equal(every[i], every[i - 1], `holds at ${i}`);
  }
  for (let s = 0; s < 5; s++) {
    const cfg = blk({ direction: '0,180', direction_transition_mode: 'exact_count', direction_transition_count: 3 }, 20);
    cfg.timeline[0].seed = s;
    const d = dirs(cfg);
    assert.equal(d.slice(1).filter((x, i) => x !== d[i]).length, 3, 'exactly 3 changes');
  }
  const groups = compile(base([{ type: 'block', component_type: 'rdm-dot-groups', length: 6, seed: 2, parameter_values: { group_1_direction: [0, 180], group_2_direction: [90, 270], direction_transition_mode: 'every_n_trials', direction_transition_every_n_trials: 3 } }]));
  const g1 = groups.map((t) => t.params.group_1_direction);
  assert.equal(new Set(g1.slice(0, 3)).size, 1);
  assert.notEqual(g1[2], g1[3]);
  assert.ok(groups.every((t) => t.meta.sampled.group_1_direction === t.params.group_1_direction), 'the scheduled direction is recorded');
});

test('a continuous config without task_type is continuous RDM, as in the reference', () => {
  const cfg = corpus['sample_continuous.json'];
  assert.equal(cfg.task_type, undefined);
  const ts = compile(cfg);
  const segs = ofType(ts, 'rdm-continuous');
  assert.equal(segs.length, 1);
  assert.equal(segs[0].params.frames.length, cfg.timeline.find((i) => i.type === 'block').length);
  assert.equal(segs[0].params.update_interval_ms, cfg.update_interval);
  const f = segs[0].params.frames[1];
  assert.deepEqual(f.transition, { duration_ms: f.transition_duration ?? cfg.transition_settings.duration_ms, type: f.transition_type ?? cfg.transition_settings.type });
});

test('continuous RDM transitions blend colour and/or speed, never coherence or direction', () => {
  const from = [{ color: '#000000', speed: 100, coherence: 0.2, direction: 0, count: 5 }];
  const to = [{ color: '#ffffff', speed: 300, coherence: 0.9, direction: 180, count: 5 }];
  const half = blendGroups(from, to, 0.5, transitionKind('both'))[0];
  assert.equal(half.color, 'rgb(128,128,128)');
  assert.equal(half.speed, 200);
  assert.equal(half.coherence, 0.9);
  assert.equal(half.direction, 180);
  assert.equal(blendGroups(from, to, 0.5, transitionKind('speed'))[0].color, '#ffffff');
  assert.equal(blendGroups(from, to, 0.5, transitionKind('color'))[0].speed, 300);
  assert.deepEqual(transitionKind('none'), { color: false, speed: false });
});

test('continuous RDM by_duration: the block lasts its seconds at the frame interval', () => {
  const cfg = { experiment_type: 'continuous', task_type: 'rdm', update_interval: 250, duration: 30, timeline: [{ type: 'block', component_type: 'rdm-trial', block_sizing_mode: 'by_duration', block_duration_seconds: 5, length: 2 }] };
  assert.equal(compile(cfg)[0].params.frames.length, 20);
  cfg.duration = 2;
  assert.equal(compile(cfg)[0].params.frames.length, 8, 'capped by the study duration');
});

// ---- mw-probe and DRT --------------------------------------------------------------------

const probeCfg = (probe, extra = []) => base([
  { type: 'detection-response-task-start', segment_label: 'main' },
  probe,
  { type: 'block', component_type: 'flanker-trial', length: 10, parameter_values: { trial_duration_ms: 1000, iti_ms: 0 } },
  ...extra,
  { type: 'detection-response-task-stop' },
]);

test('mw-probe: placed inside the next block after min..max_interval_ms of planned time, with its label', () => {
  for (let s = 0; s < 10; s++) {
    const ts = compile(probeCfg({ type: 'mw-probe', label: 'mind', min_interval_ms: 3000, max_interval_ms: 6000, questions: [{ id: 'q', type: 'text' }] }), s);
    const types = ts.map((t) => t.component_type);
    const i = types.indexOf('mw-probe');
    const before = ts.slice(0, i).filter((t) => t.component_type === 'flanker-trial').length;
    assert.ok(before >= 3 && before <= 6, `after ${before} trials of 1 s`);
    const probe = ts[i];
    assert.equal(probe.meta.mw_probe_placement, 'in_block');
    assert.equal(probe.meta.label, 'mind');
    assert.ok(probe.meta.mw_probe_target_ms >= 3000 && probe.meta.mw_probe_target_ms <= 6000);
    // Inside a DRT segment the DRT stops for the probe and starts again with the same settings.
    assert.deepEqual(types.slice(i - 1, i + 2), ['detection-response-task-stop', 'mw-probe', 'detection-response-task-start']);
    assert.equal(ts[i + 1].params.segment_label, 'main');
    assert.equal(probe.params.drt_running_at_probe_start, true);
  }
});

test('mw-probe without a neighbouring block stays where it was authored (and says so)', () => {
  const ts = compile(base([{ type: 'instructions', stimulus: 'x' }, { type: 'mw-probe', min_interval_ms: 1000, max_interval_ms: 2000, questions: [] }, { type: 'instructions', stimulus: 'y' }]));
  assert.equal(ts[1].component_type, 'mw-probe');
  assert.equal(ts[1].meta.mw_probe_placement, 'authored');
});

test('structural config: miniblock breaks, probes inside the looped randomised block, per iteration', () => {
  const cfg = authored('structural.json');
  cfg.timeline = cfg.timeline.filter((i) => !['reward-settings', 'mouse-tracking'].includes(i.type));
  cfg.reward_settings = { enabled: false };
  const ts = compile(cfg);
  const flank = ofType(ts, 'flanker-trial');
  assert.equal(flank.length, 8);
  const breaks = ofType(ts, 'miniblock-break');
  assert.equal(breaks.length, 2, 'one break after every 2 of 4 trials, per loop iteration');
  assert.equal(breaks[0].params.message, 'Short break');
  const probes = ofType(ts, 'mw-probe');
  assert.equal(probes.length, 2);
  assert.ok(probes.every((p) => p.meta.mw_probe_placement === 'in_block'));
  // Each probe sits between flanker trials of its own loop iteration.
  for (const p of probes) {
    const i = ts.indexOf(p);
    const neighbours = [ts[i - 1], ts[i + 1]].filter((t) => t && t.meta.block_index !== undefined);
    assert.ok(neighbours.length >= 1 && neighbours.every((t) => t.meta.loop_iteration === p.meta.loop_iteration));
  }
});

// ---- recording -----------------------------------------------------------------------------

test('every value a block samples is recorded under the config\'s own name', () => {
  const cfg = base([{ type: 'block', component_type: 'flanker-trial', length: 20, parameter_values: { congruency: ['congruent', 'incongruent'], left_key: 'a' }, parameter_windows: { iti_ms: { min: 100, max: 900 }, trial_duration_ms: { min: 1000, max: 2000 } } }]);
  for (const t of compile(cfg)) {
    assert.deepEqual(Object.keys(t.meta.sampled).sort(), ['congruency', 'iti_ms', 'trial_duration_ms']);
    assert.equal(t.meta.sampled.iti_ms, t.params.iti_ms);
    const row = applyTrialRecording({ rt_ms: 5, correct: true, congruency: t.params.congruency }, t, cfg);
    assert.equal(row.iti_ms, t.params.iti_ms);
    assert.equal(row.trial_duration_ms, t.params.trial_duration_ms);
  }
  const rdm = compile(corpus['AAA1111-rdm-01.json']).find((t) => t.component_type === 'rdm-continuous').params.frames;
  for (const f of rdm) {
    for (const k of ['group_1_percentage', 'group_1_coherence', 'group_2_coherence', 'group_1_speed', 'group_2_speed', 'group_1_direction', 'group_2_direction']) {
      assert.equal(f.sampled[k], f[k], k);
    }
  }
  const ad = compile(corpus['sample_adaptive_rdm_staircase.json']).filter((t) => t.component_type === 'rdm-adaptive');
  assert.ok(ad.every((t) => t.meta.sampled.initial_coherence === ad[0].params.adaptive.initial_coherence && t.meta.sampled.step_size === ad[0].params.adaptive.step_size));
});

test('data_collection switches: reaction time and correctness are left empty when switched off', () => {
  const spec = { meta: {} };
  assert.deepEqual(applyTrialRecording({ rt_ms: 300, correct: true }, spec, { data_collection: { 'reaction-time': false, accuracy: false, correctness: false } }), { rt_ms: null, correct: null });
  assert.deepEqual(applyTrialRecording({ rt_ms: 300, correct: true }, spec, { data_collection: { reaction_time: { enabled: true }, accuracy: false, correctness: true } }), { rt_ms: 300, correct: true });
  assert.deepEqual(applyTrialRecording({ rt_ms: 300, correct: false }, spec, {}), { rt_ms: 300, correct: false });
  assert.equal(applyTrialRecording({ rt_ms: 1 }, { meta: { data: { cond: 'A' } } }, {}).cond, 'A', 'an item\'s data is copied to its row');
});

test('after a visual-angle calibration every row carries px_per_deg, and degrees convert to px', () => {
  const state = { visualAngle: null };
  assert.equal(stampVisualAngle({ component_type: 'flanker-trial' }, state).visual_angle_px_per_deg, undefined);
  assert.equal(degToPx(state, 2), null);
  state.visualAngle = { px_per_cm: 40, viewing_distance_cm: 57.29, cm_per_deg: 1, px_per_deg: 40 };
  const row = stampVisualAngle({ component_type: 'drt-stimulus' }, state);
  assert.deepEqual([row.visual_angle_px_per_cm, row.visual_angle_viewing_distance_cm, row.visual_angle_px_per_deg], [40, 57.29, 40]);
  assert.equal(degToPx(state, 2.5), 100);
});
