// Frame scheduling and refresh estimation on a fake 60 Hz display (issue #18): the next onset
// comes from the previous deadline's frame, and the refresh estimate uses the whole window.
import test from 'node:test';
import assert from 'node:assert/strict';
import { fakeElement, installFakeDisplay } from './fake-frames.mjs';

const env = installFakeDisplay();
const timing = await import('../../resources/interpreter/timing.js');
const flanker = await import('../../resources/interpreter/components/flanker.js');
const { makeRng } = await import('../../resources/interpreter/prng.js');
const { FrameTimer, measureRefresh } = timing;

const FRAME = 1000 / 60;
const FLANKER = { target_direction: 'left', congruency: 'congruent', stimulus_duration_ms: 500, trial_duration_ms: 1500, iti_ms: 500 };

function trialCtx(timer) {
  return { timer, signal: new AbortController().signal, rng: makeRng('t'), state: {}, frameMs: timer.frameMs, timing: {} };
}

test('refresh estimate: 60.00 Hz for a 16.666… ms clock sampled at 0.1 ms resolution', async () => {
  const measuring = measureRefresh(90);
  let result = null;
  measuring.then((r) => { result = r; });
  await env.until(() => result !== null, 200);
  assert.equal(result.refresh_hz.toFixed(2), '60.00', `estimated ${result.refresh_hz} Hz`);
  assert.ok(Math.abs(result.frame_ms - FRAME) < 0.005, `frame ${result.frame_ms} ms`);
});

test('trials chained like the runtime chains them: onset-to-onset is stimulus window + ITI, no extra frames', async () => {
  const timer = new FrameTimer(FRAME);
  const el = fakeElement();
  const rows = [];
  (async () => { for (let i = 0; i < 3; i++) rows.push(await flanker.run(el, FLANKER, trialCtx(timer))); })();
  await env.until(() => rows.length === 3);
  for (const r of rows) {
    assert.equal(Math.round((r.stimulus_offset_ms - r.stimulus_onset_ms) / FRAME), 30, 'the stimulus is up 30 frames');
  }
  for (let i = 1; i < rows.length; i++) {
    const gap = rows[i].stimulus_onset_ms - rows[i - 1].stimulus_onset_ms;
    assert.equal(Math.round(gap / FRAME), 120, `onset-to-onset ${gap.toFixed(1)} ms, planned 1500 + 500 ms`);
  }
});

// The runtime's own trial loop (as jsPsych drives it: the next trial starts in the promise
// continuation of the previous one) on the fake display.
async function runtimeRows(specs) {
  const { Run } = await import('../../resources/interpreter/runtime.js');
  const el = fakeElement();
  const run = new Run({ config: { timeline: [] }, root: el, preview: true });
  run.clock = timing.sharedClock();
  run.refresh = timing.estimateRefresh([0, FRAME, 2 * FRAME, 3 * FRAME]);
  run.timer = new FrameTimer(FRAME, run.clock);
  run.t0 = 0;
  run.runSeed = 7;
  run.started = true;
  const rows = [];
  (async () => { for (const s of specs) rows.push(await run.runSpec(el, s)); })();
  await env.until(() => rows.length === specs.length);
  return { run, rows };
}

test('the runtime schedules each ITI and the next onset from the deadline frame and records what it delivered', async () => {
  const spec = { component_type: 'flanker-trial', params: FLANKER, meta: {} };
  const { rows } = await runtimeRows([spec, spec, spec]);
  for (const r of rows) {
    assert.equal(r.stimulus_duration_ms, 500);
    assert.equal(r.stimulus_frames, 30, 'delivered frames');
    assert.equal(r.iti_ms, 500);
    assert.ok(Math.abs(r.iti_actual_ms - 500) < 0.2, `iti_actual_ms ${r.iti_actual_ms}`);
    assert.equal(r.dropped_frames, 0);
    assert.equal(r.page_hidden, false);
    assert.equal(r.window_blurred, false);
    assert.equal(r.paused, false);
    assert.equal(r.response, null);
    assert.equal(r.response_code, null);
  }
  for (let i = 1; i < rows.length; i++) {
    assert.equal(rows[i].stimulus_onset_ms, rows[i - 1].trial_end_ms, 'the next onset is drawn on the frame the ITI ended');
    assert.equal(Math.round((rows[i].stimulus_onset_ms - rows[i - 1].stimulus_onset_ms) / FRAME), 120);
  }
});

