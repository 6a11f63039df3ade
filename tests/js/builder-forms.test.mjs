// The Builder's form generator picks controls that can hold the value a config already has,
// and its drafts survive damaged or refused storage.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadSchema } from './helpers.mjs';
import { controlKind, resolve } from '../../resources/builder/forms.js';
import { loadDraft, saveDraft, DRAFT_KEY } from '../../resources/builder/drafts.js';

const schema = loadSchema();
const prop = (type, key) => resolve(schema, schema.$defs[type].properties[key]);

test('controls follow the schema type', () => {
  assert.equal(controlKind('congruency', prop('flanker-trial', 'congruency'), undefined), 'enum');
  assert.equal(controlKind('show_fixation_dot', prop('flanker-trial', 'show_fixation_dot'), undefined), 'bool');
  assert.equal(controlKind('iti_ms', prop('flanker-trial', 'iti_ms'), 500), 'number');
  assert.equal(controlKind('stimulus', prop('html-keyboard-response', 'stimulus'), '<p>x</p>'), 'longtext');
  assert.equal(controlKind('left_key', prop('flanker-trial', 'left_key'), 'f'), 'text');
  assert.equal(controlKind('seed', prop('block', 'seed'), 3), 'mixed');
  assert.equal(controlKind('choices', prop('html-keyboard-response', 'choices'), 'ALL_KEYS'), 'list');
  assert.equal(controlKind('questions', prop('survey-response', 'questions'), []), 'objects');
  assert.equal(controlKind('data', prop('flanker-trial', 'data'), undefined), 'json');
});

test('a value of another shape gets a control that keeps it exactly', () => {
  // "inherit" in a number field, numbers in a key list, a non-boolean flag, odd questions.
  assert.equal(controlKind('iti_ms', prop('flanker-trial', 'iti_ms'), 'inherit'), 'mixed');
  assert.equal(controlKind('choices', prop('html-keyboard-response', 'choices'), [1, 2]), 'json');
  assert.equal(controlKind('show_fixation_dot', prop('flanker-trial', 'show_fixation_dot'), 'yes'), 'json');
  assert.equal(controlKind('questions', prop('survey-response', 'questions'), ['q1']), 'json');
  assert.equal(controlKind('congruency', prop('flanker-trial', 'congruency'), { a: 1 }), 'json');
  assert.equal(controlKind('stimulus', prop('html-keyboard-response', 'stimulus'), 42), 'json');
});

class MemoryStorage {
  constructor() { this.map = new Map(); }
  getItem(k) { return this.map.has(k) ? this.map.get(k) : null; }
  setItem(k, v) { this.map.set(k, String(v)); }
}

test('drafts: saved, restored, and a damaged or refused store does not break the Builder', () => {
  const store = new MemoryStorage();
  assert.equal(loadDraft(store), null);
  const state = { study: { study_name: 'S' }, config: { experiment_type: 'trial-based', timeline: [{ type: 'sart-trial' }] }, selected: [0] };
  assert.equal(saveDraft(state, store), true);
  const back = loadDraft(store);
  assert.deepEqual([back.study, back.config, back.selected], [state.study, state.config, state.selected]);
  assert.ok(Date.parse(back.saved_at) > 0);
  store.setItem(DRAFT_KEY, '{"config": {"timeline": ');
  assert.equal(loadDraft(store), null);
  store.setItem(DRAFT_KEY, '{"config": {"timeline": 5}}');
  assert.equal(loadDraft(store), null);
  const full = { getItem: () => null, setItem: () => { throw new Error('QuotaExceededError'); } };
  assert.equal(saveDraft(state, full), false);
});
