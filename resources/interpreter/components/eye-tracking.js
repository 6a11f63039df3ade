// Eye-tracking steps the compiler puts around a study whose data_collection turns eye tracking
// on: eye-tracking-start (camera + WebGazer, started on the participant's key press),
// eye-tracking-calibration (one row per dot), and eye-tracking-stop (the last samples). Gaze
// samples are recorded in between by the run's EyeTracker (../eye-tracking.js).

import { EyeTracker } from '../eye-tracking.js';
import { eyeTrackingSettings } from '../eye-tracking-config.js';
import { waitForKey, waitForPointer, childController } from '../input.js';
import { normalizeKey } from '../keys.js';
import { escapeHtml } from '../ui.js';

export async function runStart(el, p, ctx) {
  const settings = eyeTrackingSettings(ctx.config);
  const onset = await ctx.timer.show(() => {
    el.innerHTML = `<div class="cf-message"><h1>Eye tracking</h1><p>This study estimates where you look using the camera. The video stays on this computer; only gaze positions are stored with your responses.</p><p>Press any key to turn the camera on.</p></div>`;
  });
  const key = await waitForKey('ALL_KEYS', ctx.signal);
  el.innerHTML = '<div class="cf-message"><h1>Starting the camera…</h1></div>';
  const tracker = new EyeTracker(ctx.run, settings);
  try {
    const info = await tracker.start();
    ctx.run.eyeTracker = tracker;
    return { stimulus_onset_ms: onset, rt_ms: key.timeStamp - onset, response: key.key, ended_reason: 'response', eye_tracking_provider: 'webgazer', eye_tracking_started: true, camera_label: info.camera, gaze_sample_interval_ms: settings.sample_interval_ms };
  } catch (err) {
    // No silent run without gaze: the run stops here, with the reason on the record.
    const reason = String(err && err.message ? err.message : err);
    setTimeout(() => ctx.run.abort(`eye_tracking_unavailable: ${reason}`), 0);
    return { stimulus_onset_ms: onset, rt_ms: key.timeStamp - onset, response: key.key, ended_reason: 'error', eye_tracking_provider: 'webgazer', eye_tracking_started: false, error: reason };
  }
}

export async function runCalibration(el, p, ctx) {
  const x = Math.round(p.x_norm * window.innerWidth);
  const y = Math.round(p.y_norm * window.innerHeight);
  const key = normalizeKey(p.calibration_key || 'space');
  let dot;
  const onset = await ctx.timer.show(() => {
    el.innerHTML = `<div class="cf-stage"><div data-role="calibration-dot" style="position:fixed;left:${x - 12}px;top:${y - 12}px;width:24px;height:24px;border-radius:50%;background:#ff5252;box-shadow:0 0 0 4px rgba(255,255,255,0.6);cursor:pointer"></div><div class="cf-keys-hint">Point ${p.index + 1} of ${p.count}: look at the red dot and press ${escapeHtml(key.toUpperCase())} (or click it).</div></div>`;
    dot = el.querySelector('[data-role="calibration-dot"]');
  });
  const ac = childController(ctx.signal);
  const r = await Promise.race([waitForKey([key], ac.signal), waitForPointer(dot, () => 'click', ac.signal)]);
  ac.abort();
  const tracker = ctx.run.eyeTracker;
  const recorded = tracker ? tracker.recordCalibration(x, y) : false;
  return {
    stimulus_onset_ms: onset, rt_ms: r.timeStamp - onset, response: r.kind === 'key' ? r.key : 'click', ended_reason: 'response',
    calibration_index: p.index, calibration_points: p.count, x_px: x, y_px: y, x_norm: p.x_norm, y_norm: p.y_norm, calibration_recorded: recorded,
  };
}

export async function runStop(el, p, ctx) {
  const tracker = ctx.run.eyeTracker;
  const info = tracker ? tracker.stop() : null;
  return { ended_reason: 'duration', eye_tracking_provider: 'webgazer', eye_tracking_was_running: info !== null, ...(info || {}) };
}
