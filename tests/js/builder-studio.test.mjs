// The Builder's issue-#13 modules without a browser: templates are valid and run, the library
// groups and filters, the conditions table round-trips every compat block, problems, partial
// previews, duration estimates, labels and assets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT, compatConfigs, loadSchema } from './helpers.mjs';
import * as m from '../../resources/builder/model.js';
import { EXAMPLES, TEMPLATES } from '../../resources/builder/templates.js';
import { librarySections } from '../../resources/builder/library.js';
import { importTable, isFullCrossing, parseDelimited, rowsAsTrials, setColumn, tableColumns, tableFromBlock } from '../../resources/builder/table.js';
import { pointerFromWhere, studyProblems, whatWillNotRun } from '../../resources/builder/problems.js';
import { estimateDuration, formatDuration } from '../../resources/builder/estimate.js';
import { familyOf, humanize, taskLabel, valueLabel } from '../../resources/builder/families.js';
import { collectAssets } from '../../resources/builder/assets.js';
import { fieldGroupOf, hex6, keyName } from '../../resources/builder/widgets.js';
import { validateConfig } from '../../resources/interpreter/validate.js';
import { compileConfig } from '../../resources/interpreter/compiler.js';

const schema = loadSchema();
const authoredDir = path.join(ROOT, 'tests', 'fixtures', 'compat', 'configs-authored');
const allConfigs = [...compatConfigs(), ...fs.readdirSync(authoredDir).filter((f) => f.endsWith('.json'))
  .map((f) => ({ name: `authored/${f}`, config: JSON.parse(fs.readFileSync(path.join(authoredDir, f), 'utf8')) }))];

test('every template and example is valid, runs here as authored and compiles to trials', () => {
  assert.ok(TEMPLATES.length >= 9);
  for (const t of [...TEMPLATES, ...EXAMPLES]) {
    const config = t.build();
    assert.deepEqual(validateConfig(config, schema).errors, [], `${t.id}: schema`);
    assert.deepEqual(studyProblems(config), [], `${t.id}: study problems`);
    assert.deepEqual(whatWillNotRun(config), [], `${t.id}: refused by the Interpreter`);
    assert.equal(config.data_collection['reaction-time'], true, `${t.id}: reference defaults`);
    const { trials } = compileConfig(config, { runSeed: 7 });
    assert.ok(trials.length >= 2, `${t.id}: ${trials.length} trials`); // a continuous RDM stream is one segment
    assert.ok(!trials.some((s) => s.component_type === 'unsupported'), t.id);
  }
  // Templates: instructions, practice, main.
  for (const t of TEMPLATES) {
    const names = t.build().timeline.map((i) => i.name);
    assert.deepEqual(names.slice(0, 4), ['Welcome', 'Practice', 'Before the main block', 'Main'], t.id);
  }
});

test('new configs carry the reference defaults; switching to continuous adds its own', () => {
  const c = m.newConfig('stroop');
  assert.deepEqual(c.data_collection, { 'reaction-time': true, accuracy: true, correctness: true, 'eye-tracking': false });
  assert.equal(c.default_iti, 1000);
  const k = m.setExperimentType(c, 'continuous');
  assert.deepEqual(k.transition_settings, { duration_ms: 0, type: 'both' });
  assert.equal(k.default_iti, 1000, 'nothing is removed');
  const imported = { experiment_type: 'trial-based', timeline: [] };
  assert.deepEqual(Object.keys(m.setExperimentType(imported, 'trial-based')).sort(),
    ['data_collection', 'default_iti', 'duration', 'experiment_type', 'frame_rate', 'randomize_order', 'reward_settings', 'timeline', 'ui_settings', 'update_interval'].sort());
});

