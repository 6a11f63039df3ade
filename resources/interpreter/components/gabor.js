// gabor-trial / gabor-quest: fixation, placeholders, spatial cue, cue delay, two Gabor patches
// (target and distractor), noise mask and response window, each phase counted in frames of the
// measured refresh interval; response by key (tilt left/right or target yes/no) from stimulus
// onset; optional feedback and the trial's own reward points. Adaptive blocks (QUEST, staircase)
// choose the adapted parameter before the trial and learn from its answer.

import { childController, waitForKey } from '../input.js';
import { createGaborAdaptive } from '../adaptive.js';
import { escapeHtml } from './common.js';
import { makeCanvas, makeScene } from './gabor-draw.js';
import { cyclesPerPx, luminanceMapping, patchDiameter, pxPerDeg } from './gabor-geometry.js';
import { cueDelay, design, gaborReward, phasePlan, pointsLabel, storedThreshold } from './gabor-logic.js';

const finite = (v) => v !== null && v !== undefined && v !== '' && Number.isFinite(Number(v));
const num = (v, d) => (finite(v) ? Number(v) : d);
const clamp = (x, lo, hi) => Math.min(hi, Math.max(lo, x));
const lower = (v) => String(v ?? '').trim().toLowerCase();
const frameMs = (ctx) => ctx.timer.frameMs ?? ctx.frameMs;

// Draw `fn` in the frame that ends a phase of `ms` begun at `start` (frame-counted), and
// resolve with that frame's onset; null if the trial was stopped first.
async function after(ctx, start, ms, fn, signal) {
  const n = ctx.timer.frames(ms);
  if (n > 1) await ctx.timer.until(start, (n - 1) * frameMs(ctx), signal);
  if (signal && signal.aborted) return null;
  let drawn = false;
  const t = await ctx.timer.show(() => { if (!signal || !signal.aborted) { fn(); drawn = true; } });
  return drawn ? t : null; // stopped (a response) before this frame: nothing changed on screen
}

function chooseParameter(p, ctx) {
  const side = lower(p.target_location) === 'right' ? 'right' : 'left';
  if (p.adaptive && typeof p.adaptive === 'object' && p.adaptive.id) {
    ctx.state.adaptive ??= {};
    const ad = ctx.state.adaptive[p.adaptive.id] ??= createGaborAdaptive(p.adaptive);
    const phase = ad.phase(side);
    let value = ad.next(side);
    if (ad.parameter === 'target_tilt_deg') {
      value = Math.abs(value);
      p.target_tilt_deg = (ctx.rng() < 0.5 ? -1 : 1) * value;
    } else p[ad.parameter] = value;
    return {
      ad, side, value,
      fields: { adaptive_mode: p.adaptive.mode, adaptive_parameter: ad.parameter, adaptive_value: value, adaptive_phase: phase, adaptive_location: ad.perLocation ? side : null },
    };
  }
  if (p.use_stored_thresholds === true || p.use_stored_thresholds === 'true') {
    const s = storedThreshold(ctx.state.gaborThresholds, side, ctx.rng);
    if (s) {
      p[s.parameter] = s.value;
      return { fields: { reused_stored_threshold: true, stored_threshold_parameter: s.parameter, stored_threshold_source: s.source, stored_threshold_value: s.value } };
    }
  }
  return { fields: {} };
}

function learn(choice, p, ctx, correct) {
  const { ad, side, value } = choice;
  if (!ad) return {};
  ad.update(side, correct === true, value);
  const est = ad.estimate(side);
  const out = { adaptive_threshold_estimate: est.mean, adaptive_threshold_sd: est.sd, adaptive_trials: est.trials };
  const proc = ad.procedure(side);
  if (proc.algorithm !== 'quest') Object.assign(out, { adaptive_next_value: proc.value, adaptive_reversals: proc.reversals });
  if (p.adaptive.store_location_threshold === true) {
    ctx.state.gaborThresholds = { parameter: ad.parameter, per_location: ad.perLocation, ...ad.thresholds() };
  }
  return out;
}

