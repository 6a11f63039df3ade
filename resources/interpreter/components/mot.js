// mot-trial: multiple object tracking. Cue (targets flash in the cue colour while every object
// moves), tracking (all objects alike), probe (objects frozen: click the targets, type their
// numbers, or answer yes/no for probed objects), feedback, blank ITI. Phases last whole frames
// from the frame that began them; objects move by the real frame interval (px per second).
// The canvas carries read-only hints for test drivers: data-phase, data-cued (the objects that
// flashed during the cue), data-objects (frozen positions during the probe).

import { childController } from '../input.js';
import { iti } from './common.js';
import { createView, drawFrame, feedbackRings } from './mot-draw.js';
import { arenaGeometry, cueFlashOn, fixationSchedule, motSettings, pickTargets, placeObjects, scoreSelection, stepObjects } from './mot-motion.js';
import { runProbe } from './mot-probe.js';
import { elapsed, everyFrame, phaseOver, round } from './frames.js';

const deg = (rad) => (((rad * 180) / Math.PI) % 360 + 360) % 360;

// As in the reference, a running detection-response task stops while the participant answers
// the probe and starts again (a new DRT segment, same settings) once the probe is over.
function pauseDrt(ctx) {
  const drt = ctx.run && ctx.run.drt;
  if (!drt || !drt.active) return null;
  const { s, rng } = drt.active;
  drt.stop();
  return () => drt.start({ ...s, drt_display_mode: s.display_mode }, rng);
}

// The fields a researcher set, under the config's own names, as this trial used them.
function usedParameters(s) {
  return {
    num_objects: s.num_objects, num_targets: s.num_targets, object_radius_px: s.radius,
    arena_width_px: s.width, arena_height_px: s.height, aperture_shape: s.circle ? 'circle' : 'rectangle',
    boundary_behavior: s.wrap ? 'wrap' : 'bounce', min_separation_px: s.min_separation,
    speed_px_per_s: s.speed, speed_variability: s.speed_variability, motion_type: s.curved ? 'curved' : 'linear',
    curve_strength: s.curve_strength, direction_jitter_deg_per_frame: s.jitter_deg,
    cue_duration_ms: s.cue_ms, cue_flash_rate_hz: s.flash_hz, tracking_duration_ms: s.tracking_ms,
    probe_mode: s.probe_mode, probe_timeout_ms: s.probe_timeout_ms, feedback_duration_ms: s.feedback_ms, iti_ms: s.iti_ms,
    ...(s.probe_mode === 'yes_no_recognition' ? { yes_key: s.yes_key, no_key: s.no_key } : {}),
  };
}

