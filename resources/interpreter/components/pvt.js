// pvt-trial: wait through the foreperiod, then a millisecond counter starts (at a frame);
// respond as fast as possible. A response during the foreperiod is a false start.

import { childController, waitForKey, waitForPointer } from '../input.js';
import { escapeHtml, iti, key, num, stage } from './common.js';

const LAPSE_MS = 500;

export async function run(el, p, ctx) {
  const device = ['keyboard', 'mouse', 'both'].includes(p.response_device) ? p.response_device : 'keyboard';
  const respKey = key(p.response_key, 'space');
  const foreperiod = num(p.foreperiod_ms, 4000);
  const windowMs = num(p.trial_duration_ms, 10000);
  const ac = childController(ctx.signal);
  let box;
  const listen = () => [
    ...(device !== 'mouse' ? [waitForKey([respKey], ac.signal)] : []),
    ...(device !== 'keyboard' ? [waitForPointer(el, () => 'click', ac.signal)] : []),
  ];
  const fpStart = await ctx.timer.show(() => { box = stage(el, '<div class="cf-big" data-role="pvt-counter" style="min-width:4ch;text-align:center;color:#ffcc00">&nbsp;</div>'); });
  const early = await Promise.race([...listen(), ctx.timer.until(fpStart, foreperiod, ac.signal).then(() => null)]);
  ac.abort();
  const base = { foreperiod_ms: foreperiod, response_device: device };
  if (early) {
    if (p.feedback_enabled) {
      box.firstElementChild.innerHTML = `<span style="font-size:28px;color:#ff8a80">${escapeHtml(p.feedback_message || 'Too early!')}</span>`;
      await ctx.timer.wait(1000, ctx.signal);
    }
    await iti(el, ctx, num(p.iti_ms, 0));
    return {
      ...base, stimulus_onset_ms: null, rt_ms: null, response: early.kind === 'key' ? early.key : 'click', correct: false,
      ended_reason: 'false_start', false_start: true, false_start_rt_ms: early.timeStamp - fpStart, lapse: false,
      response_source: early.kind === 'key' ? 'keyboard' : 'mouse',
    };
  }
  const ac2 = childController(ctx.signal);
  const counter = box.firstElementChild;
  let running = true;
  let onset = 0;
  // The counter is written in each frame's callback, so its first paint is the onset frame.
  const tick = (ts) => {
    if (!running) return false;
    counter.textContent = String(Math.max(0, Math.floor(ts - onset)));
    return true;
  };
  onset = await ctx.timer.show(() => { counter.textContent = '0'; });
  ctx.mark?.('onset', onset); // lab hardware markers (../markers.js); queued, never waits
  ctx.timer.every(tick, ac2.signal);
  const ac2Waits = [
    ...(device !== 'mouse' ? [waitForKey([respKey], ac2.signal)] : []),
    ...(device !== 'keyboard' ? [waitForPointer(el, () => 'click', ac2.signal)] : []),
  ];
  const r = await Promise.race([...ac2Waits, ctx.timer.until(onset, windowMs, ac2.signal).then((ts) => ({ kind: 'timeout', timeStamp: ts }))]);
  ac2.abort();
  running = false;
  ctx.pausePolicy = 'continue'; // the response is in: a pause from here on continues
  const responded = r.kind !== 'timeout';
  const rt = responded ? r.timeStamp - onset : null;
  if (responded) ctx.mark?.('response', r.timeStamp, { response: r.kind === 'key' ? r.key : 'click', rt_ms: rt });
  counter.textContent = responded ? String(Math.round(rt)) : '—';
  await ctx.timer.wait(500, ctx.signal); // show the stopped counter
  await iti(el, ctx, num(p.iti_ms, 0));
  return {
    ...base, stimulus_onset_ms: onset, rt_ms: rt, response: responded ? (r.kind === 'key' ? r.key : 'click') : null,
    correct: responded, ended_reason: responded ? 'response' : 'timeout', false_start: false, false_start_rt_ms: null,
    lapse: !responded || rt >= LAPSE_MS, response_source: responded ? (r.kind === 'key' ? 'keyboard' : 'mouse') : null,
  };
}
