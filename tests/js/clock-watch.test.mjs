// Sleep and wall-clock jumps (#17) seen by comparing a faked pair of clocks: Date.now() (wall)
// and performance.now() (monotonic), moved by hand between checks.
import test from 'node:test';
import assert from 'node:assert/strict';
import { ClockWatch, JUMP_THRESHOLD_MS, SUSPEND_GAP_MS } from '../../resources/interpreter/clock-watch.js';

function fakeClocks() {
  const c = { mono: 5000, wall: Date.UTC(2026, 10, 30, 12, 0, 0) };
  c.tick = (ms) => { c.mono += ms; c.wall += ms; }; // time passing normally
  c.watch = () => new ClockWatch({ monoNow: () => c.mono, wallNow: () => c.wall });
  return c;
}

test('time passing normally, with small drift, is no event', () => {
  const c = fakeClocks();
  const w = c.watch();
  for (let i = 0; i < 30; i++) {
    c.tick(1000);
    c.wall += 15; // an NTP slew or a late timer: well under the threshold
    assert.deepEqual(w.check('timer'), []);
  }
  assert.equal(w.jumped, false);
  assert.equal(w.events.length, 0);
});

test('the wall clock set back an hour is one wall_clock_jump, and the offset stays', () => {
  const c = fakeClocks();
  const w = c.watch();
  c.tick(1000);
  w.check('timer');
  c.tick(400);
  c.wall -= 3600_000;
  const [e] = w.check('timer', (mono) => ({ at_ms: mono - 5000, trial_index: 3 }));
  assert.equal(e.type, 'wall_clock_jump');
  assert.equal(e.source, 'timer');
  assert.equal(e.wall_delta_ms, -3600_000);
  assert.equal(e.mono_gap_ms, 400);
  assert.equal(e.wall_clock_offset_ms, -3600_000);
  assert.equal(e.at_ms, 1400);
  assert.equal(e.trial_index, 3);
  assert.equal(e.wall_clock, new Date(c.wall).toISOString());
  assert.equal(w.jumped, true);
  // The clock keeps its new setting: no further events, the offset is remembered.
  c.tick(1000);
  assert.deepEqual(w.check('timer'), []);
  assert.equal(w.offsetMs(), -3600_000);
  assert.equal(w.events.length, 1);
});

test('a jump just over the threshold counts, one just under does not', () => {
  const c = fakeClocks();
  const w = c.watch();
  c.tick(1000);
  c.wall += JUMP_THRESHOLD_MS - 1;
  assert.deepEqual(w.check('timer'), []);
  c.tick(1000);
  c.wall += JUMP_THRESHOLD_MS + 1;
  assert.equal(w.check('timer')[0].type, 'wall_clock_jump');
});

test('a sleep where the monotonic clock counts on (Windows) is suspended, not a jump', () => {
  const c = fakeClocks();
  const w = c.watch();
  c.tick(1000);
  w.check('timer');
  c.tick(20 * 60_000); // 20 minutes without a timer
  const found = w.check('resume', () => ({ page_hidden: true }));
  assert.equal(found.length, 1);
  const [e] = found;
  assert.equal(e.type, 'suspended');
  assert.equal(e.source, 'resume');
  assert.equal(e.mono_gap_ms, 20 * 60_000);
  assert.equal(e.wall_delta_ms, 0);
  assert.equal(e.page_hidden, true);
  assert.equal(w.jumped, false); // stored wall-clock times are still right
});

test('a sleep where the monotonic clock stops (Linux, macOS) shows as a forward jump', () => {
  const c = fakeClocks();
  const w = c.watch();
  c.tick(1000);
  w.check('timer');
  c.wall += 20 * 60_000; // asleep: only the wall clock moved
  c.tick(30);
  const [e, ...rest] = w.check('visibilitychange');
  assert.deepEqual(rest, []);
  assert.equal(e.type, 'wall_clock_jump');
  assert.equal(e.wall_delta_ms, 20 * 60_000);
});

test('a gap just over SUSPEND_GAP_MS counts', () => {
  const c = fakeClocks();
  const w = c.watch();
  c.tick(SUSPEND_GAP_MS);
  assert.deepEqual(w.check('timer'), []);
  c.tick(SUSPEND_GAP_MS + 1);
  assert.equal(w.check('timer')[0].type, 'suspended');
});
