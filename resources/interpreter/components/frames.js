// Frame loops for components that redraw on every display frame (MOT, continuous images) and
// for per-frame sampling (mouse tracking). Durations follow the FrameTimer's rule: a phase of
// `ms` starting on the frame stamped `start` ends on the first frame at least
// (frames(ms) - 0.5) refresh intervals later, so it lasts a whole number of frames.

// Calls fn(ts) on every animation frame until it returns false (or the signal aborts);
// resolves with the last frame's timestamp (null when aborted).
export function everyFrame(fn, signal) {
  return new Promise((resolve, reject) => {
    if (signal && signal.aborted) { resolve(null); return; }
    let id = 0;
    const tick = (ts) => {
      if (signal && signal.aborted) return;
      let more;
      try { more = fn(ts); } catch (err) { reject(err); return; }
      if (more === false) resolve(ts);
      else id = requestAnimationFrame(tick);
    };
    if (signal) signal.addEventListener('abort', () => { cancelAnimationFrame(id); resolve(null); }, { once: true });
    id = requestAnimationFrame(tick);
  });
}

// Has a phase of `ms` that began on the frame stamped `start` run out by the frame `ts`?
export function phaseOver(timer, start, ms, ts) {
  return ts - start >= (timer.frames(ms) - 0.5) * timer.frameMs;
}

// Display frames elapsed since `start` (0 on the start frame).
export function framesSince(timer, start, ts) {
  return Math.max(0, Math.round((ts - start) / timer.frameMs));
}

export const round = (x, digits = 3) => (typeof x === 'number' && Number.isFinite(x) ? Math.round(x * 10 ** digits) / 10 ** digits : x);
