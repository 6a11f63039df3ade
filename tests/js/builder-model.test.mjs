// The Builder's editor model: timeline operations, blocks, validation mapping, import/export.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compatConfigs, loadSchema } from './helpers.mjs';
import * as m from '../../resources/builder/model.js';
import { validateConfig } from '../../resources/interpreter/validate.js';

const schema = loadSchema();
const types = (items) => items.map((i) => (i.items ? `${i.type}[${types(i.items).join(',')}]` : i.type));

function sample() {
  let c = m.emptyStudy().config;
  for (const t of ['instructions', 'block', 'block', 'survey-response']) {
    c = m.insertItem(c, [], undefined, m.newItem(schema, c, t)).config;
  }
  return c;
}

test('slugs are derived from names and validated', () => {
  assert.equal(m.slugify('Flanker Pilot: Lab 2 (Ünïcode)'), 'flanker-pilot-lab-2-unicode');
  assert.equal(m.slugify('x'.repeat(80)).length, 50);
  let s = m.setStudyName(m.emptyStudy().study, 'My Study');
  assert.equal(s.study_slug, 'my-study');
  s = m.setStudySlug(s, 'custom_slug');
  s = m.setStudyName(s, 'Renamed');
  assert.equal(s.study_slug, 'custom_slug', 'a hand-edited slug no longer follows the name');
  assert.deepEqual(m.studyErrors(s), {});
  assert.match(m.studyErrors({ ...s, study_slug: 'bad slug!' }).study_slug, /letters, digits/);
  assert.match(m.studyErrors({ ...s, study_slug: 'a'.repeat(51) }).study_slug, /50/);
  assert.ok(m.studyErrors({ ...s, study_name: '  ' }).study_name);
  assert.ok(m.studyErrors({ ...s, config_version_label: '' }).config_version_label);
});

test('add: items go after the selection, or inside a selected loop', () => {
  let c = sample();
  assert.deepEqual(types(c.timeline), ['instructions', 'block', 'block', 'survey-response']);
  assert.deepEqual(c.timeline[3].questions, [], 'required fields get an empty start');
  const p = m.insertionPoint(c, [1]);
  c = m.insertItem(c, p.parentPath, p.index, m.newItem(schema, c, 'loop')).config;
  assert.deepEqual(types(c.timeline), ['instructions', 'block', 'loop[]', 'block', 'survey-response']);
  const inside = m.insertionPoint(c, [2]);
  assert.deepEqual(inside, { parentPath: [2], index: 0 });
  const r = m.insertItem(c, inside.parentPath, inside.index, m.newItem(schema, c, 'pvt-trial'));
  assert.deepEqual(r.path, [2, 0]);
  assert.deepEqual(types(r.config.timeline)[2], 'loop[pvt-trial]');
});

test('move: up/down, into the previous loop, out again; the original is untouched', () => {
  const c0 = sample();
  const frozen = JSON.stringify(c0);
  let { config: c, path } = m.moveBy(c0, [3], -1);
  assert.deepEqual(path, [2]);
  assert.deepEqual(types(c.timeline), ['instructions', 'block', 'survey-response', 'block']);
  ({ config: c, path } = m.moveBy(c, [0], -1));
  assert.deepEqual(path, [0], 'the first item cannot move further up');
  ({ config: c, path } = m.moveBy(c, [0], +1));
  assert.deepEqual(types(c.timeline), ['block', 'instructions', 'survey-response', 'block']);
  assert.deepEqual(path, [1]);
  assert.equal(JSON.stringify(c0), frozen);

  c = m.wrapItems(c, [0], 'loop').config;
  ({ config: c, path } = m.moveIntoPrevious(c, [1]));
  assert.deepEqual(path, [0, 1]);
  assert.deepEqual(types(c.timeline), ['loop[block,instructions]', 'survey-response', 'block']);
  ({ config: c, path } = m.moveOut(c, [0, 0]));
  assert.deepEqual(path, [1]);
  assert.deepEqual(types(c.timeline), ['loop[instructions]', 'block', 'survey-response', 'block']);
});