function geometry(p, d, ctx, canvas, dpr) {
  const { px_per_deg: ppd, source } = pxPerDeg(p, ctx.state.visualAngle);
  const W = canvas.width / dpr;
  const H = canvas.height / dpr;
  const diam = patchDiameter(p, ppd);
  const maxCss = Math.max(60, Math.floor(Math.min(W, H) * 0.85));
  const dev = Math.max(8, Math.round(clamp(diam.css, 40, maxCss) * dpr));
  const css = dev / dpr;
  const sf = cyclesPerPx(p, ppd, css);
  const ecc = finite(p.patch_eccentricity_deg) ? Number(p.patch_eccentricity_deg) * ppd : null;
  const centers = ecc !== null ? { left: W / 2 - ecc, right: W / 2 + ecc } : { left: Math.floor(W * 0.3), right: Math.floor(W * 0.7) };
  const mapping = luminanceMapping(p);
  const contrast = clamp(num(p.contrast, 0.95), 0, 1);
  return {
    ppd,
    scene: {
      dpr, diameterDev: dev, centersCss: centers, spatialCue: d.cue, leftAngle: d.leftAngle, rightAngle: d.rightAngle,
      fixationOffset: { x: num(p.fixation_offset_x_px, 0), y: num(p.fixation_offset_y_px, 0) },
      patch: { freq: sf.f / dpr, contrast, wave: p.grating_waveform, phaseDeg: num(p.phase_deg, 0), mapping },
    },
    fields: {
      px_per_deg: ppd, px_per_deg_source: source, device_pixel_ratio: dpr,
      patch_diameter_px: css, patch_diameter_deg: css / ppd, patch_diameter_device_px: dev, patch_diameter_source: diam.source,
      patch_clamped: Math.abs(css - diam.css) > 1 / dpr,
      patch_eccentricity_px: centers.right - W / 2, patch_eccentricity_deg: (centers.right - W / 2) / ppd,
      spatial_frequency_cyc_per_px: sf.f, spatial_frequency_cyc_per_deg: sf.f * ppd, spatial_frequency_unit: sf.unit,
      contrast, grating_waveform: lower(p.grating_waveform || 'sinusoidal'), phase_deg: num(p.phase_deg, 0),
      luminance_mapping: mapping.kind, mean_gray: mapping.mean, canvas_width_px: W, canvas_height_px: H,
    },
  };
}

function look(p, d, ppd) {
  const deg = (k) => (finite(p[`${k}_deg`]) ? Number(p[`${k}_deg`]) * ppd : null);
  const size = num(p.fixation_size_px, deg('fixation_size') ?? 20);
  const value = (v) => (v === 'high' ? p.high_value_color ?? '#00aa00' : v === 'low' ? p.low_value_color ?? '#0066ff' : p.neutral_value_color ?? '#666666');
  return {
    background: p.background_color ?? '#0b0b0b',
    placeholderColor: p.placeholder_ring_color ?? 'rgb(191,191,191)',
    cueBackground: p.cue_background_color ?? 'rgb(191,191,191)',
    cueIndicator: p.cue_indicator_color ?? 'rgb(114,114,114)',
    cueFixation: p.cue_fixation_color ?? 'rgb(114,114,114)',
    fixationColor: p.initial_fixation_color ?? '#ffffff',
    fixationHalf: clamp(Math.round(size / 2), 1, 180),
    fixationWidth: clamp(num(p.fixation_line_width_px, deg('fixation_line_width') ?? 2), 0.5, 80),
    borderEnabled: p.patch_border_enabled !== false, borderWidth: clamp(num(p.patch_border_width_px, 2), 0, 50),
    borderColor: p.patch_border_color ?? '#ffffff', borderOpacity: clamp(num(p.patch_border_opacity, 0.22), 0, 1),
    valueColors: { left: value(d.leftValue), right: value(d.rightValue) },
  };
}

function feedbackText(p, d, plan, r, reward, before) {
  const on = (k) => p[k] === true;
  if (r.key === null && on('too_slow_feedback_enabled') && !plan.quest) return [String(p.feedback_text_no_response ?? 'Too slow'), '#ffffff'];
  if (on('reward_feedback_enabled') && d.valueContext) {
    const pts = reward.reward_points_awarded ?? 0;
    return r.correct === true ? [`${pointsLabel(before)}+${pointsLabel(pts)}`, plan.rewardMain ? '#ffd54f' : '#ffffff'] : [pointsLabel(before), '#ffffff'];
  }
  if (on('show_feedback') && r.correct !== null) return r.correct ? [String(p.feedback_text_correct ?? 'Correct'), '#4caf50'] : [String(p.feedback_text_incorrect ?? 'Incorrect'), '#ffffff'];
  return null;
}

export function run(el, p, ctx) {
  return runGaborTrial(el, p, ctx);
}

