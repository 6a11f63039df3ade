// support.js: every part of a config the Interpreter does not honour is named in one sentence,
// before a run; everything it honours passes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT, compatConfigs } from './helpers.mjs';
import { findUnsupported } from '../../resources/interpreter/support.js';
import { KNOWN_COMPONENTS } from '../../resources/interpreter/catalogue.js';
import { validateConfig } from '../../resources/interpreter/validate.js';
import { loadSchema } from './helpers.mjs';

const AUTHORED = path.join(ROOT, 'tests', 'fixtures', 'compat', 'configs-authored');
const authored = Object.fromEntries(fs.readdirSync(AUTHORED).map((f) => [f, JSON.parse(fs.readFileSync(path.join(AUTHORED, f), 'utf8'))]));
const corpus = Object.fromEntries(compatConfigs().map((c) => [c.name, c.config]));
const base = (timeline, extra = {}) => ({ experiment_type: 'trial-based', timeline, ...extra });
const messages = (cfg) => findUnsupported(cfg).map((u) => u.message);
const one = (cfg, re) => {
  const m = messages(cfg);
  assert.equal(m.length, 1, JSON.stringify(m, null, 1));
  assert.match(m[0], re);
  return findUnsupported(cfg)[0];
};

// What the compat corpus needs that this version refuses, by config (the rest run as authored).
const REFUSED = {
  'experiment_config_2026-01-07.json': [/^Timeline item 4: the item has no "type"/, /^Timeline item 5: rdm-trial sets "color", which rdm-trial does not use/],
};

for (const [name, cfg] of Object.entries({ ...corpus, ...authored })) {
  test(`${name}: ${REFUSED[name] ? 'refused, naming each unsupported part' : 'runs as authored (nothing refused)'}`, () => {
    const m = messages(cfg);
    if (!REFUSED[name]) { assert.deepEqual(m, []); return; }
    for (const re of REFUSED[name]) assert.ok(m.some((x) => re.test(x)), `${re} not in ${JSON.stringify(m, null, 1)}`);
    for (const x of m) assert.match(x, /^(Timeline item [\d › ]+|Setting "[^"]+")[: ].*\.$/, 'one sentence that says where');
  });
}

test('each entry has where, item, message and a JSON pointer for the Builder', () => {
  const [u] = findUnsupported(base([{ type: 'loop', iterations: 2, items: [{ type: 'instructions' }, { type: 'block', component_type: 'preload', length: 2 }] }]));
  assert.deepEqual(u, {
    where: 'Timeline item 1 › 2', item: 'preload', path: '/timeline/0/items/1',
    message: 'Timeline item 1 › 2: block of preload (preloading) is not supported by this version.',
  });
  const [s] = findUnsupported(base([], { data_collection: { 'keyboard-tracking': true } }));
  assert.equal(s.path, '/data_collection/keyboard-tracking');
});

test('the new families are refused with one sentence each', () => {
  for (const [item, re] of [
    [{ type: 'eye-tracking' }, /eye-tracking \(eye tracking\)/],
  ]) one(base([item]), re);
  for (const item of [{ type: 'gabor-trial' }, { type: 'block', component_type: 'gabor-quest', length: 3 }, { type: 'reward-settings' },
    { type: 'mot-trial' }, { type: 'block', component_type: 'continuous-image-presentation', length: 3 }, { type: 'mouse-tracking' }]) {
    assert.deepEqual(messages(base([item])), [], `${item.type} runs now`);
  }
  assert.deepEqual(messages(base([], { reward_settings: { enabled: true } })), []);
  one(base([{ type: 'gabor-trial', wobble: 1 }]), /gabor-trial sets "wobble", which gabor-trial does not use/);
  assert.deepEqual(messages(base([], { reward_settings: { enabled: false, currency: 'points' } })), []);
  assert.deepEqual(messages(base([{ type: 'soc-dashboard', title: 'Ops' }], { data_collection: { eye_tracking: { enabled: true, sample_interval_ms: 50 } } })), [], 'SOC and eye tracking run');
  one(base([{ type: 'block', component_type: 'soc-dashboard', length: 2 }]), /block of soc-dashboard is not supported: this version runs soc-dashboard only as a timeline item/);
  one(base([{ type: 'soc-dashboard', start_menu_enabled: true }]), /soc-dashboard sets "start_menu_enabled", which soc-dashboard does not use/);
  one(base([{ type: 'eye-tracking-calibration-instructions' }]), /eye tracking\) is not supported/);
  assert.deepEqual(messages(base([], { data_collection: { 'mouse-tracking': true } })), [], 'mouse tracking runs now');
  one(base([], { data_collection: { mouse_tracking: { enabled: true, track_velocity: true } } }), /mouse tracking option "track_velocity" is switched on/);
  one(base([], { data_collection: { 'keyboard-tracking': true } }), /keyboard tracking is switched on/);
  one(base([{ type: 'mot-trial', probe_mode: 'drag' }]), /mot-trial sets "probe_mode" to "drag", but this version knows only/);
  one(base([{ type: 'block', component_type: 'continuous-image-presentation', cip_image_urls: ['a.png'], cip_colour: 1 }]), /sets "cip_colour", which continuous-image-presentation does not use/);
  one(base([{ type: 'mouse-tracking', colour: 'red' }]), /mouse-tracking sets "colour", which this version does not use/);
  assert.deepEqual(messages(base([], { mot_settings: { num_objects: 6 }, continuous_image_settings: { mask_type: 'pure_noise', choice_keys: 'a,l' } })), []);
  assert.deepEqual(messages(base([], { data_collection: { 'eye-tracking': false, mouse_tracking: { enabled: false }, 'reaction-time': false, accuracy: true } })), []);
});

