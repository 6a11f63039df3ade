import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { loadSchema, INTERP } from './helpers.mjs';
import { KNOWN_COMPONENTS } from '../../resources/interpreter/catalogue.js';
import { SUPPORTED_TYPES, componentFor } from '../../resources/interpreter/components/index.js';
import { flankerString } from '../../resources/interpreter/components/flanker.js';
import { isVisible } from '../../resources/interpreter/components/survey.js';
import { visualAngle } from '../../resources/interpreter/components/calibration.js';
import { resolveDirection, segmentOf, sideOf } from '../../resources/interpreter/components/rdm-engine.js';
import { makeRng } from '../../resources/interpreter/prng.js';

test('every known component has a runtime module, and unknown types get the unsupported one', () => {
  for (const t of KNOWN_COMPONENTS) {
    assert.ok(SUPPORTED_TYPES.includes(t), t);
    assert.equal(typeof componentFor(t).run, 'function', t);
  }
  assert.equal(componentFor('no-such-component'), componentFor('unsupported'));
});

test('the schema catalogue lists exactly the components the Interpreter runs', () => {
  assert.deepEqual([...loadSchema()['x-cogflow-components']].sort(), [...KNOWN_COMPONENTS].sort());
});

test('component modules stay small', () => {
  const dir = path.join(INTERP, 'components');
  for (const f of fs.readdirSync(dir)) {
    const lines = fs.readFileSync(path.join(dir, f), 'utf8').split('\n').length;
    assert.ok(lines < 250, `${f} has ${lines} lines`);
  }
});

test('flanker strings for every congruency and stimulus type', () => {
  assert.equal(flankerString({ target_direction: 'left', congruency: 'congruent' }).text, '←←←←←');
  assert.equal(flankerString({ target_direction: 'left', congruency: 'incongruent' }).text, '→→←→→');
  assert.equal(flankerString({ target_direction: 'right', congruency: 'neutral' }).text, '––→––');
  assert.equal(flankerString({ stimulus_type: 'letters', target_direction: 'right', congruency: 'incongruent' }).text, 'HHSHH');
});

test('survey visible_if: equals, checkbox contains, unanswered hides', () => {
  const q = { id: 'why', visible_if: { question_id: 'focus', equals: '1' } };
  assert.equal(isVisible(q, {}), false);
  assert.equal(isVisible(q, { focus: '1' }), true);
  assert.equal(isVisible(q, { focus: 1 }), true);
  assert.equal(isVisible(q, { focus: '2' }), false);
  assert.equal(isVisible(q, { focus: ['3', '1'] }), true);
  assert.equal(isVisible({ id: 'x' }, {}), true);
});

test('visual angle: 1 deg at 57.3 cm is about 1 cm', () => {
  const va = visualAngle(40, 57.29);
  assert.ok(Math.abs(va.cm_per_deg - 1) < 0.001);
  assert.ok(Math.abs(va.px_per_deg - 40) < 0.05);
});

test('RDM direction expressions, sides and mouse segments', () => {
  const rng = makeRng(1);
  assert.equal(resolveDirection(90, rng), 90);
  const picks = new Set(Array.from({ length: 50 }, () => resolveDirection('0,180', rng)));
  assert.deepEqual([...picks].sort((a, b) => a - b), [0, 180]);
  const r = resolveDirection('0-15', rng);
  assert.ok(r >= 0 && r <= 15);
  assert.equal(sideOf(0), 'right');
  assert.equal(sideOf(180), 'left');
  assert.equal(sideOf(90), 'up');
  assert.equal(segmentOf(10, 2, 0), 0);
  assert.equal(segmentOf(190, 2, 0), 1);
  assert.equal(segmentOf(-10, 2, 0), 1);
  assert.equal(segmentOf(0, 4, -45), 0);
  assert.equal(segmentOf(180, 2, -90), 1);
});