test('move by drag: across levels, with index shifts, never into itself', () => {
  let c = sample();
  c = m.wrapItems(c, [1], 'randomize-group', 2).config;
  assert.deepEqual(types(c.timeline), ['instructions', 'randomize-group[block,block]', 'survey-response']);
  // Drop the first item into the group, between its two blocks.
  let r = m.moveItem(c, [0], [1], 1);
  assert.deepEqual(types(r.config.timeline), ['randomize-group[block,instructions,block]', 'survey-response']);
  assert.deepEqual(r.path, [0, 1]);
  // Drop a nested item at the end of the timeline.
  r = m.moveItem(r.config, [0, 1], [], 2);
  assert.deepEqual(types(r.config.timeline), ['randomize-group[block,block]', 'survey-response', 'instructions']);
  assert.throws(() => m.moveItem(c, [1], [1], 0), /into itself/);
});

test('duplicate gives loops and groups fresh ids; unwrap restores the items', () => {
  let c = sample();
  c = m.wrapItems(c, [1], 'loop', 2).config;
  c = m.wrapItems(c, [1, 0], 'randomize-group').config;
  const r = m.duplicateItem(c, [1]);
  assert.deepEqual(r.path, [2]);
  const ids = m.walk(r.config).map(({ item }) => item.loop_id ?? item.random_group_id).filter(Boolean);
  assert.equal(new Set(ids).size, ids.length, `ids ${ids} must be unique`);
  assert.deepEqual(m.getItem(r.config, [2, 1]), m.getItem(c, [1, 1]));
  const u = m.unwrapItem(r.config, [2]).config;
  assert.deepEqual(types(u.timeline), ['instructions', 'loop[randomize-group[block],block]', 'randomize-group[block]', 'block', 'survey-response']);
  assert.deepEqual(types(m.removeItem(u, [1]).timeline), ['instructions', 'randomize-group[block]', 'block', 'survey-response']);
});

test('block parameters: fixed values, lists, windows in either shape, inherit', () => {
  let b = m.newItem(schema, {}, 'block', 'flanker-trial');
  b = m.setBlockParameter(b, 'congruency', 'list', ['congruent', 'incongruent']);
  b = m.setBlockParameter(b, 'iti_ms', 'window', { min: 300, max: 700 });
  b = m.setBlockParameter(b, 'left_key', 'fixed', 'f');
  assert.deepEqual(b.parameter_values, { congruency: ['congruent', 'incongruent'], left_key: 'f' });
  assert.deepEqual(b.parameter_windows, { iti_ms: { min: 300, max: 700 } });
  assert.deepEqual(m.getBlockParameter(b, 'iti_ms'), { mode: 'window', value: { min: 300, max: 700 } });
  assert.equal(m.getBlockParameter(b, 'congruency').mode, 'list');
  assert.equal(m.getBlockParameter(b, 'target_direction').mode, 'inherit');
  b = m.setBlockParameter(b, 'iti_ms', 'fixed', 400);
  assert.deepEqual(b.parameter_windows, {});
  assert.equal(b.parameter_values.iti_ms, 400);
  // A legacy list-shaped windows array keeps its shape.
  let legacy = { type: 'block', block_component_type: 'rdm-trial', parameter_windows: [{ parameter: 'coherence', min: 0.1, max: 0.5 }] };
  assert.deepEqual(m.getBlockParameter(legacy, 'coherence'), { mode: 'window', value: { min: 0.1, max: 0.5 } });
  legacy = m.setBlockParameter(legacy, 'speed', 'window', { min: 2, max: 6 });
  assert.deepEqual(legacy.parameter_windows, [{ parameter: 'coherence', min: 0.1, max: 0.5 }, { parameter: 'speed', min: 2, max: 6 }]);
  legacy = m.setBlockParameter(legacy, 'coherence', 'inherit');
  assert.deepEqual(legacy.parameter_windows, [{ parameter: 'speed', min: 2, max: 6 }]);
  assert.deepEqual(m.parseList('1, 2,3', true), [1, 2, 3]);
  assert.deepEqual(m.parseList('left, right'), ['left', 'right']);
});

