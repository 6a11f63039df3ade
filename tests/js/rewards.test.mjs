// Rewards: the master switch, policy normalisation, scoring rules, milestones, totals computed
// on the fly or at the end, templates, and where the compiler puts the reward screens.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { compatConfigs, ROOT } from './helpers.mjs';
import { compileConfig } from '../../resources/interpreter/compiler.js';
import {
  applyRewardSwitch, finalTotals, isSuccess, newRewardState, normalizePolicy, renderTemplate, scoreTrial, templateVars,
} from '../../resources/interpreter/rewards.js';

const byName = Object.fromEntries(compatConfigs().map((c) => [c.name, c.config]));
const structural = JSON.parse(fs.readFileSync(path.join(ROOT, 'tests', 'fixtures', 'compat', 'configs-authored', 'structural.json'), 'utf8'));
const rs = (extra = {}) => ({ type: 'reward-settings', ...extra });

test('reward_settings.enabled is a master switch over the reward-settings items', () => {
  const tl = [{ type: 'instructions' }, rs({ points_per_success: 5 }), { type: 'flanker-trial' }, rs({ points_per_success: 9 })];
  const on = applyRewardSwitch({ reward_settings: { enabled: true, currency_label: 'coins' }, timeline: tl });
  assert.deepEqual(on.timeline.map((t) => t.type), ['reward-settings', 'instructions', 'flanker-trial']);
  assert.equal(on.timeline[0].points_per_success, 5, 'the first item is kept');
  assert.equal(on.timeline[0].currency_label, 'coins', 'top-level keys override it');
  assert.equal(on.timeline[0].enabled, undefined);
  const made = applyRewardSwitch({ reward_settings: { enabled: true }, timeline: [{ type: 'flanker-trial' }] });
  assert.deepEqual(made.timeline.map((t) => t.type), ['reward-settings', 'flanker-trial']);
  const off = applyRewardSwitch({ reward_settings: { enabled: false }, timeline: tl });
  assert.deepEqual(off.timeline.map((t) => t.type), ['instructions', 'flanker-trial']);
  const cfg = { timeline: tl };
  assert.equal(applyRewardSwitch(cfg), cfg, 'no switch: the timeline is as authored');
});

test('policy defaults, aliases and legacy screen fields', () => {
  const p = normalizePolicy({ currency: 'tokens', scoring_basis: 'rt', summary_title: 'Done', summary_template_html: '<p>{{total_points}}</p>', extra_screens: [{ html: 'x' }] });
  assert.equal(p.currency_label, 'tokens');
  assert.equal(p.scoring_basis, 'reaction_time');
  assert.equal(p.rt_threshold_ms, 600);
  assert.equal(p.points_per_success, 1);
  assert.equal(p.calculate_on_the_fly, true);
  assert.equal(p.show_summary_at_end, true);
  assert.equal(p.summary_screen.title, 'Done');
  assert.equal(p.summary_screen.template_html, '<p>{{total_points}}</p>');
  assert.equal(p.intermediate_screens[0].template_html, 'x');
  assert.match(p.instructions_screen.template_html, /\{\{currency_label\}\}/, 'an empty instructions template gets the Builder default');
  const g = normalizePolicy({ gabor_reward_feedback_enabled: true, gabor_reward_points_fast: 7 });
  assert.deepEqual(g.gabor_defaults, { reward_feedback_enabled: true, reward_points_fast: 7 });
});

test('success rules for accuracy, reaction time and both; unavailable rewards never pay', () => {
  const acc = normalizePolicy({ scoring_basis: 'accuracy' });
  assert.equal(isSuccess({ correct: true, rt_ms: 5000 }, acc), true);
  assert.equal(isSuccess({ correct: false, rt_ms: 100 }, acc), false);
  assert.equal(isSuccess({ correct: true, rt_ms: 100, reward_available: false }, acc), false);
  const rt = normalizePolicy({ scoring_basis: 'reaction_time', rt_threshold_ms: 500 });
  assert.equal(isSuccess({ correct: false, rt_ms: 400 }, rt), true);
  assert.equal(isSuccess({ correct: true, rt_ms: 600 }, rt), false);
  assert.equal(isSuccess({ correct: true, rt_ms: null }, rt), false, 'no response is not fast');
  const rtc = normalizePolicy({ scoring_basis: 'reaction_time', rt_threshold_ms: 500, require_correct_for_rt: true });
  assert.equal(isSuccess({ correct: false, rt_ms: 400 }, rtc), false);
  assert.equal(isSuccess({ correct: null, rt_ms: 400 }, rtc), true, 'correctness unknown: RT decides');
  const both = normalizePolicy({ scoring_basis: 'both', rt_threshold_ms: 500 });
  assert.equal(isSuccess({ correct: true, rt_ms: 400 }, both), true);
  assert.equal(isSuccess({ correct: true, rt_ms: 501 }, both), false);
});