test('support comes from the registry: registering a component is the one step that makes it run', () => {
  const cfg = base([{ type: 'block', component_type: 'demo-trial', length: 2, parameter_values: { anything: [1, 2] } }]);
  assert.equal(messages(cfg).length, 1);
  KNOWN_COMPONENTS.add('demo-trial');
  try {
    assert.deepEqual(messages(cfg), [], 'a registered component without a field spec runs as authored');
  } finally {
    KNOWN_COMPONENTS.delete('demo-trial');
  }
});

test('block fields, parameter_values and parameter_windows keys a component does not read are refused', () => {
  one(base([{ type: 'block', component_type: 'flanker-trial', length: 2, parameter_values: { congruency: ['congruent'], colour: 'red' } }]),
    /^Timeline item 1: block of flanker-trial sets "colour", which flanker-trial does not use in this version\.$/);
  one(base([{ type: 'block', component_type: 'flanker-trial', length: 2, parameter_windows: { iti_ms: { min: 1, max: 2 }, gap_ms: { min: 1, max: 2 } } }]), /sets "gap_ms"/);
  one(base([{ type: 'block', component_type: 'flanker-trial', length: 2, parameter_windows: [{ parameter: 'jitter_ms', min: 1, max: 2 }] }]), /sets "jitter_ms"/);
  one(base([{ type: 'block', component_type: 'flanker-trial', length: 2, mystery: 3 }]), /block of flanker-trial sets "mystery"/);
  one(base([{ type: 'block', component_type: 'sart-trial', length: 2, response_parameters_override: { require_response: false } }]), /response_parameters_override, which only RDM blocks use/);
  one(base([{ type: 'block', component_type: 'sart-trial', length: 2, parameter_values: { show_feedback: true } }]), /sets "show_feedback" to true, which this version does not support/);
  one(base([{ type: 'flanker-trial', detection_response_task_enabled: true }]), /"detection_response_task_enabled" to true/);
  assert.deepEqual(messages(base([{ type: 'flanker-trial', detection_response_task_enabled: false }])), []);
  one(base([{ type: 'stroop-trial', font: 'x' }]), /^Timeline item 1: stroop-trial sets "font", which stroop-trial does not use/);
  one(base([], { stroop_settings: { font: 'x' } }), /^Setting "stroop_settings\.font": stroop_settings sets "font"/);
  // n-back blocks name their fields nback_<field>.
  assert.deepEqual(messages(corpus['sample_nback_continuous.json']), []);
  one(base([{ type: 'block', component_type: 'nback-block', length: 5, nback_colour: 'x' }]), /sets "nback_colour"/);
});