export async function runGaborTrial(el, p0, ctx) {
  const p = { ...p0 };
  const choice = chooseParameter(p, ctx);
  const d = design(p);
  const dpr = window.devicePixelRatio || 1;
  const hint = d.task === 'detect_target' ? `${d.keys.yes} = yes, ${d.keys.no} = no` : `${d.keys.left} = left tilt, ${d.keys.right} = right tilt`;
  // Built off-screen and put on screen by the first phase's frame (nothing shows before it).
  const box = document.createElement('div');
  box.className = 'cf-stage cf-gabor';
  const canvas = makeCanvas(box, dpr);
  box.insertAdjacentHTML('beforeend', `<div class="cf-keys-hint" data-role="gabor-hint">${escapeHtml(hint)}</div>`);
  const geo = geometry(p, d, ctx, canvas, dpr);
  const delay = cueDelay(p, ctx.rng);
  const plan = phasePlan(p, d, delay);
  const paint = makeScene(canvas, geo.scene, look(p, d, geo.ppd), ctx.rng);
  const draw = (ph) => { if (box.parentNode !== el) el.replaceChildren(box); paint(ph); };
  const ac = childController(ctx.signal);
  const onsets = {};
  let prev = null;
  for (const ph of plan.before) {
    if (ctx.timer.frames(ph.ms) === 0) continue;
    const t = prev ? await after(ctx, prev.t, prev.ms, () => draw(ph), ac.signal) : await ctx.timer.show(() => draw(ph));
    prev = { t, ms: ph.ms };
    onsets[ph.phase] = t;
  }
  const stimFrames = Math.max(1, ctx.timer.frames(plan.stimulus.ms));
  const maskFrames = ctx.timer.frames(plan.mask.ms);
  const respFrames = ctx.timer.frames(plan.response.ms);
  const onset = prev ? await after(ctx, prev.t, prev.ms, () => draw(plan.stimulus), ac.signal) : await ctx.timer.show(() => draw(plan.stimulus));
  onsets.stimulus = onset;
  const key = waitForKey(d.responseKeys, ac.signal);
  let offset = null;
  (async () => {
    let t = onset;
    let ms = stimFrames * frameMs(ctx);
    for (const ph of [plan.mask, plan.response]) {
      const frames = ph === plan.mask ? maskFrames : respFrames;
      if (ph === plan.mask && frames === 0) continue;
      t = await after(ctx, t, ms, () => draw(ph), ac.signal);
      if (t === null) return;
      offset ??= t;
      onsets[ph.phase] = t;
      ms = frames * frameMs(ctx);
    }
  })();
  const deadline = ctx.timer.until(onset, (stimFrames + maskFrames + respFrames) * frameMs(ctx), ac.signal).then((ts) => ({ kind: 'timeout', timeStamp: ts }));
  const first = await Promise.race([key, deadline]);
  ac.abort();
  const resp = first.kind === 'key' ? first : null;
  const r = { key: resp ? resp.key : null, rt: resp ? resp.timeStamp - onset : null };
  r.correct = resp ? (d.correctKey === null ? null : r.key === d.correctKey) : (d.correctKey === null ? null : false);
  const reward = gaborReward(p, d, r);
  const before = ctx.state.gaborRewardTotal ?? 0;
  const after2 = before + (r.correct === true ? reward.reward_points_awarded ?? 0 : 0);
  ctx.state.gaborRewardTotal = after2;
  const fb = feedbackText(p, d, plan, r, reward, before);
  const fbMs = Math.max(0, num(p.feedback_duration_ms, 800));
  if (fb && ctx.timer.frames(fbMs) > 0) {
    const t = await ctx.timer.show(() => draw({ phase: 'feedback', rings: plan.response.rings, text: fb[0], textColor: fb[1] }));
    offset ??= t;
    await ctx.timer.until(t, fbMs, ctx.signal);
  } else if (offset === null) {
    offset = await ctx.timer.show(() => draw({ phase: 'blank', rings: 'none' }));
  }
  const rel = (t) => (typeof t === 'number' && ctx.run && ctx.run.rel ? ctx.run.rel(t) : t);
  return {
    stimulus_onset_ms: onset, stimulus_offset_ms: offset, rt_ms: r.rt, response: r.key, correct: r.correct,
    ended_reason: resp ? 'response' : 'timeout',
    stimulus_duration_ms: plan.stimulus.ms, stimulus_frames: stimFrames, mask_frames: maskFrames, response_window_frames: respFrames,
    phase_onsets_ms: Object.fromEntries(Object.entries(onsets).map(([k, v]) => [k, rel(v)])),
    response_task: d.task, target_location: d.target, target_present: d.present, target_tilt_deg: d.tilt,
    distractor_orientation_deg: d.distractor, spatial_cue: d.cue, spatial_cue_valid: d.cueValid,
    left_value: d.leftValue, right_value: d.rightValue, value_target_value: p.value_target_value ?? null,
    reward_available: typeof p.reward_available === 'boolean' ? p.reward_available : null,
    reward_availability_probability: finite(p.reward_availability_probability) ? Number(p.reward_availability_probability) : null,
    cue_delay_ms: delay, correct_key: d.correctKey, no_response: !resp, value_cue_flow: plan.rewardMain,
    ...reward, reward_total_points_before_trial: before, reward_total_points_after_trial: after2,
    ...geo.fields, ...choice.fields, ...learn(choice, p, ctx, r.correct),
  };
}
