// Helpers shared by the task components: frame-locked show/hide, response windows, ITI.

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

// Show a stimulus at the next frame, hide it after `stimulusMs` (counted in frames), and wait
// for a response until `windowMs` after onset. null/0 stimulusMs = stays up; null windowMs =
// no deadline. With endOnResponse=false the trial runs to the deadline and keeps the first
// response. Returns onset/offset frame timestamps and the response (event timeStamp based).
export async function respond(ctx, { show, hide, keys = null, pointer = null, stimulusMs = 0, windowMs = null, endOnResponse = true }) {
  const ac = childController(ctx.signal);
  const onset = await ctx.timer.show(show);
  let offset = null;
  if (stimulusMs > 0 && (windowMs === null || stimulusMs < windowMs || !endOnResponse)) {
    ctx.timer.until(onset, stimulusMs, ac.signal).then((ts) => { if (hide) hide(); offset = ts; });
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
  if (endOnResponse || deadline === null) {
    const r = await Promise.race([...listen(), ...(deadline ? [deadline] : [])]);
    if (r.kind !== 'timeout') first = r;
    end = r.timeStamp;
  } else {
    Promise.race(listen()).then((r) => { first = first ?? r; }); // keep the first, run on
    const r = await deadline;
    end = r.timeStamp;
  }
  ac.abort();
  return {
    onset, offset, response: first, endTs: end,
    rt_ms: first ? first.timeStamp - onset : null,
    ended_reason: first && endOnResponse ? 'response' : windowMs === null ? 'response' : (endOnResponse ? 'timeout' : 'duration'),
  };
}

// A blank (or fixation) inter-trial interval, counted in frames.
export async function iti(el, ctx, ms, fixation = false) {
  if (!(Number(ms) > 0)) return;
  el.innerHTML = fixation ? '<div class="cf-stage"><div class="cf-fixation">+</div></div>' : '';
  await ctx.timer.wait(ms, ctx.signal);
}

export async function feedback(el, ctx, html, ms) {
  if (!(Number(ms) > 0)) return;
  await ctx.timer.show(() => { el.innerHTML = `<div class="cf-stage"><div class="cf-feedback">${html}</div></div>`; });
  await ctx.timer.wait(ms, ctx.signal);
}

// Times are performance.now() values; the recorder turns them into run-relative ms.
export function timing(r) {
  return { stimulus_onset_ms: r.onset, stimulus_offset_ms: r.offset, rt_ms: r.rt_ms, ended_reason: r.ended_reason };
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
