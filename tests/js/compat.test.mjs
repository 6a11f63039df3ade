import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compatConfigs, loadSchema } from './helpers.mjs';
import { compileConfig } from '../../resources/interpreter/compiler.js';
import { validateConfig } from '../../resources/interpreter/validate.js';
import { COMPILED_TYPES, KNOWN_COMPONENTS } from '../../resources/interpreter/catalogue.js';

const schema = loadSchema();
const configs = compatConfigs();

test('the compat corpus is there', () => {
  assert.ok(configs.length >= 12, `found ${configs.length} configs`);
});

for (const { name, config } of configs) {
  test(`${name}: validates against the schema`, () => {
    const r = validateConfig(config, schema);
    assert.equal(r.valid, true, JSON.stringify(r.errors, null, 1));
  });

  test(`${name}: compiles to runnable trial specs`, () => {
    const { trials } = compileConfig(config, { runSeed: 7 });
    assert.ok(trials.length > 0);
    for (const t of trials) {
      assert.ok(KNOWN_COMPONENTS.has(t.component_type) || COMPILED_TYPES.has(t.component_type), t.component_type);
      assert.equal(typeof t.params, 'object');
      assert.equal(typeof t.meta.path, 'string');
    }
    // Compiled specs go into jsPsych timelines and result rows: they must be plain JSON.
    assert.deepEqual(JSON.parse(JSON.stringify(trials)), trials);
  });
}

test('schema rejects wrong types, enums and missing required keys', () => {
  const bad = {
    experiment_type: 'trial-based',
    timeline: [
      { type: 'flanker-trial', congruency: 'sideways' },
      { type: 'block', length: 3 },
      { type: 'loop', iterations: 2 },
      { type: 'survey-response', questions: [{ id: 'q', type: 'essay' }] },
      { type: 'sart-trial', digit: 'seven' },
    ],
  };
  const r = validateConfig(bad, schema);
  assert.equal(r.valid, false);
  const paths = r.errors.map((e) => e.path);
  for (const p of ['/timeline/0/congruency', '/timeline/1', '/timeline/2', '/timeline/3/questions/0/type', '/timeline/4/digit']) {
    assert.ok(paths.includes(p), `expected an error at ${p}; got ${JSON.stringify(paths)}`);
  }
  assert.equal(validateConfig({ timeline: [] }, schema).valid, false, 'experiment_type is required');
  assert.equal(validateConfig({ experiment_type: 'sideways', timeline: [] }, schema).valid, false);
  assert.equal(validateConfig([], schema).valid, false);
});

test('schema allows unknown components and extra keys, and warns about unknown components', () => {
  const cfg = { experiment_type: 'trial-based', experiment_meta: { x: 1 }, timeline: [{ type: 'no-such-component', foo: 1 }, { type: 'block', component_type: 'soc-dashboard', length: 2 }] };
  const r = validateConfig(cfg, schema);
  assert.equal(r.valid, true);
  assert.equal(r.warnings.length, 2);
});

test('schema has one $defs entry with titles for every supported component', () => {
  for (const t of KNOWN_COMPONENTS) {
    const d = schema.$defs[t];
    assert.ok(d, `missing $defs/${t}`);
    assert.ok(d.title && d.description, `${t} needs title and description`);
    for (const [k, p] of Object.entries(d.properties)) if (k !== 'type') assert.ok(p.title || p.$ref, `${t}.${k} needs a title`);
  }
  assert.equal(schema.properties.schema_version.const, '1.0');
  assert.equal(schema.$schema, 'https://json-schema.org/draft/2020-12/schema');
});

test('*_settings are validated like the component they default', () => {
  const bad = validateConfig({ experiment_type: 'trial-based', timeline: [], flanker_settings: { left_key: 5, congruency: 'x' } }, schema);
  assert.deepEqual(bad.errors.map((e) => e.path).sort(), ['/flanker_settings/congruency', '/flanker_settings/left_key']);
  assert.equal(validateConfig({ experiment_type: 'trial-based', timeline: [], pvt_settings: { response_device: 'inherit', add_trial_per_false_start: true } }, schema).valid, true);
});