export async function run(el, p, ctx) {
  const s = motSettings(p);
  const g = arenaGeometry(s);
  const objects = placeObjects(s, g, ctx.rng);
  const targets = pickTargets(s.num_objects, s.num_targets, ctx.rng);
  const tset = new Set(targets);
  const fix = fixationSchedule(s, ctx.rng);
  const recognitionOrder = s.probe_mode === 'yes_no_recognition'
    ? ctx.rng.shuffle(objects.map((_, i) => i)).slice(0, Math.min(s.probe_count, objects.length)) : [];
  const initial = objects.map((o, i) => ({
    object: i, is_target: tset.has(i), x: round(o.x, 2), y: round(o.y, 2),
    speed_px_per_s: round(o.speed, 3), direction_deg: round(deg(Math.atan2(-o.vy, o.vx)), 3),
  }));
  const v = createView(el, s, g);
  const ac = childController(ctx.signal);

  // Object positions on every drawn frame of the motion (and the frozen probe frame).
  const positions = [];
  let frame = 0;
  const logFrame = (ts, phase) => {
    if (s.record_positions) {
      const t = ctx.run.rel(ts);
      objects.forEach((o, i) => positions.push({ frame, t_ms: t, phase, object: i, x: round(o.x, 1), y: round(o.y, 1) }));
    }
    frame += 1;
  };
  let fixShown = null;
  let fixFrames = 0;
  const fixationOn = (ts, onset) => {
    const t = elapsed(ctx, onset, ts);
    const half = ctx.timer.frameMs / 2;
    const on = !!fix && t >= fix.onset_ms - half && t < fix.onset_ms + fix.duration_ms - half;
    if (on) { fixShown ??= ts; fixFrames += 1; }
    return on;
  };

  // Cue and tracking: one animation; the first frame's timestamp is the stimulus onset.
  v.canvas.dataset.phase = 'cue';
  v.canvas.dataset.cued = JSON.stringify(targets);
  v.instructions.textContent = 'Remember the highlighted objects!';
  const onset = await ctx.timer.show(() => drawFrame(v, { objects, cued: tset, fixation: !!fix && fix.onset_ms <= 0 }));
  if (fix && fix.onset_ms <= 0) { fixShown = onset; fixFrames = 1; }
  logFrame(onset, 'cue');
  let phase = 'cue';
  let last = onset;
  let trackingOnset = null;
  let probeOnset = null;
  let motionFrames = 1;
  const st = {
    s, objects, targets, selected: new Set(), clicks: [], recognition: [], recognitionOrder, probe: null, first: null, probeOnset: null,
    redraw: () => drawFrame(v, { objects, selected: st.selected, probe: st.probe, numbers: s.probe_mode === 'number_entry' }),
  };
  await everyFrame(ctx, (ts) => {
    stepObjects(objects, s, g, elapsed(ctx, last, ts), ctx.rng);
    last = ts;
    if (phase === 'cue' && phaseOver(ctx, onset, s.cue_ms, ts)) {
      phase = 'tracking';
      trackingOnset = ts;
      v.canvas.dataset.phase = 'tracking';
      v.instructions.textContent = 'Keep tracking…';
    }
    if (phase === 'tracking' && phaseOver(ctx, trackingOnset, s.tracking_ms, ts)) {
      probeOnset = ts;
      st.probeOnset = ts;
      st.probe = recognitionOrder.length ? recognitionOrder[0] : null;
      st.redraw();
      v.canvas.dataset.objects = JSON.stringify(objects.map((o) => [round(o.x, 2), round(o.y, 2)]));
      v.canvas.dataset.radius = String(s.radius);
      v.canvas.dataset.phase = 'probe';
      logFrame(ts, 'probe');
      return false;
    }
    const cued = phase === 'cue' && cueFlashOn(elapsed(ctx, onset, ts), s.flash_hz) ? tset : null;
    drawFrame(v, { objects, cued, fixation: fixationOn(ts, onset) });
    logFrame(ts, phase);
    motionFrames += 1;
    return true;
  }, ac.signal);
  if (ctx.signal.aborted) return {};

  // A pause during the motion runs the trial again; in the probe the frozen objects and the
  // answers so far stay (a probe time limit stops while paused).
  ctx.pausePolicy = 'continue';
  const resumeDrt = pauseDrt(ctx);
  const answer = await runProbe(v, ctx, st, ac.signal);
  ac.abort();
  if (resumeDrt && !ctx.signal.aborted) resumeDrt();
  v.canvas.style.cursor = 'default';
  v.input.innerHTML = '';
  const selected = [...st.selected].sort((a, b) => a - b);
  const recognition = s.probe_mode === 'yes_no_recognition';
  const rec = st.recognition;
  const score = recognition
    ? {
      num_correct: rec.filter((t) => t.correct).length,
      num_false_alarms: rec.filter((t) => t.response === 'yes' && !t.probe_object_is_target).length,
      num_missed: rec.filter((t) => t.response === 'no' && t.probe_object_is_target).length,
    }
    : scoreSelection(selected, targets);

  // Feedback: rings (show_feedback) and/or the count message (feedback_show_count_message).
  const message = !s.count_message ? ''
    : recognition ? `Correct identifications: ${score.num_correct}/${rec.length}` : `Correctly identified targets: ${score.num_correct}/${s.num_targets}`;
  let feedbackOnset = null;
  if (s.show_feedback || message) {
    feedbackOnset = await ctx.timer.show(() => {
      drawFrame(v, { objects, selected: st.selected, rings: s.show_feedback ? feedbackRings(targets, st.selected, recognition ? rec : null) : null });
      v.instructions.textContent = message;
      v.canvas.dataset.phase = 'feedback';
    });
    await ctx.timer.until(feedbackOnset, s.feedback_ms, ctx.signal);
  }
  await iti(el, ctx, s.iti_ms);

  const complete = answer.probe_end !== 'timeout';
  const correct = recognition
    ? rec.length === recognitionOrder.length && rec.every((t) => t.correct)
    : score.num_correct === s.num_targets && score.num_false_alarms === 0;
  const last1 = rec[rec.length - 1] ?? null;
  return {
    stimulus_onset_ms: onset, stimulus_offset_ms: probeOnset, motion_frames_drawn: motionFrames,
    stimulus_duration_ms: s.cue_ms + s.tracking_ms,
    tracking_onset_ms: ctx.run.rel(trackingOnset), probe_onset_ms: ctx.run.rel(probeOnset),
    feedback_onset_ms: feedbackOnset === null ? null : ctx.run.rel(feedbackOnset),
    rt_ms: st.first === null ? null : st.first - probeOnset,
    rt_first_response_ms: st.first === null ? null : round(st.first - probeOnset),
    rt_complete_ms: complete ? round(answer.end - probeOnset) : null,
    response: recognition ? (rec.length ? rec.map((t) => t.response) : null) : (selected.length ? selected : null),
    correct, ended_reason: complete ? 'response' : 'timeout', probe_end: answer.probe_end,
    ...usedParameters(s),
    ...score, target_indices: targets, selected_objects: selected, clicks: st.clicks,
    ...(s.probe_mode === 'number_entry' ? { typed_numbers: st.typed ?? null } : {}),
    ...(recognition ? {
      probe_object_index: recognitionOrder[0] ?? null, probe_object_is_target: recognitionOrder.length ? tset.has(recognitionOrder[0]) : null,
      recognition_probe_count: recognitionOrder.length, recognition_probe_indices: recognitionOrder,
      recognition_response: last1 ? last1.response : null, recognition_response_key: last1 ? last1.response_key : null,
      recognition_is_yes: last1 ? last1.response === 'yes' : null, recognition_correct: last1 ? last1.correct : null,
      recognition_trials: rec,
    } : {}),
    ...(fix ? { fixation_cross_onset_ms: fix.onset_ms, fixation_cross_duration_ms: fix.duration_ms, fixation_cross_shown_ms: fixShown === null ? null : ctx.run.rel(fixShown), fixation_cross_frames: fixFrames } : {}),
    drt_paused_during_choice_phase: !!resumeDrt,
    mot_objects: initial,
    object_positions: s.record_positions ? positions : null,
  };
}
