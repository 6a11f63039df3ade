// Helpers shared by the task components: frame-locked show/hide, response windows, ITI.
// Every time here is a frame timestamp from ctx.timer (see ../timing.js); `ctx.pausePolicy` tells
// the runtime whether a pause restarts the trial ('restart') or lets it continue ('continue').

import { childController, waitForKey, waitForPointer } from '../input.js';
import { normalizeKey } from '../keys.js';
export { escapeHtml } from '../ui.js';

export function stage(el, inner, cls = '') {
  el.innerHTML = `<div class="cf-stage ${cls}">${inner}</div>`;
  return el.firstElementChild;
}

export const num = (v, d) => (v === null || v === undefined || v === '' || !Number.isFinite(Number(v)) ? d : Number(v));
export const bool = (v, d) => (v === undefined || v === null ? d : v === true || v === 'true' || v === 1);
export const key = (v, d) => normalizeKey(v === undefined || v === null || v === 'inherit' ? d : v);

// Show a stimulus on the frame being built (or the next one), hide it after `stimulusMs`
// (counted in whole frames from that onset), and wait for a response until `windowMs` after
// onset. null/0 stimulusMs = stays up; null windowMs = no deadline. With endOnResponse=false the
// trial runs to the deadline and keeps the first response. A stimulus still up when the trial
// ends is hidden on the next frame (the deadline's own frame, or the frame after a response), so
// `offset` is always the first frame without it. Returns onset/offset frame timestamps, the
// planned duration and the response (event timeStamp based).
export async function respond(ctx, { show, hide, keys = null, pointer = null, stimulusMs = 0, windowMs = null, endOnResponse = true }) {
  const ac = childController(ctx.signal);
  const timed = stimulusMs > 0 || windowMs !== null;
  ctx.pausePolicy = timed ? 'restart' : 'continue';
  const rec = ctx.timing ?? (ctx.timing = {});
  rec.stimulus_duration_ms = stimulusMs > 0 ? stimulusMs : null;
  const onset = await ctx.timer.show(show);
  ctx.mark?.('onset', onset); // lab hardware markers (../markers.js); queued, never waits
  let offset = null;
  if (stimulusMs > 0 && (windowMs === null || stimulusMs < windowMs || !endOnResponse)) {
    ctx.timer.until(onset, stimulusMs, ac.signal).then((ts) => { if (hide) hide(); offset = ts; ctx.mark?.('offset', ts); });
  }
  const deadline = windowMs === null ? null : ctx.timer.until(onset, windowMs, ac.signal).then((ts) => ({ kind: 'timeout', timeStamp: ts }));
  const listen = () => {
    const waits = [];
    if (keys) waits.push(waitForKey(keys, ac.signal));
    if (pointer) waits.push(waitForPointer(pointer.target, pointer.pick, ac.signal, pointer.type));
    return waits;
  };
  let first = null;
  let end;
  const marked = (r) => { ctx.mark?.('response', r.timeStamp, { response: r.key ?? r.value ?? null, rt_ms: r.timeStamp - onset }); return r; };
  if (endOnResponse || deadline === null) {
    const r = await Promise.race([...listen(), ...(deadline ? [deadline] : [])]);
    if (r.kind !== 'timeout') first = marked(r);
    end = r.timeStamp;
  } else {
    Promise.race(listen()).then((r) => { first = first ?? marked(r); }); // keep the first, run on
    const r = await deadline;
    end = r.timeStamp;
  }
  ac.abort();
  if (offset === null && hide) { offset = await ctx.timer.show(hide); ctx.mark?.('offset', offset); }
  ctx.pausePolicy = 'continue'; // the response window is closed: a pause from here on continues
  return {
    onset, offset, response: first, endTs: end, stimulusMs: stimulusMs > 0 ? stimulusMs : null,
    rt_ms: first ? first.timeStamp - onset : null,
    ended_reason: first && endOnResponse ? 'response' : windowMs === null ? 'response' : (endOnResponse ? 'timeout' : 'duration'),
  };
}

// A blank (or fixation) inter-trial interval in whole frames, drawn on the frame being built
// (the previous deadline's frame, when the trial ran to it), so the next trial's onset falls
// exactly `ms` after it. Records the planned `iti_ms` and the delivered `iti_actual_ms` (first
// ITI frame to the frame the next onset can be drawn on) for the trial's row.
export async function iti(el, ctx, ms, fixation = false) {
  const planned = Number(ms) > 0 ? Number(ms) : 0;
  const rec = ctx.timing ?? (ctx.timing = {});
  if (!planned) { Object.assign(rec, { iti_ms: 0, iti_actual_ms: 0 }); return; }
  const start = await ctx.timer.show(() => { el.innerHTML = fixation ? '<div class="cf-stage"><div class="cf-fixation">+</div></div>' : ''; });
  const end = await ctx.timer.until(start, planned, ctx.signal);
  Object.assign(rec, { iti_ms: planned, iti_actual_ms: end - start });
}

export async function feedback(el, ctx, html, ms) {
  if (!(Number(ms) > 0)) return;
  await ctx.timer.show(() => { el.innerHTML = `<div class="cf-stage"><div class="cf-feedback">${html}</div></div>`; });
  await ctx.timer.wait(ms, ctx.signal);
}

// Times are performance.now() values; the recorder turns them into run-relative ms and adds the
// delivered stimulus_frames.
export function timing(r) {
  return {
    stimulus_onset_ms: r.onset, stimulus_offset_ms: r.offset, stimulus_duration_ms: r.stimulusMs ?? null,
    rt_ms: r.rt_ms, ended_reason: r.ended_reason,
  };
}

export function looksLikeHtml(s) {
  return /<\/?[a-z][\s\S]*>/i.test(String(s ?? ''));
}

// Relative media paths are study assets served by the app at /media/.
export function mediaUrl(src) {
  const s = String(src ?? '');
  if (!s || /^(?:[a-z]+:|\/|\.\.?\/)/i.test(s)) return s;
  return `../media/${s}`;
}
