// QUEST and the up/down staircases: the Bayesian update, convergence on a simulated observer,
// bounds, and the per-location / coarse-to-fine wrapper used by Gabor blocks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createQuest } from '../../resources/interpreter/quest.js';
import { createGaborAdaptive, createProcedure, createUpDown, rdmProcedureOptions } from '../../resources/interpreter/adaptive.js';
import { makeRng } from '../../resources/interpreter/prng.js';

// A simulated observer whose true psychometric function is QUEST's own model with threshold T.
function observer(q, T, seed) {
  const rng = makeRng(seed);
  return (x) => rng() < q.probability(x, T);
}

test('QUEST: the psychometric function passes through target_performance at the threshold', () => {
  for (const psychometric of ['weibull', 'logistic']) {
    const q = createQuest({ start_value: 10, start_sd: 5, target_performance: 0.82, beta: 3.5, gamma: 0.5, delta: 0.01, psychometric });
    assert.ok(Math.abs(q.probability(7, 7) - 0.82) < 1e-9, psychometric);
    assert.ok(q.probability(20, 7) > 0.82 && q.probability(3, 7) < 0.82, 'increasing in intensity');
    const top = q.probability(1e6, 7);
    assert.ok(top >= 0.99 - 1e-9 && top <= 1 - 0.01 * 0.5 + 1e-9, 'the lapse rate caps performance');
    assert.ok(Math.abs(q.probability(1e-6, 7) - 0.5) < 0.02, 'guess rate floors performance');
  }
});

test('QUEST: the first trial is placed at the prior mean and the prior SD is reported', () => {
  const q = createQuest({ start_value: 10, start_sd: 2, min_value: 0.1, max_value: 100 });
  assert.ok(Math.abs(q.next() - 10) < 0.01);
  assert.ok(Math.abs(q.sd() - 2) < 0.02);
});

test('QUEST: Bayes rule moves the estimate down after a correct answer and up after an error', () => {
  const a = createQuest({ start_value: 10, start_sd: 5, min_value: 2, max_value: 30 });
  const m0 = a.mean();
  a.next();
  a.update(true);
  assert.ok(a.mean() < m0);
  const b = createQuest({ start_value: 10, start_sd: 5, min_value: 2, max_value: 30 });
  b.next();
  b.update(false);
  assert.ok(b.mean() > m0);
  assert.ok(b.sd() < 5, 'every answer narrows the posterior');
  // The posterior is the prior times the likelihood: check one grid point ratio by hand.
  const c = createQuest({ start_value: 10, start_sd: 5, min_value: 2, max_value: 30 });
  const x = c.next();
  c.update(false, x);
  const prior = (t) => Math.exp(-0.5 * ((t - 10) / 5) ** 2);
  const post = (t) => prior(t) * (1 - c.probability(x, t));
  // Posterior mean by direct integration over the same range.
  let num = 0;
  let den = 0;
  for (let i = 0; i <= 20000; i++) {
    const t = 2 + (28 * i) / 20000;
    num += t * post(t);
    den += post(t);
  }
  assert.ok(Math.abs(c.mean() - num / den) < 0.05, `${c.mean()} vs ${num / den}`);
});

test('QUEST converges on the simulated observer\'s threshold', () => {
  for (const [T, seed] of [[6, 'a'], [15, 'b'], [24, 'c']]) {
    const q = createQuest({ start_value: 12, start_sd: 8, min_value: 1, max_value: 60, target_performance: 0.82 });
    const answer = observer(q, T, seed);
    for (let i = 0; i < 300; i++) q.update(answer(q.next()));
    assert.ok(Math.abs(q.mean() - T) < 0.2 * T, `T=${T}: estimate ${q.mean()}`);
    assert.ok(q.sd() < 0.15 * T, `T=${T}: sd ${q.sd()}`);
    assert.equal(q.trials, 300);
  }
});

