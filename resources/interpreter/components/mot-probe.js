// The MOT probe phase: objects frozen; the participant clicks the tracked objects, types their
// numbers, or answers yes/no for probed objects. Every answer is timed by its event timeStamp.
// Each function resolves with {end, probe_end} once the probe is complete ('timeout' when
// probe_timeout_ms ran out first).

import { waitForKey, waitForPointer } from '../input.js';
import { normalizeKey } from '../keys.js';
import { escapeHtml } from './common.js';
import { objectAt, parseObjectNumbers } from './mot-motion.js';
import { round } from './frames.js';

function timeout(ctx, st, signal) {
  if (!(st.s.probe_timeout_ms > 0)) return new Promise(() => {});
  return ctx.timer.until(st.probeOnset, st.s.probe_timeout_ms, signal).then((ts) => ({ end: ts, probe_end: 'timeout' }));
}

function clickProbe(v, ctx, st, signal) {
  const { s } = st;
  v.instructions.textContent = `Click the ${s.num_targets} object${s.num_targets === 1 ? '' : 's'} you were tracking.`;
  v.canvas.style.cursor = 'pointer';
  return new Promise((resolve) => {
    v.canvas.addEventListener('pointerdown', (e) => {
      const pt = v.toArena(e.clientX, e.clientY);
      const idx = objectAt(st.objects, pt.x, pt.y, s.radius);
      const action = idx < 0 ? 'miss' : (st.selected.has(idx) ? 'deselect' : 'select');
      if (action === 'select') st.selected.add(idx);
      if (action === 'deselect') st.selected.delete(idx);
      st.first ??= e.timeStamp;
      st.clicks.push({
        t_ms: ctx.run.rel(e.timeStamp), rt_ms: round(e.timeStamp - st.probeOnset), x: round(pt.x, 1), y: round(pt.y, 1),
        object_index: idx < 0 ? null : idx, is_target: idx < 0 ? null : st.targets.includes(idx), action,
      });
      ctx.timer.show(() => st.redraw());
      if (st.selected.size >= s.num_targets) resolve({ end: e.timeStamp, probe_end: 'selection_complete' });
    }, { signal });
  });
}

function numberProbe(v, ctx, st, signal) {
  const { s } = st;
  v.instructions.textContent = 'Type the number(s) of the object(s) you tracked, then press Enter.';
  v.input.innerHTML = `<label>Objects (1–${s.num_objects}): <input type="text" data-role="mot-numbers" autocomplete="off" placeholder="e.g. 2, 5, 7" style="font-size:18px;width:12em"></label>
    <button type="button" class="cf-button" data-role="mot-submit">Submit</button>`;
  const input = v.input.querySelector('input');
  input.focus();
  return new Promise((resolve) => {
    const done = (ts, how) => { st.typed = input.value; resolve({ end: ts, probe_end: how }); };
    input.addEventListener('input', (e) => {
      const picked = parseObjectNumbers(input.value, s.num_objects);
      st.selected = new Set(picked);
      if (picked.length) st.first ??= e.timeStamp;
      ctx.timer.show(() => st.redraw());
      if (picked.length >= s.num_targets) done(e.timeStamp, 'keypress_complete');
    }, { signal });
    document.addEventListener('keydown', (e) => { if (e.key === 'Enter') { st.first ??= e.timeStamp; done(e.timeStamp, 'keypress_complete'); } }, { signal });
    v.input.querySelector('[data-role="mot-submit"]').addEventListener('click', (e) => { st.first ??= e.timeStamp; done(e.timeStamp, 'button_complete'); }, { signal });
  });
}

async function recognitionProbe(v, ctx, st, signal, expired) {
  const { s } = st;
  const yes = normalizeKey(s.yes_key);
  const no = normalizeKey(s.no_key);
  v.input.innerHTML = `<span>Was this object a target?</span>
    <button type="button" class="cf-button" data-answer="yes">Yes (${escapeHtml(s.yes_key)})</button>
    <button type="button" class="cf-button" data-answer="no">No (${escapeHtml(s.no_key)})</button>`;
  const order = st.recognitionOrder;
  let onset = st.probeOnset;
  let end = null;
  for (let k = 0; k < order.length; k++) {
    st.probe = order[k];
    v.canvas.dataset.probeObject = String(order[k]);
    v.instructions.textContent = `Was this object a target? (probe ${k + 1}/${order.length})`;
    if (k > 0) onset = await ctx.timer.show(() => st.redraw());
    const r = await Promise.race([
      waitForKey([yes, no], signal),
      waitForPointer(v.input, (e) => (e.target.closest && e.target.closest('[data-answer]') ? e.target.closest('[data-answer]').dataset.answer : null), signal),
      expired,
    ]);
    if (r.probe_end === 'timeout') return r;
    const isYes = r.kind === 'key' ? r.key === yes : r.value === 'yes';
    const isTarget = st.targets.includes(order[k]);
    st.first ??= r.timeStamp;
    st.recognition.push({
      probe_ordinal: k + 1, probe_object_index: order[k], probe_object_is_target: isTarget,
      probe_onset_ms: ctx.run.rel(onset), response: isYes ? 'yes' : 'no', response_key: r.kind === 'key' ? r.key : null,
      response_source: r.kind === 'key' ? 'keyboard' : 'button', rt_ms: round(r.timeStamp - onset), correct: isYes === isTarget,
    });
    end = { end: r.timeStamp, probe_end: r.kind === 'key' ? 'keypress_complete' : 'button_complete' };
  }
  return end;
}

export async function runProbe(v, ctx, st, signal) {
  const expired = timeout(ctx, st, signal);
  if (st.s.probe_mode === 'yes_no_recognition') return recognitionProbe(v, ctx, st, signal, expired);
  const answer = st.s.probe_mode === 'number_entry' ? numberProbe(v, ctx, st, signal) : clickProbe(v, ctx, st, signal);
  return Promise.race([answer, expired]);
}