test('a built flanker study with two blocks validates against the schema', () => {
  let c = m.emptyStudy().config;
  c = m.insertItem(c, [], undefined, { type: 'instructions', stimulus: '<p>Hi</p>' }).config;
  for (const seed of [1, 2]) {
    let b = m.newItem(schema, c, 'block', m.taskComponent(schema, 'flanker'));
    b = m.setBlockParameter(b, 'congruency', 'list', ['congruent', 'incongruent']);
    b = m.setBlockParameter(b, 'iti_ms', 'window', { min: 300, max: 700 });
    b = { ...b, seed };
    c = m.insertItem(c, [], undefined, b).config;
  }
  const r = validateConfig(m.exportConfig(c), schema);
  assert.equal(r.valid, true, JSON.stringify(r.errors));
  assert.equal(c.timeline[1].component_type, 'flanker-trial');
});

test('validation errors land on the item and field they are about', () => {
  let c = sample();
  c = m.wrapItems(c, [1], 'loop').config;
  c = m.setField(c, [1, 0], 'length', -3);
  c = m.setField(c, [1], 'iterations', 0);
  c = m.setConfigField(c, 'experiment_type', 'sideways');
  const r = validateConfig(c, schema);
  assert.equal(r.valid, false);
  const { byItem, byConfig } = m.groupErrors(r.errors);
  assert.equal(byItem.get('1.0')[0].field, 'length');
  assert.equal(byItem.get('1')[0].field, 'iterations');
  assert.ok(byConfig.get('experiment_type').length >= 1);
  assert.deepEqual(m.locateError('/timeline/2/items/0/parameter_windows/iti_ms/min'),
    { scope: 'item', path: [2, 0], field: 'parameter_windows', sub: ['iti_ms', 'min'] });
  assert.deepEqual(m.locateError('/flanker_settings/left_key'), { scope: 'config', field: 'flanker_settings', sub: ['left_key'] });
});

test('server errors read as one text in every shape the server uses', () => {
  assert.equal(m.serverErrorText(404, { error: 'Study not found.' }), 'Study not found.');
  assert.equal(m.serverErrorText(403, { detail: 'CSRF Failed: CSRF token missing.' }), 'CSRF Failed: CSRF token missing.');
  assert.equal(m.serverErrorText(400, { study_slug: ['Use letters.'], non_field_errors: ['Bad.'] }), 'study_slug: Use letters. Bad.');
  assert.match(m.serverErrorText(500, null), /HTTP 500/);
});

test('task types that do not fit the experiment type get a note', () => {
  assert.deepEqual(m.studyNotes({ experiment_type: 'trial-based', task_type: 'flanker' }), []);
  assert.deepEqual(m.studyNotes({ experiment_type: 'continuous', task_type: 'rdm' }), []);
  assert.match(m.studyNotes({ experiment_type: 'continuous', task_type: 'stroop' })[0].message, /no continuous mode/);
  assert.equal(m.studyNotes({ experiment_type: 'trial-based', task_type: 'soc-dashboard' })[0].path, '/task_type');
});

test('import rejects what is not a config, in one sentence', () => {
  assert.throws(() => m.parseConfigText('{nope'), /not valid JSON/);
  assert.throws(() => m.parseConfigText('[1,2]'), /JSON object/);
  assert.throws(() => m.parseConfigText('{"timeline": 3}'), /not a list/);
  assert.deepEqual(m.parseConfigText('{"experiment_type": "trial-based"}').timeline, []);
});

const corpus = compatConfigs();
test('the compat corpus is there', () => assert.ok(corpus.length >= 12));

for (const { name, config } of corpus) {
  test(`${name}: import then export is deep-equal, also after editing and undoing`, () => {
    const imported = m.parseConfigText(JSON.stringify(config));
    assert.deepEqual(JSON.parse(m.exportText(imported)), config);
    // Touch the model the way the editor does, then put things back: nothing else may change.
    const first = imported.timeline.length - 1;
    let c = m.moveBy(imported, [first], -1).config;
    c = m.moveBy(c, [Math.max(first - 1, 0)], +1).config;
    if (first >= 0) {
      const before = m.getItem(c, [0]);
      c = m.setField(c, [0], 'name', 'temp');
      c = before.name === undefined ? m.setField(c, [0], 'name', undefined) : m.setField(c, [0], 'name', before.name);
    }
    c = m.wrapItems(c, [0], 'loop').config;
    c = m.unwrapItem(c, [0]).config;
    assert.deepEqual(JSON.parse(m.exportText(c)), config);
    assert.ok(m.studyFromConfig(imported, name.replace(/\.json$/, '')).study_slug.length > 0);
  });
}
