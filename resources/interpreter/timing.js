// Frame-locked timing. All times are performance.now()-clock milliseconds, the same clock as
// requestAnimationFrame timestamps and Event.timeStamp, so RT = event.timeStamp - onset.
//
// One FrameClock drives every frame of a run: a single requestAnimationFrame loop that knows the
// timestamp of the frame being built and whether that frame is still open (its callbacks and
// their promise continuations run before the browser paints). A stimulus drawn while the frame
// is open appears in that frame, so its onset is that frame's timestamp; code that runs later
// (after a key press, say) draws in the next frame. Trials chained by promises therefore stay on
// the frame where the previous deadline fell: no frame is lost between a deadline, the ITI and
// the next onset.
//
// The frame closes in a ResizeObserver callback (the clock resizes a 1 px element every frame;
// the callback runs after all animation-frame callbacks and just before paint) and, as a safety
// net, at the next task. Where neither DOM nor ResizeObserver exists (node tests with a fake
// requestAnimationFrame), only the next task closes it.

const defaultNow = () => globalThis.performance.now();

// ---------------------------------------------------------------- refresh estimation

function median(xs) {
  const s = xs.slice().sort((a, b) => a - b);
  const n = s.length;
  return n % 2 ? s[n >> 1] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

function sd(xs) {
  if (xs.length < 2) return 0;
  const m = xs.reduce((a, b) => a + b, 0) / xs.length;
  return Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1));
}

// Limits for the "unusual display" warning (#10): below 50 Hz, or frames that jitter by more
// than 1 ms (SD of single-refresh intervals).
export const UNUSUAL = { minHz: 50, maxSdMs: 1 };

// Refresh interval from frame timestamps over the whole window. The median interval only
// serves to count how many refreshes each interval spans (a dropped frame spans two); the
// interval itself is the least-squares slope of timestamp against refresh count, so the 0.1 ms
// timestamp resolution averages out (16.7 ms per frame at 0.1 ms resolution is still 60.00 Hz).
// An interval that is not close to a whole number of refreshes is an outlier: it is dropped and
// splits the window into segments that share one slope. Returns the estimate, its standard
// error and 95 % interval, the jitter (SD of single-refresh intervals) and warnings.
export function estimateRefresh(timestamps) {
  const ts = timestamps.filter((t) => Number.isFinite(t));
  const intervals = [];
  for (let i = 1; i < ts.length; i++) intervals.push(ts[i] - ts[i - 1]);
  if (intervals.length < 2 || !(median(intervals) > 0)) {
    const frame = intervals.length ? Math.max(1, intervals[0]) : 1000 / 60;
    return finish({ frame_ms: frame, se: null, m: frame, single: intervals, outliers: 0, long: 0, n: intervals.length });
  }
  const m = median(intervals);
  // Segments of consecutive timestamps joined by whole-refresh intervals.
  const segments = [];
  let seg = [{ t: ts[0], c: 0 }];
  const single = [];
  let outliers = 0;
  let long = 0;
  for (let i = 0; i < intervals.length; i++) {
    const d = intervals[i];
    const k = Math.round(d / m);
    if (k < 1 || Math.abs(d - k * m) > 0.25 * m) {
      outliers += 1;
      if (seg.length > 1) segments.push(seg);
      seg = [{ t: ts[i + 1], c: 0 }];
      continue;
    }
    if (k === 1) single.push(d); else long += 1;
    seg.push({ t: ts[i + 1], c: seg[seg.length - 1].c + k });
  }
  if (seg.length > 1) segments.push(seg);
  let sxx = 0;
  let sxy = 0;
  let points = 0;
  for (const s of segments) {
    const cm = s.reduce((a, p) => a + p.c, 0) / s.length;
    const tm = s.reduce((a, p) => a + p.t, 0) / s.length;
    for (const p of s) { sxx += (p.c - cm) ** 2; sxy += (p.c - cm) * (p.t - tm); }
    points += s.length;
  }
  if (!(sxx > 0)) return finish({ frame_ms: m, se: null, m, single, outliers, long, n: intervals.length });
  const slope = sxy / sxx;
  let rss = 0;
  for (const s of segments) {
    const cm = s.reduce((a, p) => a + p.c, 0) / s.length;
    const tm = s.reduce((a, p) => a + p.t, 0) / s.length;
    for (const p of s) rss += (p.t - tm - slope * (p.c - cm)) ** 2;
  }
  const dof = points - segments.length - 1;
  const se = dof > 0 ? Math.sqrt(rss / dof / sxx) : null;
  return finish({ frame_ms: slope, se, m, single, outliers, long, n: intervals.length });
}

