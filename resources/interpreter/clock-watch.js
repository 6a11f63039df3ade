// Sleep, hibernation and wall-clock jumps during a run (#17). Trial timing never depends on the
// wall clock (it is on performance.now(), see timing.js); only the run's stored wall-clock times
// (started_at, finished_at, and the server's receipt times of checkpoints) do. This watch
// compares how far Date.now() and performance.now() moved between two checks:
// - the wall clock moved more (or less) than the monotonic clock by over JUMP_THRESHOLD_MS: a
//   `wall_clock_jump` (NTP, a hand-set clock, or a sleep on systems whose monotonic clock stops
//   while asleep, Linux and macOS);
// - the monotonic clock itself moved on by over SUSPEND_GAP_MS between two checks a second
//   apart: the page was `suspended` (a sleep where the monotonic clock counts on, Windows; a
//   frozen or heavily throttled page).
// Pure: both clocks are injected, so it runs under node with a faked pair.

export const CHECK_INTERVAL_MS = 1000;
export const JUMP_THRESHOLD_MS = 2000;
export const SUSPEND_GAP_MS = 5000;

const round = (x) => Math.round(x);

export class ClockWatch {
  constructor({ monoNow = () => globalThis.performance.now(), wallNow = () => Date.now(), jumpThresholdMs = JUMP_THRESHOLD_MS, suspendGapMs = SUSPEND_GAP_MS } = {}) {
    this.monoNow = monoNow;
    this.wallNow = wallNow;
    this.jumpThresholdMs = jumpThresholdMs;
    this.suspendGapMs = suspendGapMs;
    this.events = [];
    this.jumped = false; // a wall-clock jump was seen: wall times from now on are marked
    const mono = monoNow();
    const wall = wallNow();
    this.base = wall - mono; // wall minus monotonic when the run's started_at was taken
    this.lastMono = mono;
    this.lastOffset = 0;
  }

  // How far the wall clock has moved against the monotonic clock since the start (ms, rounded).
  offsetMs() { return round(this.wallNow() - this.monoNow() - this.base); }

  // One comparison. `info` is copied onto any event (the runtime adds at_ms, trial_index,
  // page_hidden). Returns the events this check found (usually none).
  check(source, info = () => ({})) {
    const mono = this.monoNow();
    const wall = this.wallNow();
    const offset = wall - mono - this.base;
    const monoGap = mono - this.lastMono;
    const wallDelta = offset - this.lastOffset;
    this.lastMono = mono;
    this.lastOffset = offset;
    const found = [];
    const event = (type) => ({
      type, source, ...info(mono),
      wall_delta_ms: round(wallDelta), mono_gap_ms: round(monoGap),
      wall_clock_offset_ms: round(offset), wall_clock: new Date(wall).toISOString(),
    });
    if (monoGap > this.suspendGapMs) found.push(event('suspended'));
    if (Math.abs(wallDelta) > this.jumpThresholdMs) {
      this.jumped = true;
      found.push(event('wall_clock_jump'));
    }
    this.events.push(...found);
    return found;
  }

  // Checks once a CHECK_INTERVAL_MS on the page's timer and whenever the page comes back
  // (visible again, restored from the back/forward cache, unfrozen). Returns a stop function.
  watch(info, { target = globalThis, doc = globalThis.document } = {}) {
    const id = setInterval(() => this.check('timer', info), CHECK_INTERVAL_MS);
    const ac = new AbortController();
    const on = (el, name) => el && el.addEventListener(name, () => this.check(name, info), { signal: ac.signal });
    on(doc, 'visibilitychange');
    on(doc, 'resume');
    on(target, 'pageshow');
    return () => { clearInterval(id); ac.abort(); };
  }
}
