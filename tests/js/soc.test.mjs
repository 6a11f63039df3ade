// SOC dashboard: schedules, composition of Builder helper items, and the sub-tasks' pure rules.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compatConfigs } from './helpers.mjs';
import { compileConfig } from '../../resources/interpreter/compiler.js';
import { makeRng } from '../../resources/interpreter/prng.js';
import { composeHelpers, maxOverlap, planWindows, runLimit, visibleAt } from '../../resources/interpreter/components/soc-schedule.js';
import { sartConfig, sartEntry, sartOutcome } from '../../resources/interpreter/components/soc-sart.js';
import { nbackAlert, nbackConfig, nbackScore } from '../../resources/interpreter/components/soc-nback.js';
import { correctTarget, targetCards, wcstConfig, wcstEmail } from '../../resources/interpreter/components/soc-wcst.js';
import { SpikeGraph, flankerCluster } from '../../resources/interpreter/components/soc-flanker-graph.js';
import { flankerConfig } from '../../resources/interpreter/components/soc-flanker.js';
import { pvtConfig } from '../../resources/interpreter/components/soc-pvt.js';

const compat = Object.fromEntries(compatConfigs().map((c) => [c.name.replace(/\.json$/, ''), c.config]));
const socSpecs = (config) => compileConfig(config, { runSeed: 7 }).trials.filter((s) => s.component_type === 'soc-dashboard');

test('helper items of a SOC study become one session at the first helper, lasting to the last scheduled end', () => {
  const config = compat['FLANKER-soc-dashboard-01'];
  const tl = composeHelpers(config);
  assert.deepEqual(tl.map((i) => i.type), ['html-keyboard-response', 'soc-dashboard']);
  assert.equal(tl[1].trial_duration_ms, 30000);
  assert.equal(tl[1].subtasks[0].type, 'flanker-like');
  assert.equal(tl[1].subtasks[0].title, 'Flanker-like');
  const [spec] = socSpecs(config);
  // soc_dashboard_settings are defaults; the session's own duration wins.
  assert.equal(spec.params.trial_duration_ms, 30000);
  assert.equal(spec.params.end_key, 'escape');
  assert.equal(spec.params.background_color, '#0b1220');
  assert.deepEqual(spec.params.composed_from, ['soc-subtask-flanker-like']);
});

test('a helper item in a study that has a session runs as a one-window session; icons join sessions', () => {
  const config = {
    experiment_type: 'continuous', task_type: 'soc-dashboard',
    timeline: [
      { type: 'soc-dashboard', trial_duration_ms: 5000 },
      { type: 'soc-subtask-pvt-like', title: 'Alerts', start_at_ms: 1000, duration_ms: 4000 },
      { type: 'soc-dashboard-icon', label: 'Mail', app: 'mail' },
    ],
  };
  const specs = socSpecs(config);
  assert.equal(specs.length, 2);
  assert.deepEqual(specs[0].params.desktop_icons.map((i) => i.label), ['Mail']);
  assert.equal(specs[1].params.original_type, 'soc-subtask-pvt-like');
  assert.equal(specs[1].params.trial_duration_ms, 5000);
  assert.equal(specs[1].params.subtasks[0].type, 'pvt-like');
});

test('every SOC compat config compiles to sessions with the planned windows', () => {
  const plans = {
    sample_soc_3tasks_sequence: [[0, 5000], [5000, 10000], [10000, 15000]],
    sample_soc_nback_10s: [[0, null]],
    sample_soc_sart_10s: [[0, null]],
    sample_soc_pvt_like_01: [[0, 17000], [0, 17000]],
    'FLANKER-soc-dashboard-01': [[0, 30000]],
  };
  for (const [name, want] of Object.entries(plans)) {
    const [spec] = socSpecs(compat[name]);
    const windows = planWindows(spec.params);
    assert.deepEqual(windows.map((w) => [w.schedule.start_at_ms, w.schedule.end_at_ms]), want, name);
  }
  const pvt = planWindows(socSpecs(compat.sample_soc_pvt_like_01)[0].params);
  assert.deepEqual(pvt.map((w) => w.kind), ['pvt-like', 'sart-like']);
  assert.equal(maxOverlap(pvt, 18000), 2);
  const seq = planWindows(socSpecs(compat.sample_soc_3tasks_sequence)[0].params);
  assert.equal(maxOverlap(seq, 15000), 1);
  assert.equal(visibleAt(seq[1], 4999), false);
  assert.equal(visibleAt(seq[1], 5000), true);
  assert.equal(visibleAt(seq[1], 10000), false);
});

test('run limits: min..max drawn once, one bound alone, none = unlimited', () => {
  const rng = makeRng(1);
  assert.equal(runLimit({ min_run_ms: 10000, max_run_ms: 10000 }, rng), 10000);
  const r = runLimit({ min_run_ms: 2000, max_run_ms: 1000 }, rng);
  assert.ok(r >= 1000 && r <= 2000);
  assert.equal(runLimit({ max_run_ms: 500 }, rng), 500);
  assert.equal(runLimit({}, rng), Infinity);
  assert.ok(runLimit({}, rng, [30000, 60000]) >= 30000);
});