function finish({ frame_ms, se, m, single, outliers, long, n }) {
  const hz = 1000 / frame_ms;
  const jitter = sd(single);
  const out = {
    refresh_hz: hz,
    frame_ms,
    frame_ms_se: se,
    refresh_hz_ci95: se === null ? null : [1000 / (frame_ms + 1.96 * se), 1000 / (frame_ms - 1.96 * se)],
    frame_ms_sd: jitter,
    frame_ms_mean: single.length ? single.reduce((a, b) => a + b, 0) / single.length : frame_ms,
    frame_ms_median: m,
    frames_measured: n,
    long_intervals: long,
    outlier_intervals: outliers,
  };
  out.warnings = refreshWarnings(out);
  return out;
}

export function refreshWarnings(r) {
  const w = [];
  if (r.refresh_hz < UNUSUAL.minHz) {
    w.push(`The display refreshes at ${r.refresh_hz.toFixed(1)} Hz (below ${UNUSUAL.minHz} Hz): stimulus durations can only be shown in steps of ${r.frame_ms.toFixed(1)} ms.`);
  }
  if (r.frame_ms_sd > UNUSUAL.maxSdMs) {
    w.push(`Frame intervals vary by ${r.frame_ms_sd.toFixed(1)} ms (SD above ${UNUSUAL.maxSdMs} ms): the computer may be busy, or the display is not refreshing at a steady rate.`);
  }
  return w;
}

// ---------------------------------------------------------------- the frame clock

// Closes the clock's current frame just before paint (ResizeObserver), falling back to the next
// task. Returns a function that arms the close for the frame being built.
function frameEndDetector(close) {
  const doc = globalThis.document;
  if (typeof globalThis.ResizeObserver !== 'function' || !doc || !doc.createElement || typeof globalThis.MessageChannel !== 'function') {
    return () => setTimeout(close, 0);
  }
  const el = doc.createElement('div');
  el.setAttribute('aria-hidden', 'true');
  el.dataset.role = 'frame-clock';
  el.style.cssText = 'position:fixed;left:0;top:0;width:1px;height:1px;opacity:0;pointer-events:none;z-index:-1';
  let wide = false;
  const ro = new globalThis.ResizeObserver(() => close());
  const channel = new globalThis.MessageChannel();
  channel.port1.onmessage = () => close();
  return () => {
    if (!el.isConnected && (doc.body || doc.documentElement)) {
      (doc.body || doc.documentElement).appendChild(el);
      ro.observe(el);
    }
    wide = !wide;
    el.style.width = wide ? '2px' : '1px';
    channel.port2.postMessage(0);
  };
}

export class FrameClock {
  constructor({ requestFrame = null, now = defaultNow } = {}) {
    this.requestFrame = requestFrame ?? ((cb) => globalThis.requestAnimationFrame(cb));
    this.now = now;
    this.frameTs = null; // timestamp of the latest frame
    this.frameNo = 0;
    this.inFrame = false; // true while the latest frame is still being built
    this.paused = false;
    this.pauseStart = null;
    this.pausedTotal = 0; // ms spent paused, subtracted from every deadline
    this.subs = new Set();
    this.running = false;
    this.frameMs = 1000 / 60; // replaced by the measured interval
    this.resetStats();
    this.armEnd = null;
  }

  start() {
    if (this.running) return this;
    this.running = true;
    this.armEnd = frameEndDetector(() => { this.inFrame = false; });
    this.requestFrame((ts) => this.tick(ts));
    return this;
  }

  stop() { this.running = false; }

  // Statistics of every frame interval since the last reset (not counting paused time).
  resetStats() {
    this.stats = { count: 0, sum: 0, sumSq: 0, dropped: 0, longest: 0 };
  }

