// Continuous RDM (experiment_type continuous + task_type rdm, the default task there): a run
// of RDM parameter frames shown back to back, each for update_interval_ms (counted in display
// frames), without redrawing the page. At each frame change the dots' colour and/or speed
// blend from the previous frame's over the frame's transition (transition_duration /
// transition_type, else transition_settings); coherence and direction change at once, as in
// the reference. One row per segment with a record per parameter frame (its sampled values
// under the config's names) and every response in it.

import { childController, waitForKey, waitForPointer } from '../input.js';
import { normalizeKey } from '../keys.js';
import { num, stage } from './common.js';
import { DotField, segmentOf } from './rdm-engine.js';
import { borderFor, correctSideOf, fieldOptions, keyMap, rdmGroups, requireResponse } from './rdm-setup.js';
import { mouseConfig, pointerAngle } from './rdm.js';

// Builder transition types: both | color | speed | none (mask = speed, fixation = color).
export function transitionKind(t) {
  const s = String(t ?? 'both').toLowerCase();
  if (s === 'none' || s === 'off') return { color: false, speed: false };
  if (s === 'speed' || s === 'mask') return { color: false, speed: true };
  if (s === 'color' || s === 'fixation') return { color: true, speed: false };
  return { color: true, speed: true };
}

function rgb(c) {
  const s = String(c ?? '').trim();
  let m = /^#([0-9a-f]{3})$/i.exec(s);
  if (m) return m[1].split('').map((h) => parseInt(h + h, 16));
  m = /^#([0-9a-f]{6})$/i.exec(s);
  if (m) return [0, 2, 4].map((i) => parseInt(m[1].slice(i, i + 2), 16));
  return null;
}

// Colour and speed of each group at fraction t of the way from `from` to `to`.
export function blendGroups(from, to, t, kind) {
  return to.map((g, i) => {
    const a = from[i] ?? g;
    const out = { ...g };
    if (kind.speed) out.speed = a.speed + (g.speed - a.speed) * t;
    const ca = rgb(a.color);
    const cb = rgb(g.color);
    if (kind.color && ca && cb) out.color = `rgb(${ca.map((v, k) => Math.round(v + (cb[k] - v) * t)).join(',')})`;
    return out;
  });
}

export async function run(el, p, ctx) {
  const frames = p.frames;
  const first = frames[0];
  const opts = fieldOptions(first);
  const box = stage(el, '<canvas class="cf-canvas" data-role="rdm" data-phase="stimulus"></canvas>');
  const canvas = box.firstElementChild;
  const field = new DotField(canvas, opts, ctx.rng);
  const perFrame = frames.map((f) => rdmGroups(f, ctx.rng));
  const mouse = mouseConfig(first);
  const kmap = keyMap(first, normalizeKey);
  const endOnResponse = first.end_condition_on_response === true;
  const durMs = Math.max(ctx.frameMs, num(p.update_interval_ms, 16));
  const records = frames.map((f, i) => {
    const { groups, target } = perFrame[i];
    return {
      frame_index: i, onset_ms: null, coherence: groups[target].coherence, direction_deg: groups[target].direction,
      speed_px_per_s: groups[target].speed,
      target_group: groups.length > 1 ? (target === 0 ? 'group_1' : 'group_2') : null,
      correct_side: mouse ? `segment_${segmentOf(groups[target].direction, mouse.segments, mouse.start)}` : correctSideOf(groups, target),
      require_response: requireResponse(f), transition: f.transition ?? null, ...(f.sampled ?? {}),
      responses: [],
    };
  });
  let idx = -1;
  let blend = null;
  const apply = (i, ts) => {
    const { groups, target } = perFrame[i];
    const tr = frames[i].transition;
    const kind = transitionKind(tr && tr.type);
    const prev = i > 0 ? perFrame[i - 1].groups : null;
    blend = prev && tr && tr.duration_ms > 0 && (kind.color || kind.speed) ? { from: prev, to: groups, start: ts, ms: tr.duration_ms, kind } : null;
    field.setGroups(blend ? blendGroups(prev, groups, 0, kind) : groups);
    field.border = borderFor(frames[i], groups, target);
    records[i].onset_ms = ctx.run.rel(ts);
    idx = i;
  };
  const ac = childController(ctx.signal);
  let onset = null;
  let last = null;
  let done;
  const finished = new Promise((r) => { done = r; });
  const tick = (ts) => {
    const i = Math.floor((ts - onset + ctx.frameMs / 2) / durMs);
    if (i >= frames.length) { field.clear(); done({ kind: 'end', timeStamp: ts }); return false; }
    if (i !== idx) apply(i, ts);
    if (blend) {
      const t = Math.min(1, (ts - blend.start) / blend.ms);
      field.groups = blendGroups(blend.from, blend.to, t, blend.kind);
      if (t >= 1) blend = null;
    }
    field.step(ts - last);
    last = ts;
    field.draw();
    return true;
  };
  // Every parameter frame's onset_ms is the timestamp of the animation frame that first drew it.
  onset = await ctx.timer.show((ts) => { apply(0, ts); field.draw(); });
  last = onset;
  ctx.timer.every(tick, ac.signal);

  const responses = [];
  const onResponse = (r) => {
    if (!r || ac.signal.aborted) return;
    const rec = records[Math.max(0, idx)];
    const value = r.kind === 'key' ? (kmap[r.key] ?? null) : `segment_${r.value.segment}`;
    const item = { kind: r.kind, key: r.key ?? null, choice: value, t_ms: ctx.run.rel(r.timeStamp), rt_ms: r.timeStamp - onset, correct: value === rec.correct_side };
    if (r.kind === 'pointer') item.angle_deg = r.value.angle;
    rec.responses.push(item);
    responses.push({ ...item, frame_index: rec.frame_index });
    if (endOnResponse) done({ kind: 'response', timeStamp: r.timeStamp });
    else listen();
  };
  const listen = () => {
    if (ac.signal.aborted) return;
    if (!mouse || first.choices || first.key_mapping) waitForKey(Object.keys(kmap), ac.signal).then(onResponse);
    if (mouse) {
      let lastSeg = null;
      waitForPointer(canvas, (e) => {
        const a = pointerAngle(canvas, e);
        if (mouse.hover && a.dist < opts.diameter * 0.15) return null;
        const seg = segmentOf(a.deg, mouse.segments, mouse.start);
        if (mouse.hover && seg === lastSeg) return null; // hovering inside one segment is one choice
        lastSeg = seg;
        return { segment: seg, angle: a.deg };
      }, ac.signal, mouse.hover ? 'pointermove' : 'pointerdown').then(onResponse);
    }
  };
  listen();
  const end = await finished;
  ac.abort();
  // Ended by a response: the first frame without dots is the offset.
  const offset = end.kind === 'end' ? end.timeStamp : await ctx.timer.show(() => field.clear());
  // A frame without a response is scored wrong only when it required one.
  for (const rec of records) rec.correct = rec.responses.length ? rec.responses[0].correct : (rec.require_response ? false : null);
  const r0 = responses[0] ?? null;
  return {
    stimulus_onset_ms: onset, stimulus_offset_ms: offset, rt_ms: r0 ? r0.rt_ms : null,
    response: r0 ? r0.choice : null, correct: r0 ? r0.correct : null,
    ended_reason: end.kind === 'response' ? 'response' : 'duration',
    frames_count: frames.length, update_interval_ms: durMs, response_count: responses.length,
    response_device: mouse ? 'mouse' : 'keyboard', records, rdm_parameters: opts,
  };
}
