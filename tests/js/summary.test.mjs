import { test } from 'node:test';
import assert from 'node:assert/strict';
import { computeSummary } from '../../resources/interpreter/summary.js';
import { hashSeed, makeRng } from '../../resources/interpreter/prng.js';

test('summary: counts, mean RT and accuracy per component and for the task', () => {
  const rows = [
    { trial_index: 0, component_type: 'instructions', rt_ms: 5000, response: 'space', correct: null, ended_reason: 'response' },
    { trial_index: 1, component_type: 'flanker-trial', rt_ms: 400, response: 'f', correct: true, ended_reason: 'response' },
    { trial_index: 2, component_type: 'flanker-trial', rt_ms: 600, response: 'j', correct: false, ended_reason: 'response' },
    { trial_index: 3, component_type: 'flanker-trial', rt_ms: null, response: null, correct: false, ended_reason: 'timeout' },
    { trial_index: 4, component_type: 'pvt-trial', rt_ms: 250, response: 'space', correct: null, false_start: false, lapse: false, ended_reason: 'response' },
    { trial_index: 5, component_type: 'pvt-trial', rt_ms: 100, response: 'space', correct: null, false_start: true, lapse: false, ended_reason: 'false_start' },
    { trial_index: 6, component_type: 'unsupported', original_type: 'mot-trial', response: 'space', correct: null },
  ];
  const s = computeSummary(rows, { taskType: 'flanker' });
  assert.equal(s.trial_count, 7);
  const f = s.components['flanker-trial'];
  assert.equal(f.count, 3);
  assert.equal(f.responded, 2);
  assert.equal(f.timeouts, 1);
  assert.equal(f.mean_rt_ms, 500);
  assert.equal(f.mean_rt_correct_ms, 400);
  assert.equal(f.accuracy, 0.33);
  assert.equal(s.components['pvt-trial'].false_starts, 1);
  assert.equal(s.task.count, 5, 'instructions and unsupported rows are not task trials');
  assert.equal(s.components.instructions.accuracy, null);
  assert.deepEqual(s.unsupported_components, ['mot-trial']);
});

test('summary of an empty run', () => {
  const s = computeSummary([], { status: 'failed' });
  assert.equal(s.trial_count, 0);
  assert.equal(s.task.mean_rt_ms, null);
  assert.equal(s.task.accuracy, null);
  assert.equal(s.status, 'failed');
});

test('PRNG is deterministic per seed and roughly uniform', () => {
  const a = makeRng(42);
  const b = makeRng(42);
  const xs = Array.from({ length: 10000 }, () => a());
  assert.deepEqual(xs.slice(0, 5), Array.from({ length: 5 }, () => b()));
  const m = xs.reduce((s, x) => s + x, 0) / xs.length;
  assert.ok(Math.abs(m - 0.5) < 0.02);
  assert.ok(xs.every((x) => x >= 0 && x < 1));
  assert.notEqual(hashSeed('a'), hashSeed('b'));
  const r = makeRng(1);
  const ints = new Set(Array.from({ length: 500 }, () => r.int(2, 5)));
  assert.deepEqual([...ints].sort(), [2, 3, 4, 5]);
  assert.deepEqual(r.shuffle([1, 2, 3, 4]).sort(), [1, 2, 3, 4]);
});