  tick(ts) {
    if (!this.running) return;
    const prev = this.frameTs;
    this.frameTs = ts;
    this.frameNo += 1;
    this.inFrame = true;
    this.armEnd();
    const visible = !globalThis.document || globalThis.document.visibilityState !== 'hidden';
    if (prev !== null && !this.paused && visible) {
      const d = ts - prev;
      const s = this.stats;
      s.count += 1;
      s.sum += d;
      s.sumSq += d * d;
      s.longest = Math.max(s.longest, d);
      // An interval longer than 1.5 refreshes missed round(d / frame) - 1 refreshes.
      if (d > 1.5 * this.frameMs) s.dropped += Math.round(d / this.frameMs) - 1;
    }
    for (const sub of [...this.subs]) {
      if (!this.subs.has(sub)) continue;
      if (this.paused && !sub.always) continue;
      if (sub.signal && sub.signal.aborted) { this.subs.delete(sub); continue; }
      let keep;
      try { keep = sub.fn(ts); } catch (err) { console.error(err); keep = false; }
      if (keep === false) this.subs.delete(sub);
    }
    this.requestFrame((t) => this.tick(t));
  }

  // Calls fn(ts) on every frame (not while paused, unless `always`) until it returns false or
  // the signal aborts.
  every(fn, signal = null, always = false) {
    if (signal && signal.aborted) return () => {};
    const sub = { fn, signal, always };
    this.subs.add(sub);
    const remove = () => this.subs.delete(sub);
    if (signal) signal.addEventListener('abort', remove, { once: true });
    return remove;
  }

  // True when code running now still lands in the frame being built (its callbacks and their
  // continuations have not finished) and the run is not paused. A frame whose callbacks run
  // late on a busy main thread is still the frame that draws: its lateness shows as a long
  // interval (dropped_frames) and in late_onset_frames, and the schedule stays on its frames.
  open() {
    return this.inFrame && !this.paused;
  }

  // The frame being built if still open, else the next one: resolves with its timestamp.
  frame(signal = null) {
    if (this.open()) return Promise.resolve(this.frameTs);
    return this.next(signal);
  }

  // Always the next frame.
  next(signal = null) {
    return new Promise((resolve) => this.every((ts) => { resolve(ts); return false; }, signal));
  }

  // Active time excludes paused time, so deadlines do not run on while paused.
  active(ts) { return ts - this.pausedTotal; }

  pause() {
    if (this.paused) return false;
    this.paused = true;
    this.pauseStart = this.now();
    return true;
  }

  resume() {
    if (!this.paused) return 0;
    const ms = Math.max(0, this.now() - this.pauseStart);
    this.pausedTotal += ms;
    this.paused = false;
    this.pauseStart = null;
    return ms;
  }

  // Timestamps of the next n frames (paused frames included: the display refreshes anyway).
  collect(n) {
    return new Promise((resolve) => {
      const out = [];
      this.every((ts) => {
        out.push(ts);
        if (out.length >= n) { resolve(out); return false; }
        return true;
      }, null, true);
    });
  }

  snapshot() {
    const s = this.stats;
    const mean = s.count ? s.sum / s.count : null;
    const spread = s.count > 1 ? Math.sqrt(Math.max(0, (s.sumSq - s.count * mean * mean) / (s.count - 1))) : null;
    return { run_frames: s.count, run_frame_ms_mean: mean, run_frame_ms_sd: spread, dropped_frames: s.dropped, longest_frame_ms: s.longest };
  }
}

let shared = null;
// The page's one clock (created on first use, so tests can install a fake rAF first).
export function sharedClock() {
  if (!shared) shared = new FrameClock().start();
  return shared;
}

export const nextFrame = () => sharedClock().frame();

// Refresh rate from the next `frames` intervals of the clock.
export async function measureRefresh(frames = 90, clock = sharedClock()) {
  const ts = await clock.collect(frames + 1);
  return estimateRefresh(ts);
}

// ---------------------------------------------------------------- durations in frames

// Frame-counting timer over a clock: `frames(ms)` is the number of refresh intervals a duration
// lasts; `until(start, ms)` resolves inside the frame (so DOM changes made by the awaiting code
// land in it) once that many intervals of active (unpaused) time have passed since `start`.
export class FrameTimer {
  constructor(frameMs, clock = sharedClock()) {
    this.clock = clock;
    this.frameMs = frameMs;
    this.lagCount = 0;
    this.lagSum = 0;
    this.lagMax = 0;
    this.lateFrames = 0;
  }

  set frameMs(ms) { this._frameMs = ms; this.clock.frameMs = ms; }

  get frameMs() { return this._frameMs; }

  frames(ms) {
    return Math.max(0, Math.round(Number(ms) / this.frameMs));
  }

