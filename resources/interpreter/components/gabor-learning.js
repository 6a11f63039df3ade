// gabor-learning: Gabor trials, one after another, until the rolling accuracy over the last
// `learning_streak_length` trials reaches `learning_target_accuracy` (checked from trial
// `learning_accuracy_start_trial` on), or `learning_max_trials` were run. Every trial is its own
// gabor-trial row (pushed as it ends, so it is checkpointed like any other); the block ends
// with one gabor-learning row that says how it ended.

import { BLOCK_KEYS, learningDone, learningTrialMaker } from '../gabor-blocks.js';
import { makeRng } from '../prng.js';
import { withoutInherit } from '../sampling.js';
import { runGaborTrial } from './gabor.js';

const META_FIELDS = ['block_index', 'block_seed', 'loop_iteration', 'loop_id', 'label'];

function pushRow(ctx, data, start) {
  const run = ctx.run;
  const row = run.baseRow('gabor-trial');
  for (const f of META_FIELDS) if (ctx.spec.meta[f] !== undefined) row[f] = ctx.spec.meta[f];
  Object.assign(row, data, { component_type: 'gabor-trial', trial_start_ms: start, trial_end_ms: performance.now() });
  run.push(row);
}

export async function run(el, p, ctx) {
  const opts = p.learning;
  const seed = `${p.seed ?? ctx.run?.runSeed}|gabor-learning|${ctx.spec.meta.path}`;
  const next = learningTrialMaker(p.values ?? {}, p.windows, p.settings ?? {}, makeRng(seed));
  const base = withoutInherit(p.settings);
  for (const k of BLOCK_KEYS) delete base[k];
  const history = [];
  let status = { done: false };
  while (!status.done && !ctx.signal.aborted) {
    const i = history.length;
    const params = { ...base, ...next(i), show_feedback: opts.show_feedback, feedback_duration_ms: opts.feedback_duration_ms, gabor_learning_block: true };
    const start = performance.now();
    const data = await runGaborTrial(el, params, { ...ctx, rng: makeRng(`${seed}|trial|${i}`) });
    if (ctx.signal.aborted) break;
    history.push(data.correct === true);
    status = learningDone(opts, history);
    pushRow(ctx, { ...data, gabor_learning_block: true, gabor_learning_trial: i, learning_rolling_accuracy: status.accuracy ?? null }, start);
  }
  const correct = history.filter(Boolean).length;
  return {
    ended_reason: 'duration', correct: null,
    learning_outcome: status.reason ?? null, learning_criterion_met: status.reason === 'criterion_met',
    learning_trials: history.length, learning_accuracy: history.length ? correct / history.length : null,
    learning_final_rolling_accuracy: status.accuracy ?? null,
    learning_streak_length: opts.streak_length, learning_target_accuracy: opts.target_accuracy,
    learning_max_trials: opts.max_trials, learning_accuracy_start_trial: opts.accuracy_start_trial,
  };
}