test('SART-like: classes follow the probabilities and lists; go_condition decides what a hit is', () => {
  const cfg = sartConfig(compat.sample_soc_sart_10s.timeline[1].subtasks[0]);
  assert.equal(cfg.go_condition, 'allow'); // "target" is the reference's old name for allow
  const rng = makeRng(3);
  const counts = { harmful: 0, benign: 0, neutral: 0 };
  for (let i = 0; i < 4000; i++) {
    const e = sartEntry(cfg, rng);
    counts[e.cls] += 1;
    if (e.cls === 'harmful') assert.ok(cfg.harmful.includes(e.dest));
    if (e.cls === 'neutral') assert.ok(cfg.neutral.includes(e.dest));
  }
  assert.ok(Math.abs(counts.harmful / 4000 - 0.25) < 0.03, JSON.stringify(counts));
  assert.ok(Math.abs(counts.benign / 4000 - 0.15) < 0.03, JSON.stringify(counts));
  assert.deepEqual(sartOutcome(cfg, 'benign', true), { should_respond: true, outcome: 'hit', correct: true });
  assert.deepEqual(sartOutcome(cfg, 'harmful', true), { should_respond: false, outcome: 'false_alarm', correct: false });
  assert.equal(sartOutcome({ ...cfg, go_condition: 'block' }, 'harmful', false).outcome, 'miss');
  assert.equal(sartOutcome(cfg, 'neutral', false).outcome, 'correct_rejection');
  // Without lists every entry is neutral (the reference's default windows).
  assert.equal(sartEntry(sartConfig({}), rng).cls, 'neutral');
});

test('n-back-like: matches copy the field from n back; scoring for go/no-go and 2AFC', () => {
  const cfg = nbackConfig({ n: 2, match_field: 'src_ip', target_probability: 0.3 });
  const rng = makeRng(5);
  const history = [];
  let matches = 0;
  for (let i = 0; i < 2000; i++) {
    const a = nbackAlert(cfg, history, rng);
    if (i < 2) assert.equal(a.is_match, false);
    if (a.is_match) { matches += 1; assert.equal(a.src_ip, history[history.length - 2].src_ip); }
    history.push(a);
  }
  assert.ok(Math.abs(matches / 2000 - 0.3) < 0.04, String(matches));
  assert.deepEqual(nbackScore(true, 'match'), { correct: true, outcome: 'hit' });
  assert.deepEqual(nbackScore(false, 'match'), { correct: false, outcome: 'false_alarm' });
  assert.deepEqual(nbackScore(true, null), { correct: false, outcome: 'miss' });
  assert.deepEqual(nbackScore(false, 'nonmatch'), { correct: true, outcome: 'correct_rejection' });
  assert.equal(nbackConfig({ n: 9 }).n, 3);
});

test('WCST-like: each e-mail matches exactly one card per rule; rules and keys normalised', () => {
  const cfg = wcstConfig({ rules: 'subject, link', choice_keys: 'a,s,d,f' });
  assert.deepEqual(cfg.rules, ['subject_tone', 'link_style']);
  assert.deepEqual(cfg.choice_keys, ['a', 's', 'd', 'f']);
  const cards = targetCards(cfg);
  const rng = makeRng(9);
  for (let i = 0; i < 200; i++) {
    const e = wcstEmail(cfg, rng);
    for (const rule of cfg.rules) {
      const idx = correctTarget(cfg, e, rule);
      assert.equal(cards.filter((c) => c[rule] === e[rule]).length, 1);
      assert.equal(cards[idx][rule], e[rule]);
    }
  }
});

test('flanker-like: clusters, reject rules, and scrolling by time (not by frames)', () => {
  const cfg = flankerConfig(compat['FLANKER-soc-dashboard-01'].timeline[1]);
  assert.equal(cfg.speed, 120);
  const rng = makeRng(11);
  for (let i = 0; i < 300; i++) {
    const c = flankerCluster(cfg, rng, i);
    assert.equal(c.should_reject, c.center_level === 2);
    assert.equal(c.congruent, c.flanker_level === c.center_level);
    assert.deepEqual(c.levels, [c.flanker_level, c.flanker_level, c.center_level, c.flanker_level, c.flanker_level]);
  }
  assert.equal(flankerCluster({ ...cfg, reject_rule: 'medium_or_high', p_levels: [0, 1, 0] }, rng, 0).should_reject, true);
  // One second of scrolling moves the same distance at 60 Hz and at 144 Hz.
  const moved = (hz) => {
    const g = new SpikeGraph({ spacing: 8, speed: 120, jerkiness: 0, pLevels: cfg.p_levels, markerX: 430 }, makeRng(1));
    const first = g.points[100];
    for (let i = 0; i < hz; i++) g.advance(1 / hz);
    return 100 - g.points.indexOf(first) + g.offset / 8;
  };
  assert.ok(Math.abs(moved(60) - 15) < 1e-6 && Math.abs(moved(144) - 15) < 1e-6);
  // A stamped cluster reaches the marker after about its lead time and is prompted once.
  const g = new SpikeGraph({ spacing: 8, speed: 120, jerkiness: 0, pLevels: cfg.p_levels, markerX: 430 }, makeRng(2));
  const tr = flankerCluster(cfg, rng, 1);
  g.stamp(tr, 900);
  let at = null;
  for (let f = 1; f <= 120 && at === null; f++) { g.advance(1 / 60); if (g.atMarker()) at = f / 60; }
  assert.ok(at !== null && at > 0.7 && at < 1.0, String(at));
  assert.equal(g.atMarker(), null);
});

test('PVT-like: interval bounds ordered, ALL_KEYS kept', () => {
  const cfg = pvtConfig({ alert_min_interval_ms: 3500, alert_max_interval_ms: 1500, response_key: 'ALL_KEYS', countdown_seconds: 2 });
  assert.deepEqual([cfg.alert_min_ms, cfg.alert_max_ms], [1500, 3500]);
  assert.equal(cfg.response_key, 'ALL_KEYS');
  assert.equal(cfg.countdown_seconds, 2);
});
