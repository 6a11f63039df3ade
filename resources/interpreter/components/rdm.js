// rdm-trial / rdm-practice / rdm-dot-groups / rdm-adaptive: fixation, moving dots (counted in
// frames), response by key (key_mapping) or by mouse on aperture segments, optional feedback.

import { childController, waitForKey, waitForPointer } from '../input.js';
import { normalizeKey } from '../keys.js';
import { createProcedure, rdmProcedureOptions } from '../adaptive.js';
import { bool, iti, num, stage } from './common.js';
import { DotField, segmentOf } from './rdm-engine.js';
import { borderFor, correctSideOf, fieldOptions, keyMap, rdmGroups, requireResponse } from './rdm-setup.js';

export function mouseConfig(p) {
  const m = p.mouse_response || {};
  const on = p.response_device === 'mouse' || p.response_device === 'touch' || m.enabled === true;
  return on ? { segments: Math.max(1, num(m.segments, 2)), start: num(m.start_angle_deg, 0), hover: m.selection_mode === 'hover' } : null;
}

// Angle of a pointer event around the canvas centre (0 = right, 90 = up) and its distance.
export function pointerAngle(canvas, e) {
  const b = canvas.getBoundingClientRect();
  const x = e.clientX - (b.left + b.width / 2);
  const y = (b.top + b.height / 2) - e.clientY;
  return { deg: (Math.atan2(y, x) * 180) / Math.PI, dist: Math.hypot(x, y) };
}

export async function run(el, p0, ctx) {
  const p = { source_type: ctx.spec.component_type, ...p0 };
  let sc = null;
  if (p.adaptive) {
    sc = ctx.state.staircases[p.adaptive.id] ??= createProcedure(rdmProcedureOptions(p.adaptive));
    p.coherence = sc.next();
  }
  const { groups, target } = rdmGroups(p, ctx.rng);
  const opts = fieldOptions(p);
  const box = stage(el, '<canvas class="cf-canvas" data-role="rdm"></canvas>');
  const canvas = box.firstElementChild;
  const field = new DotField(canvas, opts, ctx.rng);
  field.setGroups(groups);
  field.border = borderFor(p, groups, target);
  const correctSide = correctSideOf(groups, target);
  const mouse = mouseConfig(p);
  const correctSegment = mouse ? segmentOf(groups[target].direction, mouse.segments, mouse.start) : null;
  const kmap = keyMap(p, normalizeKey);

  await ctx.timer.show(() => { field.drawFixation(); canvas.dataset.phase = 'fixation'; });
  await ctx.timer.wait(num(p.fixation_duration, 500), ctx.signal);

  const stimMs = num(p.stimulus_duration, 1500);
  const windowMs = num(p.response_deadline, stimMs);
  // Trial-based RDM ends on a response unless end_trial_on_response is false (the reference's
  // name; end_condition_on_response belongs to continuous RDM).
  const endOnResponse = p.end_trial_on_response !== false && p.end_trial_on_response !== 'false';
  const required = requireResponse(p);
  const ac = childController(ctx.signal);
  let onset = null;
  let offset = null;
  let last = null;
  let animating = true;
  const frame = (ts) => {
    if (!animating) return false;
    if (ts - onset >= (ctx.timer.frames(stimMs) - 0.5) * ctx.frameMs) { field.clear(); offset = ts; animating = false; return false; }
    field.step(ts - last);
    last = ts;
    field.draw();
    return true;
  };
  onset = await ctx.timer.show(() => { field.draw(); canvas.dataset.phase = 'stimulus'; });
  last = onset;
  ctx.timer.every(frame, ac.signal);

  const waits = [];
  if (!mouse || p.choices || p.key_mapping) waits.push(waitForKey(Object.keys(kmap), ac.signal));
  if (mouse) {
    waits.push(waitForPointer(canvas, (e) => {
      const a = pointerAngle(canvas, e);
      if (mouse.hover && a.dist < opts.diameter * 0.15) return null; // hovering near the centre is not a choice
      return { segment: segmentOf(a.deg, mouse.segments, mouse.start), angle: a.deg };
    }, ac.signal, mouse.hover ? 'pointermove' : 'pointerdown'));
  }
  const deadline = ctx.timer.until(onset, Math.max(windowMs, endOnResponse ? 0 : stimMs), ac.signal).then((ts) => ({ kind: 'timeout', timeStamp: ts }));
  let first = null;
  if (endOnResponse) {
    const r = await Promise.race([...waits, deadline]);
    if (r.kind !== 'timeout') first = r;
  } else {
    Promise.race(waits).then((r) => { first = r; });
    await deadline;
  }
  ac.abort();
  if (animating) offset = await ctx.timer.show(() => field.clear()); // the first frame without dots
  animating = false;
  ctx.pausePolicy = 'continue'; // the response window is closed: a pause from here on continues
  let responseSide = null;
  let correct = null;
  if (first && first.kind === 'key') { responseSide = kmap[first.key] ?? null; correct = responseSide === correctSide; }
  if (first && first.kind === 'pointer') { responseSide = `segment_${first.value.segment}`; correct = first.value.segment === correctSegment; }
  if (!first) correct = required ? false : null;
  if (sc) sc.update(correct === true, groups[target].coherence); // a missed response counts as an error for the procedure
  const fb = p.feedback || {};
  if (bool(fb.enabled, false)) {
    el.innerHTML = `<div class="cf-stage"><div class="cf-feedback" style="position:static">${first ? (correct ? 'Correct' : 'Incorrect') : 'Too slow'}</div></div>`;
    await ctx.timer.wait(num(fb.duration_ms, 500), ctx.signal);
  }
  await iti(el, ctx, num(p.inter_trial_interval, 0));
  const data = {
    stimulus_onset_ms: onset, stimulus_offset_ms: offset, stimulus_duration_ms: stimMs,
    rt_ms: first ? first.timeStamp - onset : null,
    response: first ? (first.kind === 'key' ? first.key : responseSide) : null,
    correct, ended_reason: first && endOnResponse ? 'response' : (endOnResponse && required ? 'timeout' : 'duration'),
    require_response: required,
    coherence: groups[target].coherence, direction_deg: groups[target].direction, speed_px_per_s: groups[target].speed,
    correct_side: mouse ? `segment_${correctSegment}` : correctSide, response_side: responseSide,
    response_device: mouse ? 'mouse' : 'keyboard', rdm_parameters: { ...opts, groups },
  };
  if (first && first.kind === 'pointer') data.response_angle_deg = first.value.angle;
  // A direction expression ("0,180", "0-15") is drawn here: record the drawn value under its name.
  const exprs = groups.length > 1 ? ['group_1_direction', 'group_2_direction'] : ['direction'];
  exprs.forEach((k, i) => { if (typeof p[k] === 'string') data[k] = groups[i].direction; });
  if (groups.length > 1) Object.assign(data, { target_group: target === 0 ? 'group_1' : 'group_2', response_target_group: target + 1 });
  if (field.border) Object.assign(data, { cue_border_color: field.border.color, cue_border_width: field.border.width });
  if (sc) {
    Object.assign(data, {
      adaptive_mode: sc.algorithm, adaptive_parameter: 'coherence', adaptive_value: groups[target].coherence,
      adaptive_threshold_estimate: sc.mean(), adaptive_threshold_sd: sc.sd(), adaptive_trials: sc.trials,
    });
    if (sc.algorithm !== 'quest') Object.assign(data, { adaptive_next_value: sc.value, adaptive_reversals: sc.reversals });
  }
  return data;
}