test('library: the study task first, other families on search or request, continuous marks', () => {
  const ids = (s) => s.map((x) => x.id);
  const flanker = librarySections(schema, m.newConfig('flanker'));
  assert.equal(flanker[0].id, 'task');
  assert.deepEqual(flanker[0].entries.map((e) => e.title), ['Flanker block', 'Flanker trial']);
  assert.ok(!ids(flanker).some((id) => id.startsWith('family-')));
  assert.ok(!flanker.flatMap((s) => s.entries).some((e) => e.type === 'html-keyboard-response'), 'aliases are one entry');
  const search = librarySections(schema, m.newConfig('flanker'), 'dot');
  assert.ok(ids(search).includes('family-rdm'));
  const cont = librarySections(schema, m.newConfig('rdm', 'continuous'), '', true);
  assert.equal(cont.find((s) => s.id === 'family-flanker').allowed, false);
  assert.equal(cont.find((s) => s.id === 'family-nback').allowed, true);
  assert.equal(familyOf('emotional-stroop-trial'), 'emotional-stroop');
  assert.equal(familyOf('stroop-trial'), 'stroop');
  assert.equal(familyOf('gabor-quest'), 'gabor');
  assert.equal(familyOf('survey-response'), null);
});

test('labels: codes read as words', () => {
  assert.equal(taskLabel('rdm'), 'Random dot motion (RDM)');
  assert.equal(valueLabel('task_type', 'emotional-stroop'), 'Emotional Stroop');
  assert.equal(valueLabel('sampling_mode', 'per-trial'), 'Per trial (draw new values for every trial)');
  assert.equal(humanize('color_naming'), 'Color naming');
  assert.equal(keyName({ key: ' ' }), 'space');
  assert.equal(keyName({ key: 'F' }), 'f');
  assert.equal(keyName({ key: 'ArrowLeft' }), 'ArrowLeft');
  assert.equal(hex6('#AbC'), '#aabbcc');
  assert.equal(hex6('red'), null);
  assert.equal(fieldGroupOf('feedback_duration_ms', {}), 'feedback');
  assert.equal(fieldGroupOf('iti_ms', {}), 'timing');
  assert.equal(fieldGroupOf('left_key', {}), 'responses');
});

test('conditions table: every compat block round-trips through its table unchanged', () => {
  let blocks = 0;
  for (const { name, config } of allConfigs) {
    for (const { item } of m.walk(config)) {
      if (!item || item.type !== 'block') continue;
      blocks += 1;
      const t = tableFromBlock(item);
      let back = item;
      t.columns.forEach((c, i) => { back = setColumn(back, c, t.rows.map((r) => (r[i] === undefined || r[i] === null ? '' : String(r[i])))); });
      // A column with empty or null cells cannot be typed back; the table never rewrites untouched columns.
      const clean = t.columns.every((_, i) => t.rows.every((r) => r[i] !== null && r[i] !== ''));
      if (clean) assert.deepEqual(back, item, `${name}`);
    }
  }
  assert.ok(blocks > 20, `${blocks} blocks`);
});

test('conditions table: typing, CSV/TSV import, refusal of unknown columns, rows as written', () => {
  const props = schema.$defs['flanker-trial'].properties;
  let b = { type: 'block', component_type: 'flanker-trial', length: 8, parameter_values: { iti_ms: 500 } };
  b = setColumn(b, 'congruency', ['congruent', '', 'incongruent'], props.congruency);
  assert.deepEqual(b.parameter_values.congruency, ['congruent', 'incongruent']);
  b = setColumn(b, 'iti_ms', ['300', '500'], props.iti_ms);
  assert.deepEqual(b.parameter_values.iti_ms, [300, 500]);
  assert.deepEqual(tableColumns(b).sort(), ['congruency', 'iti_ms']);
  assert.deepEqual(parseDelimited('a,"b, c"\n"x ""y""",2\n'), [['a', 'b, c'], ['x "y"', '2']]);
  assert.deepEqual(parseDelimited('a\tb\r\n1\t2'), [['a', 'b'], ['1', '2']]);
  const imported = importTable(b, 'Congruency;Target direction\ncongruent;left\nincongruent;right\n', props);
  assert.deepEqual(imported.parameter_values.target_direction, ['left', 'right']);
  assert.throws(() => importTable(b, 'congruency,colour\ncongruent,red', props), /"colour" is not a parameter/);
  assert.equal(isFullCrossing(tableFromBlock(imported)), false);
  assert.equal(isFullCrossing({ columns: ['a', 'b'], rows: [[1, 'x'], [1, 'y'], [2, 'x'], [2, 'y']] }), true);
  const group = rowsAsTrials(imported, { timeline: [] });
  assert.equal(group.type, 'randomize-group');
  assert.equal(group.items.length, 8, 'two rows, four repetitions: as many trials as the block');
  assert.deepEqual(group.items[1], { type: 'flanker-trial', congruency: 'incongruent', iti_ms: 500, target_direction: 'right' });
});