test('a response is recorded with its layout-independent key code', async () => {
  const spec = { component_type: 'flanker-trial', params: { ...FLANKER, left_key: 'f', right_key: 'j' }, meta: {} };
  const { Run } = await import('../../resources/interpreter/runtime.js');
  const rows = [];
  const el = fakeElement();
  const run = new Run({ config: { timeline: [] }, root: el, preview: true });
  Object.assign(run, { clock: timing.sharedClock(), timer: new FrameTimer(FRAME), t0: 0, runSeed: 7, started: true });
  run.refresh = timing.estimateRefresh([0, FRAME, 2 * FRAME]);
  run.runSpec(el, spec).then((r) => rows.push(r));
  await env.frames(3);
  env.key('а', 'KeyF'); // a Russian layout types 'а' on the F key
  await env.until(() => rows.length === 1);
  assert.equal(rows[0].response, 'f');
  assert.equal(rows[0].response_code, 'KeyF');
  assert.equal(rows[0].correct, true);
  assert.ok(rows[0].stimulus_frames < 30, 'a response ends the stimulus early: frames delivered, not planned');
});

test('while paused no deadline passes; after resume the remaining time runs', async () => {
  const clock = timing.sharedClock();
  const realNow = clock.now;
  clock.now = () => env.now; // pause lengths on the fake display's clock
  try {
    const timer = new FrameTimer(FRAME, clock);
    const first = clock.frame();
    await env.frame();
    const start = await first;
    let fired = null;
    timer.until(start, 10 * FRAME).then((ts) => { fired = ts; });
    await env.frames(4);
    assert.equal(clock.pause(), true);
    await env.frames(30);
    assert.equal(fired, null, 'a paused deadline does not fire');
    const pausedMs = clock.resume();
    assert.ok(Math.abs(pausedMs - 30 * FRAME) < 0.2, `paused ${pausedMs} ms`);
    await env.until(() => fired !== null, 20);
    const active = fired - start - pausedMs;
    assert.ok(Math.abs(active - 10 * FRAME) < 0.2, `active time to the deadline ${active} ms`);
  } finally {
    clock.now = realNow;
  }
});

test('refresh estimate counts a dropped frame as two refreshes and drops outliers', () => {
  const stamps = [];
  let t = 5000;
  for (let i = 0; i < 120; i++) {
    stamps.push(Math.round(t * 10) / 10);
    t += i === 40 ? 2 * FRAME : i === 80 ? 23.1 : FRAME; // one missed refresh, one odd interval
  }
  const r = timing.estimateRefresh(stamps);
  assert.equal(r.refresh_hz.toFixed(2), '60.00');
  assert.equal(r.long_intervals, 1);
  assert.equal(r.outlier_intervals, 1);
  assert.ok(r.frame_ms_se > 0 && r.frame_ms_se < 0.01, `se ${r.frame_ms_se}`);
  assert.ok(r.refresh_hz_ci95[0] < 60 && r.refresh_hz_ci95[1] > 60);
  assert.deepEqual(r.warnings, []);
});

test('an unusual display is warned about: below 50 Hz, or jitter above 1 ms SD', () => {
  const slow = timing.estimateRefresh(Array.from({ length: 91 }, (_, i) => i * 33.3));
  assert.ok(slow.refresh_hz < 31 && slow.warnings.some((w) => w.includes('below 50 Hz')), slow.warnings.join(' '));
  const rng = makeRng('jitter');
  let t = 0;
  const shaky = Array.from({ length: 91 }, () => { t += FRAME + (rng() - 0.5) * 7; return t; });
  const j = timing.estimateRefresh(shaky);
  assert.ok(j.frame_ms_sd > 1 && j.warnings.some((w) => w.includes('SD above 1 ms')), j.warnings.join(' '));
});