test('scoring: running totals, streaks, and each milestone once, right when it is reached', () => {
  const policy = normalizePolicy({
    scoring_basis: 'accuracy', points_per_success: 10,
    milestones: [
      { id: 'two', trigger_type: 'trial_count', threshold: 2, screen: { title: 'T' } },
      { id: 'streak', trigger_type: 'success_streak', threshold: 3 },
      { id: 'pts', trigger_type: 'total_points', threshold: 40 },
    ],
  });
  const st = newRewardState();
  const outcomes = [true, false, true, true, true, true];
  const got = outcomes.map((c) => scoreTrial(policy, st, { correct: c, rt_ms: 300 }));
  assert.deepEqual(got.map((g) => g.fields.reward_points), [10, 0, 10, 10, 10, 10]);
  assert.deepEqual(got.map((g) => g.fields.reward_total_points), [10, 10, 20, 30, 40, 50]);
  assert.deepEqual(got.map((g) => g.fields.reward_success_streak), [1, 0, 1, 2, 3, 4]);
  assert.deepEqual(got.map((g) => g.milestones.map((m) => m.id)), [[], ['two'], [], [], ['streak', 'pts'], []]);
  assert.equal(got[1].milestones[0].screen.title, 'T');
  assert.deepEqual(finalTotals(policy, st), { total_points: 50, rewarded_trials: 5, eligible_trials: 6, success_streak: 4 });
});

test('calculate_on_the_fly false: rows carry no points, the summary computes the same totals', () => {
  const fly = normalizePolicy({ scoring_basis: 'both', rt_threshold_ms: 500, points_per_success: 2 });
  const late = normalizePolicy({ scoring_basis: 'both', rt_threshold_ms: 500, points_per_success: 2, calculate_on_the_fly: false });
  const a = newRewardState();
  const b = newRewardState();
  const rows = [{ correct: true, rt_ms: 300 }, { correct: true, rt_ms: 700 }, { correct: false, rt_ms: 200 }, { correct: true, rt_ms: 499 }];
  for (const r of rows) {
    scoreTrial(fly, a, r);
    const f = scoreTrial(late, b, r).fields;
    assert.equal(f.reward_points, null);
    assert.equal(f.reward_total_points, undefined);
  }
  assert.deepEqual(finalTotals(late, b), finalTotals(fly, a));
  assert.equal(finalTotals(fly, a).total_points, 4);
});

test('templates: variables filled and escaped, unknown names empty', () => {
  const policy = normalizePolicy({ currency_label: '<b>€</b>', continue_key: 'enter' });
  const vars = templateVars(policy, { ...newRewardState(), total_points: 12 });
  assert.equal(renderTemplate('<p>{{ total_points }} {{currency_label}} {{nope}} {{continue_key_label}}</p>', vars), '<p>12 &lt;b&gt;€&lt;/b&gt;  ENTER</p>');
  assert.equal(templateVars(normalizePolicy({ continue_key: 'ALL_KEYS' })).continue_key_label, 'ANY KEY');
});

test('the compiler places reward screens and marks the trials a policy scores', () => {
  const ts = compileConfig(byName['sample_gabor_rewards_milestones.json'], { runSeed: 3 }).trials;
  const kinds = ts.map((t) => (t.component_type === 'reward-settings' ? `reward:${t.params.reward_screen}` : t.component_type));
  assert.deepEqual(kinds, ['reward:instructions', 'reward:intermediate', 'instructions', ...Array(6).fill('gabor-trial'), 'reward:summary']);
  assert.ok(ts.filter((t) => t.component_type === 'gabor-trial').every((t) => t.meta.reward_scored === true));
  assert.equal(ts[0].params.policy.milestones.length, 2);
  assert.ok(ts.every((t) => t.meta.own_keys === undefined), 'compile-only bookkeeping is removed');
  const s = compileConfig(structural, { runSeed: 3 }).trials;
  assert.equal(s[0].component_type, 'reward-settings', 'reward_settings.enabled moves the item to the start');
  assert.equal(s[0].params.policy.currency_label, 'points');
  assert.equal(s[0].params.policy.points_per_success, 10);
  const flanker = s.filter((t) => t.component_type === 'flanker-trial');
  assert.equal(flanker.length, 8);
  assert.ok(flanker.every((t) => t.meta.reward_scored));
  assert.ok(!s.some((t) => t.component_type === 'survey-response' && t.meta.reward_scored), 'surveys are not scored');
  const off = compileConfig({ ...structural, reward_settings: { enabled: false } }, { runSeed: 3 }).trials;
  assert.ok(!off.some((t) => t.component_type === 'reward-settings' || t.meta.reward_scored));
});

test('a reward policy scores only what follows it; its Gabor defaults lose to the trial\'s own values', () => {
  const cfg = {
    experiment_type: 'trial-based', task_type: 'gabor',
    gabor_settings: { reward_feedback_enabled: false, reward_points_fast: 1 },
    timeline: [
      { type: 'gabor-trial' },
      rs({ gabor_reward_feedback_enabled: true, gabor_reward_points_fast: 5, gabor_reward_points_slow: 3 }),
      { type: 'gabor-trial', reward_points_slow: 0 },
    ],
  };
  const ts = compileConfig(cfg, { runSeed: 1 }).trials;
  assert.equal(ts[0].meta.reward_scored, undefined);
  assert.equal(ts[0].params.reward_feedback_enabled, false);
  const g = ts.find((t, i) => i > 0 && t.component_type === 'gabor-trial');
  assert.equal(g.meta.reward_scored, true);
  assert.equal(g.params.reward_feedback_enabled, true, 'the policy beats gabor_settings');
  assert.equal(g.params.reward_points_fast, 5);
  assert.equal(g.params.reward_points_slow, 0, 'the trial beats the policy');
});
