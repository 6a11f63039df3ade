// Frame loops for components that redraw on every display frame (MOT, continuous images), on
// ctx.timer.every (the run's frame clock: no frames while the run is paused). Durations follow
// the FrameTimer's rule: a phase of `ms` starting on the frame stamped `start` ends on the first
// frame at least (frames(ms) - 0.5) refresh intervals of active (unpaused) time later, so it
// lasts a whole number of frames.

// Active time of a frame timestamp: paused time does not count (the run's clock keeps it).
function active(ctx, ts) {
  const clock = ctx.run && ctx.run.clock;
  return clock && typeof clock.active === 'function' ? clock.active(ts) : ts;
}

// Calls fn(ts) on every frame until it returns false (or the trial's signal aborts); resolves
// with the last frame's timestamp (null when aborted).
export function everyFrame(ctx, fn, signal = ctx.signal) {
  return new Promise((resolve, reject) => {
    if (signal && signal.aborted) { resolve(null); return; }
    if (signal) signal.addEventListener('abort', () => resolve(null), { once: true });
    ctx.timer.every((ts) => {
      let more;
      try { more = fn(ts); } catch (err) { reject(err); return false; }
      if (more === false) { resolve(ts); return false; }
      return true;
    }, signal);
  });
}

// Active milliseconds from the frame `from` to the frame `to`.
export function elapsed(ctx, from, to) {
  return active(ctx, to) - active(ctx, from);
}

// Has a phase of `ms` that began on the frame stamped `start` run out by the frame `ts`?
export function phaseOver(ctx, start, ms, ts) {
  return elapsed(ctx, start, ts) >= (ctx.timer.frames(ms) - 0.5) * ctx.timer.frameMs;
}

// Display frames elapsed since `start` (0 on the start frame).
export function framesSince(ctx, start, ts) {
  return Math.max(0, Math.round(elapsed(ctx, start, ts) / ctx.timer.frameMs));
}

export const round = (x, digits = 3) => (typeof x === 'number' && Number.isFinite(x) ? Math.round(x * 10 ** digits) / 10 ** digits : x);