test('QUEST keeps its intensities inside min/max and survives long runs', () => {
  const q = createQuest({ start_value: 0.5, start_sd: 0.3, min_value: 0, max_value: 1 });
  for (let i = 0; i < 2000; i++) {
    const x = q.next();
    assert.ok(x > 0 && x <= 1, String(x));
    q.update(true); // an observer who is always right drives the value to the floor
  }
  assert.ok(Number.isFinite(q.mean()) && Number.isFinite(q.sd()));
  assert.ok(q.next() < 0.05);
});

test('weighted up/down: an error raises by step, a correct answer lowers by step*(1-p)/p, and it converges', () => {
  const sc = createUpDown({ start_value: 0.8, step_size: 0.06, target_performance: 0.75, min_value: 0.01, max_value: 1 });
  assert.ok(Math.abs(sc.stepDown - 0.02) < 1e-12);
  sc.next();
  sc.update(false);
  assert.ok(Math.abs(sc.value - 0.86) < 1e-12);
  // Observer: p(correct) = 0.5 + 0.5 * min(1, value / 0.4) reaches 0.75 at 0.2.
  const rng = makeRng('observer');
  const values = [];
  for (let i = 0; i < 4000; i++) {
    const p = 0.5 + 0.5 * Math.min(1, sc.next() / 0.4);
    sc.update(rng() < p);
    if (i > 1000) values.push(sc.value);
  }
  const m = values.reduce((a, b) => a + b, 0) / values.length;
  assert.ok(m > 0.14 && m < 0.26, `converged to ${m}, expected near 0.2`);
  assert.ok(sc.reversals > 50);
  const lo = createUpDown({ start_value: 0.02, step_size: 0.05, min_value: 0.01 });
  lo.update(true);
  assert.equal(lo.value, 0.01, 'clamped to the minimum');
  const simple = createUpDown({ algorithm: 'simple', start_value: 0.5, step_size: 0.1 });
  simple.update(true);
  assert.ok(Math.abs(simple.value - 0.4) < 1e-12);
});

test('the algorithm field selects the procedure; RDM options follow the reference defaults', () => {
  assert.equal(createProcedure({ algorithm: 'quest', start_value: 1 }).algorithm, 'quest');
  assert.equal(createProcedure({ algorithm: 'staircase' }).algorithm, 'staircase');
  assert.equal(createProcedure({ mode: 'simple' }).algorithm, 'simple');
  const o = rdmProcedureOptions({ initial_coherence: 0.3, step_size: 0.01, target_performance: 0.75 });
  assert.equal(o.algorithm, 'quest', 'QUEST is the default for rdm-adaptive');
  assert.equal(o.start_sd, 0.02, 'prior SD = step size, at least 0.02');
  assert.equal(o.min_value, 0);
  const q = createProcedure(o);
  assert.ok(Math.abs(q.next() - 0.3) < 0.01);
});

test('Gabor adaptive: per-location procedures and the coarse-to-fine restart', () => {
  const ad = createGaborAdaptive({ mode: 'quest', parameter: 'target_tilt_deg', start_value: 20, start_sd: 10, min_value: 1, max_value: 45, staircase_per_location: true, quest_trials_coarse: 5 });
  assert.equal(ad.parameter, 'target_tilt_deg');
  for (let i = 0; i < 4; i++) ad.update('left', false, ad.next('left'));
  const leftBefore = ad.estimate('left').mean;
  assert.ok(leftBefore > 20);
  assert.ok(Math.abs(ad.estimate('right').mean - 20) < 1, 'the right side did not learn from left trials');
  assert.equal(ad.phase('left'), 'coarse');
  ad.update('left', false, ad.next('left'));
  assert.equal(ad.phase('left'), 'fine');
  const fine = ad.estimate('left');
  assert.ok(fine.sd < 10 * 0.4 + 0.2, `fine prior SD ${fine.sd}`);
  assert.equal(fine.trials, 5);
  const th = ad.thresholds();
  assert.ok(Number.isFinite(th.left) && Number.isFinite(th.right));
  const single = createGaborAdaptive({ mode: 'quest', start_value: 0.5, start_sd: 0.2, parameter: 'contrast', min_value: 0, max_value: 1 });
  assert.deepEqual(Object.keys(single.thresholds()), ['combined']);
});
