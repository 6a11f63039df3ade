// Continuing a run after its page died (resume.js, issue #17): the snapshot, the plan that skips
// to the next trial, and the premise both rest on (the schedule is a pure function of config and
// run seed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileConfig, effectiveConfig } from '../../resources/interpreter/compiler.js';
import { SNAPSHOT_FORMAT, SnapshotSender, makeSnapshot, notResumableReason, planResume, plainData } from '../../resources/interpreter/resume.js';
import { createGaborAdaptive, createProcedure, rdmProcedureOptions } from '../../resources/interpreter/adaptive.js';
import { makeRng } from '../../resources/interpreter/prng.js';
import { compatConfigs } from './helpers.mjs';

const RUN = '0b8f5a52-8d8e-4f55-9d6c-2f1d7d0a9e11';

function snapshot(over = {}) {
  return makeSnapshot({
    runSessionId: RUN, configVersionId: 7, studySlug: 'demo', runSeed: 12345, specIndex: 4, nextTrialIndex: 4,
    state: { staircases: { a: { level: 3, reversals: [1, 2] } }, pvt: {}, lastTaskIndex: 1, visualAngle: null },
    startedAt: '2026-11-30T10:00:00.000Z', ...over,
  });
}

test('a seeded schedule compiles to the same trials again (every compat config)', () => {
  let compared = 0;
  for (const { name, config } of compatConfigs()) {
    let first;
    try { first = compileConfig(effectiveConfig(config), { runSeed: 987654321 }).trials; } catch { continue; }
    const again = compileConfig(effectiveConfig(config), { runSeed: 987654321 }).trials;
    assert.deepEqual(again, first, name);
    compared += 1;
  }
  assert.ok(compared >= 10, `only ${compared} compat configs compiled`);
});

test('the resumed page runs exactly the items the dead page had not finished', () => {
  const config = {
    experiment_type: 'trial-based', task_type: 'flanker', randomize_order: true,
    timeline: Array.from({ length: 12 }, (_, i) => ({ type: 'html-button-response', stimulus: `s${i}`, choices: ['ok'], label: `s${i}` })),
  };
  const seed = 424242;
  const full = compileConfig(config, { runSeed: seed }).trials;
  const other = compileConfig(config, { runSeed: seed + 1 }).trials;
  assert.notDeepEqual(full.map((s) => s.meta.label), other.map((s) => s.meta.label)); // the seed decides the order
  const snap = makeSnapshot({ runSessionId: RUN, runSeed: seed, specIndex: 5, nextTrialIndex: 5, state: {} });
  const wire = JSON.parse(JSON.stringify(snap)); // as the app hands it back
  const plan = planResume(wire, { runSessionId: RUN, specCount: full.length, storedTrials: 5 });
  const rebuilt = compileConfig(config, { runSeed: plan.runSeed }).trials.slice(plan.specIndex);
  assert.deepEqual(rebuilt, full.slice(5));
  assert.equal(plan.firstTrialIndex, 5);
  assert.equal(plan.lostTrials, 0);
});

test('the snapshot carries a copy of the adaptive state, never the state object itself', () => {
  const state = { staircases: { a: { level: 3 } }, quest: { pdf: [0.1, 0.9] }, pvt: { '/timeline/2': 1 } };
  const snap = snapshot({ state, pvtExtra: true });
  state.staircases.a.level = 9;
  assert.equal(snap.format, SNAPSHOT_FORMAT);
  assert.equal(snap.state.staircases.a.level, 3);
  assert.equal(snap.resumable, true);
  const plan = planResume(JSON.parse(JSON.stringify(snap)), { runSessionId: RUN, specCount: 10, storedTrials: 4, configVersionId: 7 });
  assert.deepEqual(plan.state, { staircases: { a: { level: 3 } }, quest: { pdf: [0.1, 0.9] }, pvt: { '/timeline/2': 1 } });
  assert.equal(plan.pvtExtra, true);
  assert.equal(plan.start.run_session_id, RUN);
  assert.equal(plan.start.study_slug, 'demo');
});

test('where a run cannot continue exactly, the snapshot says why and holds no state', () => {
  class Staircase { constructor() { this.level = 1; } }
  assert.match(notResumableReason({ state: {}, eyeTracking: true }), /eye tracker/);
  assert.match(notResumableReason({ state: {}, drtActive: true }), /detection-response task/);
  assert.match(notResumableReason({ state: { stairs: new Staircase() } }), /"stairs"/);
  assert.match(notResumableReason({ state: { bad: { x: NaN } } }), /"bad"/);
  assert.match(notResumableReason({ state: { fn: () => 1 } }), /"fn"/);
  assert.equal(notResumableReason({ state: { ok: { a: [1, 'b', null, true, { c: 2 }] }, gone: undefined } }), null);
  const snap = snapshot({ reason: 'the eye tracker\'s calibration lived in the page that stopped' });
  assert.equal(snap.resumable, false);
  assert.equal(snap.state, undefined);
  assert.throws(() => planResume(snap, { runSessionId: RUN, specCount: 10, storedTrials: 4 }), /eye tracker/);
  assert.equal(plainData(new Date()), false);
  assert.equal(plainData(Object.create(null)), true);
});

