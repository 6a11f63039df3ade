import { test } from 'node:test';
import assert from 'node:assert/strict';
import { computeSummary } from '../../resources/interpreter/summary.js';
import { createStaircase } from '../../resources/interpreter/staircase.js';
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

test('weighted staircase converges near the target performance', () => {
  const sc = createStaircase({ initial_coherence: 0.8, step_size: 0.02, target_performance: 0.75 });
  assert.ok(Math.abs(sc.stepUp - 0.02) < 1e-9, 'a wrong answer raises coherence by step_size (the reference)');
  assert.ok(Math.abs(sc.stepDown - 0.02 / 3) < 1e-9, 'a right one lowers it by step_size * (1-p)/p');
  const simple = createStaircase({ algorithm: 'simple', initial_coherence: 0.5, step_size: 0.1 });
  simple.update(true);
  assert.ok(Math.abs(simple.value - 0.4) < 1e-9, 'simple: 1-up-1-down with step_size');
  // Simulated observer: p(correct) = 0.5 + 0.5 * min(1, coherence / 0.4).
  const rng = makeRng('observer');
  const values = [];
  for (let i = 0; i < 3000; i++) {
    const p = 0.5 + 0.5 * Math.min(1, sc.value / 0.4);
    sc.update(rng() < p);
    if (i > 1000) values.push(sc.value);
  }
  const m = values.reduce((a, b) => a + b, 0) / values.length;
  assert.ok(m > 0.14 && m < 0.26, `converged to ${m}, expected near 0.2`);
  assert.ok(sc.reversals > 50);
  const lo = createStaircase({ initial_coherence: 0.02, step_size: 0.05, min_coherence: 0.01 });
  lo.update(true);
  assert.equal(lo.value, 0.01, 'clamped to the minimum');
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
