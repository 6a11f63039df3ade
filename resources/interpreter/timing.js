// Frame-locked timing. All times are performance.now()-clock milliseconds, the same clock as
// requestAnimationFrame timestamps and Event.timeStamp, so RT = event.timeStamp - onset.

export const nextFrame = () => new Promise((resolve) => requestAnimationFrame(resolve));

function stats(xs) {
  const n = xs.length;
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, n - 1));
  const sorted = xs.slice().sort((a, b) => a - b);
  return { mean, sd, median: sorted[n >> 1] };
}

// Refresh rate from rAF intervals; the median resists the odd long frame.
export async function measureRefresh(frames = 90) {
  let prev = await nextFrame();
  const intervals = [];
  for (let i = 0; i < frames; i++) {
    const ts = await nextFrame();
    intervals.push(ts - prev);
    prev = ts;
  }
  const s = stats(intervals);
  return { refresh_hz: 1000 / s.median, frame_ms: s.median, frame_ms_mean: s.mean, frame_ms_sd: s.sd, frames_measured: frames };
}

// Watches every frame of the run: counts frames that took longer than 1.5 intervals as drops.
export class FrameMonitor {
  constructor(frameMs) {
    this.frameMs = frameMs;
    this.count = 0;
    this.sum = 0;
    this.sumSq = 0;
    this.dropped = 0;
    this.longest = 0;
    this.prev = null;
    this.running = false;
  }

  start() {
    this.running = true;
    const tick = (ts) => {
      if (!this.running) return;
      if (this.prev !== null && document.visibilityState === 'visible') {
        const d = ts - this.prev;
        this.count += 1;
        this.sum += d;
        this.sumSq += d * d;
        this.longest = Math.max(this.longest, d);
        if (d > 1.5 * this.frameMs) this.dropped += Math.round(d / this.frameMs) - 1;
      }
      this.prev = ts;
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  }

  stop() {
    this.running = false;
  }

  snapshot() {
    const mean = this.count ? this.sum / this.count : null;
    const sd = this.count > 1 ? Math.sqrt(Math.max(0, (this.sumSq - this.count * mean * mean) / (this.count - 1))) : null;
    return { run_frames: this.count, run_frame_ms_mean: mean, run_frame_ms_sd: sd, dropped_frames: this.dropped, longest_frame_ms: this.longest };
  }
}

// Frame-counting timer: `frames(ms)` is the number of refresh intervals a duration lasts;
// `until(start, ms)` resolves (inside a rAF callback, so DOM changes made by the awaiting code
// land in that frame) once that many intervals have passed since `start`.
export class FrameTimer {
  constructor(frameMs) {
    this.frameMs = frameMs;
    this.lagCount = 0;
    this.lagSum = 0;
    this.lagMax = 0;
    this.lateFrames = 0;
  }

  frames(ms) {
    return Math.max(0, Math.round(Number(ms) / this.frameMs));
  }

  // `show(fn)` runs fn in the next animation frame and resolves with that frame's onset: the
  // frame timestamp, or, if the frame's callbacks ran late (busy main thread), the moment the
  // DOM was written, since the stimulus cannot appear before that.
  show(fn) {
    return new Promise((resolve) => requestAnimationFrame((ts) => {
      const now = performance.now();
      const lag = now - ts;
      this.lagCount += 1;
      this.lagSum += lag;
      this.lagMax = Math.max(this.lagMax, lag);
      if (lag > this.frameMs) this.lateFrames += 1;
      if (fn) fn();
      resolve(Math.max(ts, now));
    }));
  }

  until(start, ms, signal) {
    return new Promise((resolve) => {
      if (ms === null || ms === undefined || !Number.isFinite(Number(ms))) return; // never: wait for something else
      const n = this.frames(ms);
      let id = 0;
      const tick = (ts) => {
        if (signal && signal.aborted) return;
        // Half a frame of slack: a frame that starts a little early still counts.
        if (ts - start >= (n - 0.5) * this.frameMs) resolve(ts);
        else id = requestAnimationFrame(tick);
      };
      if (signal) signal.addEventListener('abort', () => cancelAnimationFrame(id), { once: true });
      id = requestAnimationFrame(tick);
    });
  }

  // A blank wait of `ms`, counted in frames from the next frame.
  async wait(ms, signal) {
    if (!(Number(ms) > 0)) return;
    const start = await nextFrame();
    await this.until(start, ms, signal);
  }
}

export function timingFingerprint(refresh, monitor, timer, jsPsychVersion = null) {
  const scr = globalThis.screen || {};
  return {
    refresh_hz: refresh ? Math.round(refresh.refresh_hz * 100) / 100 : null,
    frame_ms_median: refresh?.frame_ms ?? null,
    frame_ms_mean: refresh?.frame_ms_mean ?? null,
    frame_ms_sd: refresh?.frame_ms_sd ?? null,
    frames_measured: refresh?.frames_measured ?? 0,
    ...(monitor ? monitor.snapshot() : {}),
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