  // `show(fn)` runs fn in the frame being built (if still open) or the next one and resolves
  // with that frame's timestamp: the stimulus onset. A draw that starts more than a frame after
  // the frame's timestamp (a main thread busy inside the frame's callbacks) is counted in
  // late_onset_frames.
  show(fn, signal = null) {
    const draw = (ts) => {
      if (signal && signal.aborted) return false;
      const lag = this.clock.now() - ts;
      this.lagCount += 1;
      this.lagSum += lag;
      this.lagMax = Math.max(this.lagMax, lag);
      if (lag > this.frameMs) this.lateFrames += 1;
      if (fn) fn(ts);
      return true;
    };
    if (this.clock.open()) {
      const ts = this.clock.frameTs;
      return draw(ts) ? Promise.resolve(ts) : new Promise(() => {});
    }
    return new Promise((resolve) => {
      this.clock.every((ts) => { if (draw(ts)) resolve(ts); return false; }, signal);
    });
  }

  // Half a frame of slack: a frame that arrives a little early still counts.
  due(startActive, n, ts) {
    return this.clock.active(ts) - startActive >= (n - 0.5) * this.frameMs;
  }

  until(start, ms, signal) {
    return new Promise((resolve) => {
      if (ms === null || ms === undefined || !Number.isFinite(Number(ms))) return; // never: wait for something else
      if (signal && signal.aborted) return;
      const n = this.frames(ms);
      const startActive = this.clock.active(start);
      if (this.clock.open() && this.due(startActive, n, this.clock.frameTs)) { resolve(this.clock.frameTs); return; }
      this.clock.every((ts) => {
        if (!this.due(startActive, n, ts)) return true;
        resolve(ts);
        return false;
      }, signal);
    });
  }

  // A blank wait of `ms`, counted in frames from the frame being built (or the next one).
  async wait(ms, signal) {
    if (!(Number(ms) > 0)) return;
    const start = await this.clock.frame(signal);
    await this.until(start, ms, signal);
  }

  // fn(ts) on every (unpaused) frame until it returns false or the signal aborts.
  every(fn, signal) { return this.clock.every(fn, signal); }

  // A view of this timer whose show() and every() stop with `signal` (one per trial attempt, so
  // an abandoned attempt never draws again).
  bound(signal) {
    const t = this;
    return {
      get frameMs() { return t.frameMs; },
      frames: (ms) => t.frames(ms),
      show: (fn, s = signal) => t.show(fn, s),
      until: (start, ms, s = signal) => t.until(start, ms, s),
      wait: (ms, s = signal) => t.wait(ms, s),
      every: (fn, s = signal) => t.every(fn, s),
      frame: () => t.clock.frame(signal),
    };
  }
}

export function timingFingerprint(refresh, clock, timer, jsPsychVersion = null) {
  const scr = globalThis.screen || {};
  const r = (x, d = 1000) => (typeof x === 'number' ? Math.round(x * d) / d : x ?? null);
  return {
    refresh_hz: refresh ? r(refresh.refresh_hz, 100) : null,
    refresh_hz_ci95: refresh?.refresh_hz_ci95 ? refresh.refresh_hz_ci95.map((x) => r(x, 100)) : null,
    frame_ms: r(refresh?.frame_ms, 10000),
    frame_ms_se: r(refresh?.frame_ms_se, 10000),
    frame_ms_median: r(refresh?.frame_ms_median),
    frame_ms_mean: r(refresh?.frame_ms_mean),
    frame_ms_sd: r(refresh?.frame_ms_sd),
    frames_measured: refresh?.frames_measured ?? 0,
    refresh_method: 'least-squares slope of frame timestamps over refresh count (whole window, outliers dropped)',
    warnings: refresh?.warnings ?? [],
    ...(clock ? clock.snapshot() : {}),
    onset_callback_lag_ms_mean: timer && timer.lagCount ? timer.lagSum / timer.lagCount : null,
    onset_callback_lag_ms_max: timer ? timer.lagMax : null,
    late_onset_frames: timer ? timer.lateFrames : null,
    device_pixel_ratio: globalThis.devicePixelRatio ?? null,
    screen: { width: scr.width ?? null, height: scr.height ?? null, avail_width: scr.availWidth ?? null, avail_height: scr.availHeight ?? null, color_depth: scr.colorDepth ?? null },
    window: { inner_width: globalThis.innerWidth ?? null, inner_height: globalThis.innerHeight ?? null },
    user_agent: globalThis.navigator?.userAgent ?? null,
    jspsych_version: jsPsychVersion,
  };
}