test('top-level settings: honoured ones pass, the rest are named', () => {
  assert.deepEqual(messages(base([], {
    task_name: 'x', num_trials: 3, frame_rate: 60, duration: 30, update_interval: 1000, default_iti: 300, randomize_order: false,
    ui_settings: { theme: 'light' }, transition_settings: { duration_ms: 100, type: 'both' }, seed: 4, schema_version: '1.0',
    experiment_meta: {}, validation: {}, export_settings: {}, timeline_type: 'x', response_keys: ['f', 'j'],
    motion_parameters: { 'motion.coherence': 0.5, noise_type: 'brownian' }, aperture_parameters: { center_x: 300, show_aperture_outline: true },
  })), []);
  one(base([], { ui_settings: { theme: 'sepia' } }), /^Setting "ui_settings\.theme": theme "sepia" is not known/);
  one(base([], { ui_settings: { font_scale: 2 } }), /ui_settings\.font_scale" is not used/);
  one(base([], { transition_settings: { type: 'wipe' } }), /transition type "wipe"/);
  one(base([], { fixation_duration: 500 }), /^Setting "fixation_duration" is not known to this version, so it would be ignored\.$/);
  assert.deepEqual(messages(base([], { gabor_settings: { contrast: 0.5 } })), []);
  assert.deepEqual(messages(base([], { soc_dashboard_settings: {}, mot_settings: {}, continuous_image_settings: {} })), []);
  one(base([], { motion_parameters: { wobble: 1 } }), /motion_parameters\.wobble/);
});

test('miniblocks, by_duration sizing and adaptive algorithms: honoured or named', () => {
  const fl = (extra) => base([{ type: 'block', component_type: 'flanker-trial', length: 6, ...extra }]);
  assert.deepEqual(messages(fl({ miniblock_structure: { enabled: true, break_every_n_trials: 2, break_message: 'Rest', force_wait_for_break: true, break_duration_sec: 2, break_escape_keys: 'space' } })), []);
  assert.deepEqual(messages(fl({ miniblock_structure: { enabled: false, show_total_points_at_break: true } })), [], 'switched off');
  one(fl({ miniblock_structure: { enabled: true, show_total_points_at_break: true } }), /shows points at its mini-breaks .* does not show points at mini-breaks/);
  one(fl({ miniblock_structure: { enabled: true, break_sound: 'x' } }), /miniblock_structure\.break_sound/);
  one(fl({ block_sizing_mode: 'by_duration', block_duration_seconds: 20 }), /sized by duration, which this version \(like the reference\) does only for continuous RDM and continuous n-back blocks/);
  const cont = { experiment_type: 'continuous', task_type: 'rdm', timeline: [{ type: 'block', component_type: 'rdm-trial', length: 3, block_sizing_mode: 'by_duration', block_duration_seconds: 2 }] };
  assert.deepEqual(messages(cont), []);
  one({ ...cont, timeline: [{ ...cont.timeline[0], block_duration_seconds: undefined }] }, /no block_duration_seconds/);
  const ad = (values) => base([{ type: 'block', component_type: 'rdm-adaptive', length: 3, parameter_values: values }]);
  assert.deepEqual(messages(ad({ algorithm: 'staircase' })), []);
  assert.deepEqual(messages(ad({ algorithm: 'simple' })), []);
  assert.deepEqual(messages(ad({ algorithm: 'quest', beta: 3.5, delta: 0.01, gamma: 0.5 })), []);
  assert.deepEqual(messages(ad({})), [], 'no algorithm: QUEST, as the reference');
  one(ad({ algorithm: ['staircase', 'bayes'] }), /"algorithm" to "bayes", but the adaptive algorithm "bayes" is not known/);
  one(base([{ type: 'rdm-trial', response_device: 'voice' }]), /"voice" responses are not recorded/);
});

test('the Builder sees the same sentences as validation warnings', () => {
  const r = validateConfig(authored['structural.json'], loadSchema());
  assert.equal(r.valid, true);
  assert.deepEqual(r.warnings.map((w) => w.message), messages(authored['structural.json']));
  assert.ok(r.warnings.every((w) => w.path.startsWith('/')));
});