test('a snapshot that does not fit the run is refused with one sentence', () => {
  const fits = { runSessionId: RUN, specCount: 10, storedTrials: 4, configVersionId: 7 };
  assert.throws(() => planResume(null, fits), /^Error: This run cannot be continued: the app holds no usable record/);
  assert.throws(() => planResume(snapshot(), { ...fits, runSessionId: 'another' }), /another run/);
  assert.throws(() => planResume(snapshot(), { ...fits, configVersionId: 8 }), /published again/);
  assert.throws(() => planResume(snapshot({ specIndex: 11 }), fits), /outside this study/);
  // Every item had run (the page died while saving): the continuing page only submits.
  assert.equal(planResume(snapshot({ specIndex: 10 }), fits).specIndex, 10);
  // More trials stored than the snapshot knows of: continuing would overwrite stored trials.
  assert.throws(() => planResume(snapshot(), { ...fits, storedTrials: 5 }), /more trials are stored/);
  // Fewer stored: the missing rows were truly lost; their indices stay unused and are counted.
  assert.equal(planResume(snapshot(), { ...fits, storedTrials: 3 }).lostTrials, 1);
});

async function settled(sender) {
  for (let i = 0; i < 50 && !sender.idle; i++) await new Promise((r) => setTimeout(r, 1));
  assert.ok(sender.idle);
}

test('the sender posts only the newest snapshot and stops for good at a refusal', async () => {
  const posted = [];
  let release;
  const gate = new Promise((r) => { release = r; });
  const sender = new SnapshotSender(async (path, body) => {
    posted.push([path, body.n]);
    if (body.n === 1) await gate;
  });
  sender.send({ n: 1 });
  assert.deepEqual(posted, []); // not on the trial's start: in a later task
  for (let i = 0; i < 50 && !posted.length; i++) await new Promise((r) => setTimeout(r, 1));
  sender.send({ n: 2 });
  sender.send({ n: 3 }); // replaces 2 while 1 is under way
  release();
  await settled(sender);
  assert.deepEqual(posted, [['runs/resume-snapshot', 1], ['runs/resume-snapshot', 3]]);

  const refused = [];
  const denied = new SnapshotSender(async (_p, body) => { refused.push(body.n); throw Object.assign(new Error('no'), { status: 403 }); });
  denied.send({ n: 1 });
  await settled(denied);
  denied.send({ n: 2 });
  assert.deepEqual(refused, [1]);
  assert.equal(denied.stopped, true);

  const flaky = [];
  let fail = true;
  const retrying = new SnapshotSender(async (_p, body) => {
    flaky.push(body.n);
    if (fail) { fail = false; throw Object.assign(new Error('busy'), { status: 503 }); }
  });
  retrying.send({ n: 1 });
  await settled(retrying);
  retrying.send({ n: 2 });
  await settled(retrying);
  assert.deepEqual(flaky, [1, 2]);
  assert.equal(retrying.sent, 1);
});

// Drive a procedure as a block would: next value, then an answer that depends on it.
function drive(proc, rng, n, gabor = false) {
  const seen = [];
  for (let i = 0; i < n; i++) {
    const side = rng() < 0.5 ? 'left' : 'right';
    const value = gabor ? proc.next(side) : proc.next();
    const correct = rng() < 0.7;
    if (gabor) proc.update(side, correct, value); else proc.update(correct);
    seen.push(value);
  }
  return seen;
}

test('QUEST, staircases and Gabor adaptive blocks continue exactly where they stood', () => {
  const procedures = {
    quest: createProcedure(rdmProcedureOptions({ algorithm: 'quest', initial_coherence: 0.4, step_size: 0.05 })),
    weighted: createProcedure(rdmProcedureOptions({ algorithm: 'staircase', initial_coherence: 0.6, step_size: 0.04 })),
    simple: createProcedure({ algorithm: 'simple', start_value: 0.5, step_size: 0.1, min_value: 0, max_value: 1 }),
  };
  const gabor = createGaborAdaptive({ id: 'g', mode: 'quest', parameter: 'target_tilt_deg', start_value: 10, start_sd: 6, staircase_per_location: true, quest_trials_coarse: 5 });
  const rng = makeRng('before');
  for (const p of Object.values(procedures)) drive(p, rng, 17);
  drive(gabor, rng, 23, true); // past the coarse -> fine restart on both sides
  const state = { staircases: procedures, adaptive: { g: gabor }, lastTaskIndex: 2 };
  assert.equal(notResumableReason({ state }), null);
  const wire = JSON.parse(JSON.stringify(snapshot({ state })));
  const restored = planResume(wire, { runSessionId: RUN, specCount: 10, storedTrials: 4 }).state;
  assert.equal(restored.lastTaskIndex, 2);
  for (const name of Object.keys(procedures)) {
    const a = drive(procedures[name], makeRng('after'), 12);
    const b = drive(restored.staircases[name], makeRng('after'), 12);
    assert.deepEqual(b, a, name);
    assert.equal(restored.staircases[name].mean(), procedures[name].mean(), name);
  }
  const a = drive(gabor, makeRng('after'), 12, true);
  const b = drive(restored.adaptive.g, makeRng('after'), 12, true);
  assert.deepEqual(b, a);
  assert.deepEqual(restored.adaptive.g.thresholds(), gabor.thresholds());
  assert.deepEqual(restored.adaptive.g.estimate('left'), gabor.estimate('left'));
});
