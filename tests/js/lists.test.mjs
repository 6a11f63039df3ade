// Issue 10 §2: values that are lists by nature are whole values in a block; only scalar fields
// are "choose one per trial". Which fields are lists is decided by each component's schema.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadSchema } from './helpers.mjs';
import { compileConfig } from '../../resources/interpreter/compiler.js';
import { COMPONENT_SPECS, commonFields } from '../../resources/interpreter/component-specs.js';

const schema = loadSchema();
const defs = schema.$defs;
const resolve = (p) => (p && p.$ref ? defs[p.$ref.split('/').pop()] : p);
const allowsArray = (p) => {
  const q = resolve(p) || {};
  const types = [].concat(q.type ?? []);
  return types.includes('array') || (q.anyOf || q.oneOf || []).some((x) => [].concat(resolve(x).type ?? []).includes('array'));
};
const base = (timeline, extra = {}) => ({ experiment_type: 'trial-based', timeline, ...extra });
const block = (type, values, extra = {}) => base([{ type: 'block', component_type: type, length: 40, seed: 3, parameter_values: values }], extra);
const trials = (cfg) => compileConfig(cfg, { runSeed: 1 }).trials;
const compiledAs = (type) => (type === 'nback-block' ? 'nback-trial-sequence' : type);

test('each component\'s list-valued fields are exactly the fields its schema lets be an array', () => {
  for (const [type, spec] of Object.entries(COMPONENT_SPECS)) {
    const props = defs[type].properties;
    const fromSchema = Object.keys(props).filter((k) => allowsArray(props[k])).sort();
    assert.deepEqual([...spec.lists].sort(), fromSchema, type);
  }
});

test('everything a component\'s schema describes is honoured (or accepted only with a neutral value)', () => {
  for (const [type, spec] of Object.entries(COMPONENT_SPECS)) {
    for (const k of Object.keys(defs[type].properties)) {
      if (k === 'type') continue;
      const ok = spec.fields.includes(k) || commonFields().includes(k) || (spec.neutral && k in spec.neutral) || k === 'detection_response_task_enabled';
      assert.ok(ok, `${type}.${k} is in the schema but not honoured`);
    }
  }
});

// Per component: a list value for each list field (kept whole on every trial) and a scalar field
// given as a list (one value per trial, each value used).
const SAMPLES = {
  'html-keyboard-response': { lists: { choices: ['f', 'j'] }, scalar: ['stimulus', ['A', 'B']] },
  instructions: { lists: { choices: ['f', 'j'] }, scalar: ['stimulus', ['A', 'B']] },
  'html-button-response': { lists: { choices: ['Yes', 'No', 'Maybe'] }, scalar: ['stimulus', ['A', 'B']] },
  'image-keyboard-response': { lists: { choices: ['f', 'j'], stimulus_images: ['a.png', 'b.png'] }, scalar: ['stimulus_width', [100, 200]] },
  'survey-response': { lists: { questions: [{ id: 'q', type: 'text' }, { id: 'r', type: 'text' }] }, scalar: ['title', ['A', 'B']] },
  'mw-probe': { lists: { questions: [{ id: 'q', type: 'text' }, { id: 'r', type: 'text' }] }, scalar: ['title', ['A', 'B']] },
  'visual-angle-calibration': { lists: {}, scalar: ['object_preset', ['id_card_long', 'id_card_short']] },
  'flanker-trial': { lists: {}, scalar: ['congruency', ['congruent', 'incongruent']] },
  'sart-trial': { lists: {}, scalar: ['digit', [1, 2, 3]] },
  'stroop-trial': {
    lists: { stimuli: [{ name: 'RED', color: '#f00' }, { name: 'BLUE', color: '#00f' }, { name: 'GREEN', color: '#0f0' }], choice_keys: ['f', 'j', 'k'] },
    scalar: ['word', ['RED', 'BLUE']],
  },
  'emotional-stroop-trial': {
    lists: {
      stimuli: [{ name: 'RED', color: '#f00' }, { name: 'BLUE', color: '#00f' }], choice_keys: ['f', 'j'],
      word_lists: [{ label: 'A', words: ['X', 'Y'] }], word_options: ['X', 'Y'],
    },
    scalar: ['ink_color_name', ['RED', 'BLUE']],
  },
  'simon-trial': { lists: { stimuli: [{ name: 'PINK', color: '#f0f' }, { name: 'TEAL', color: '#0ff' }] }, scalar: ['stimulus_side', ['left', 'right']] },
  'pvt-trial': { lists: {}, scalar: ['foreperiod_ms', [2000, 3000]] },
  'task-switching-trial': {
    lists: { tasks: [{ category_a_tokens: ['A'], category_b_tokens: ['B'] }, { category_a_tokens: ['1'], category_b_tokens: ['2'] }] },
    scalar: ['cue_type', ['explicit', 'color']],
  },
  'nback-trial-sequence': { lists: { stimulus_pool: ['P', 'Q', 'R'] }, scalar: null },
  'nback-block': { lists: { stimulus_pool: ['P', 'Q', 'R'] }, scalar: null },
  'rdm-trial': { lists: { choices: ['q', 'p'] }, scalar: ['coherence', [0.1, 0.9]] },
  'rdm-practice': { lists: { choices: ['q', 'p'] }, scalar: ['coherence', [0.1, 0.9]] },
  'rdm-dot-groups': { lists: { choices: ['q', 'p'] }, scalar: ['group_1_coherence', [0.1, 0.9]] },
  'rdm-adaptive': { lists: { choices: ['q', 'p'] }, scalar: ['speed', [3, 6]], extra: { algorithm: 'staircase' } },
  'detection-response-task-start': { lists: {}, scalar: ['stimulus_color', ['#f00', '#0f0']] },
  'detection-response-task-stop': { lists: {}, scalar: null },
};