test('problems: empty timeline, empty survey, continuous without duration; refusals carry paths', () => {
  const c = m.newConfig('flanker');
  assert.match(studyProblems(c)[0].message, /timeline is empty/);
  const s = { ...c, timeline: [{ type: 'loop', items: [{ type: 'survey-response', questions: [] }] }] };
  assert.deepEqual(studyProblems(s), [{ path: '/timeline/0/items/0/questions', message: 'This survey has no questions; add at least one.' }]);
  const k = { ...m.newConfig('rdm', 'continuous'), duration: undefined, timeline: [{ type: 'instructions' }] };
  assert.match(studyProblems(k)[0].message, /continuous study needs a duration/);
  const refused = whatWillNotRun({ ...c, timeline: [{ type: 'loop', items: [{ type: 'no-such-thing' }] }] });
  assert.equal(refused.length, 1);
  assert.equal(refused[0].path, '/timeline/0/items/0');
  assert.equal(pointerFromWhere('Timeline item 3 › 2'), '/timeline/2/items/1');
  assert.equal(pointerFromWhere('Setting "data_collection.eye_tracking"'), '/data_collection/eye_tracking');
});

test('partial previews: one item, or from an item (nested: the rest of its loop, then after)', () => {
  const c = { ...m.newConfig(), randomize_order: true, timeline: [{ type: 'instructions' }, { type: 'loop', items: [{ type: 'sart-trial' }, { type: 'pvt-trial' }] }, { type: 'simon-trial' }] };
  assert.deepEqual(m.partConfig(c, [1, 0], 'item').timeline, [{ type: 'sart-trial' }]);
  assert.deepEqual(m.partConfig(c, [1, 1], 'from').timeline.map((i) => i.type), ['pvt-trial', 'simon-trial']);
  assert.deepEqual(m.partConfig(c, [1], 'from').timeline.map((i) => i.type), ['loop', 'simon-trial']);
  assert.equal(m.partConfig(c, [0], 'item').randomize_order, false);
  assert.equal(m.partConfig(c, [0], 'item').data_collection.accuracy, true);
  assert.throws(() => m.partConfig(c, [9], 'item'), /no longer/);
});

test('duration estimate: trials x (window + ITI), loops multiply, self-paced screens counted', () => {
  const block = { type: 'block', component_type: 'flanker-trial', length: 10, parameter_values: {}, parameter_windows: { iti_ms: { min: 300, max: 700 } } };
  const c = { ...m.newConfig(), timeline: [{ type: 'instructions' }, { type: 'loop', iterations: 2, items: [block] }] };
  const { ms, selfPaced } = estimateDuration(c, schema);
  // Flanker: 1500 ms response window + 500 ms mean ITI per trial, 20 trials, plus 15 s reading.
  assert.equal(ms, 20 * 2000 + 15000);
  assert.equal(selfPaced, 1);
  assert.equal(formatDuration(ms), 'about 55 s');
  assert.equal(formatDuration(7 * 60000), 'about 7 min');
  for (const t of TEMPLATES) {
    const e = estimateDuration(t.build(), schema).ms;
    assert.ok(e > 30000 && e < 30 * 60000, `${t.id}: ${e} ms`);
  }
});

test('assets: every /media/ image a config uses, with its count', () => {
  const a = `/media/${'a'.repeat(64)}.png`;
  const b = `/media/${'b'.repeat(64)}.jpg`;
  const c = { timeline: [{ type: 'image-keyboard-response', stimulus: a }, { type: 'block', parameter_values: { stimulus: [a, b, 'https://x/y.png'] } }] };
  assert.deepEqual(collectAssets(c), [{ url: a, uses: 2 }, { url: b, uses: 1 }]);
});