for (const [type, sample] of Object.entries(SAMPLES)) {
  test(`${type}: list fields stay whole, scalar lists are drawn per trial`, () => {
    assert.ok(COMPONENT_SPECS[type], type);
    assert.deepEqual(Object.keys(sample.lists).sort(), [...COMPONENT_SPECS[type].lists].sort(), 'every list field is tried');
    if (Object.keys(sample.lists).length) {
      const ts = trials(block(type, { ...sample.lists, ...(sample.extra || {}) })).filter((t) => t.component_type === compiledAs(type));
      assert.ok(ts.length > 0);
      for (const t of ts) {
        for (const [k, v] of Object.entries(sample.lists)) {
          if (k === 'stimulus_images') continue; // the pool itself: checked below
          if (k === 'choices' && ['html-keyboard-response', 'instructions', 'image-keyboard-response'].includes(type)) assert.deepEqual(t.params[k], v);
          else assert.deepEqual(t.params[k], v, `${type}.${k}`);
        }
        if (type === 'image-keyboard-response') assert.ok(['a.png', 'b.png'].includes(t.params.stimulus), 'one image of the pool per trial');
      }
      // A list of such lists is a per-trial choice between them.
      const [k, v] = Object.entries(sample.lists)[0];
      const alt = Array.isArray(v) ? v.slice().reverse() : v;
      const ch = trials(block(type, { [k]: [v, alt], ...(sample.extra || {}) })).filter((t) => t.component_type === compiledAs(type));
      const seen = new Set(ch.map((t) => JSON.stringify(t.params[k])));
      if (!['nback-trial-sequence', 'nback-block'].includes(type)) assert.equal(seen.size, 2, `${type}.${k}: both lists are used`);
      assert.ok(ch.every((t) => [JSON.stringify(v), JSON.stringify(alt)].includes(JSON.stringify(t.params[k]))));
    }
    if (sample.scalar) {
      const [k, opts] = sample.scalar;
      const ts = trials(block(type, { [k]: opts, ...(sample.extra || {}) })).filter((t) => t.component_type === compiledAs(type));
      const got = new Set(ts.map((t) => t.params[k]));
      assert.deepEqual([...got].sort(), opts.slice().sort(), `${type}.${k} is drawn per trial from its list`);
    }
  });
}

test('the reported bugs: a Stroop block keeps its F/J/K keys and a Simon block its palette', () => {
  const st = trials(block('stroop-trial', { choice_keys: ['f', 'j', 'k'], stimuli: [{ name: 'RED', color: '#e53935' }, { name: 'GREEN', color: '#43a047' }, { name: 'BLUE', color: '#1e88e5' }] }));
  assert.ok(st.every((t) => t.params.choice_keys.join() === 'f,j,k'));
  const si = trials(block('simon-trial', { stimuli: [{ name: 'PINK', color: '#ff00ff' }, { name: 'TEAL', color: '#00ffff' }], stimulus_color_name: ['PINK', 'TEAL'] }));
  assert.ok(si.every((t) => t.params.stimuli.length === 2 && t.params.stimuli[0].name === 'PINK'));
});

test('a comma list of numbers is a per-trial choice; text with commas is one value', () => {
  const ts = trials(block('rdm-trial', { direction: '0,180', feedback: { enabled: false } }));
  assert.deepEqual([...new Set(ts.map((t) => t.params.direction))].sort((a, b) => a - b), [0, 180]);
  const sc = trials(block('instructions', { stimulus: 'Hello, world' }));
  assert.ok(sc.every((t) => t.params.stimulus === 'Hello, world'));
});
