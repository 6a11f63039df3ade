// visual-angle-calibration: match an on-screen card to a real card (px/cm), then give the
// viewing distance; px_per_deg = px_per_cm * 2 * d * tan(0.5 deg). Keyboard: arrows resize,
// Enter confirms; distance 1/2/3 (close/normal/far, with the study's labels, distances and
// pictures) or typed in manual mode. The result is kept for the rest of the run: every later
// row carries it (recording.js) and components that size in degrees convert with it.

import { childController } from '../input.js';
import { escapeHtml, mediaUrl, num } from './common.js';

const PRESETS = { id_card_long: 8.56, id_card_short: 5.398 };
const POSTURES = { close: 35, normal: 50, far: 65 };

function postures(p) {
  return Object.keys(POSTURES).map((k) => ({
    key: k, label: String(p[`${k}_label`] || k[0].toUpperCase() + k.slice(1)), cm: num(p[`${k}_distance_cm`], POSTURES[k]),
    image: p[`${k}_image_url`] ? mediaUrl(p[`${k}_image_url`]) : null,
  }));
}

export function visualAngle(pxPerCm, distanceCm) {
  const cmPerDeg = 2 * distanceCm * Math.tan((0.5 * Math.PI) / 180);
  return { px_per_cm: pxPerCm, viewing_distance_cm: distanceCm, cm_per_deg: cmPerDeg, px_per_deg: pxPerCm * cmPerDeg };
}

export async function run(el, p, ctx) {
  const preset = PRESETS[p.object_preset] ? p.object_preset : (p.object_preset === 'custom' ? 'custom' : 'id_card_long');
  const lengthCm = preset === 'custom' ? num(p.object_length_cm, 8.56) : PRESETS[preset];
  const manual = p.distance_mode === 'manual';
  const ac = childController(ctx.signal);
  let width = 320;
  const head = `${p.title ? `<h2>${escapeHtml(p.title)}</h2>` : ''}${p.instructions ? `<div>${p.instructions}</div>` : ''}`;
  const onset = await ctx.timer.show(() => {
    el.innerHTML = `<div class="cf-form" data-role="calibration" style="text-align:center">${head}
      <p>Hold a bank card (or ID card) against the screen and resize the rectangle until it matches the card's ${preset === 'id_card_short' ? 'short' : 'long'} side.</p>
      <div style="height:220px;display:flex;align-items:center;justify-content:center"><div data-role="card" style="height:${Math.round(width * 0.63)}px;width:${width}px;background:#5c6bc0;border-radius:10px"></div></div>
      <input type="range" data-role="size" min="100" max="900" value="${width}" style="width:80%">
      <p>Use the slider or the ← → keys. Press Enter when it matches.</p></div>`;
  });
  const card = el.querySelector('[data-role="card"]');
  const slider = el.querySelector('[data-role="size"]');
  const setWidth = (w) => { width = Math.min(900, Math.max(100, w)); card.style.width = `${width}px`; card.style.height = `${Math.round(width * 0.63)}px`; slider.value = String(width); };
  slider.addEventListener('input', () => setWidth(Number(slider.value)), { signal: ac.signal });
  await new Promise((resolve) => {
    document.addEventListener('keydown', (e) => {
      if (e.key === 'ArrowLeft' || e.key === 'ArrowRight') { e.preventDefault(); setWidth(width + (e.key === 'ArrowRight' ? 1 : -1) * (e.shiftKey ? 10 : 2)); }
      if (e.key === 'Enter') resolve();
    }, { signal: ac.signal });
  });
  const pxPerCm = width / lengthCm;
  const opts = postures(p);
  const manualDefault = num(p.manual_distance_cm, num(p.manual_distance_default_cm, 50));
  const img = (o) => (o.image ? `<img src="${escapeHtml(o.image)}" alt="" style="display:block;max-height:120px;margin:0 auto 6px">` : '');
  el.innerHTML = manual
    ? `<div class="cf-form" style="text-align:center"><p>How far are your eyes from the screen, in centimetres?</p><input type="number" data-role="distance" value="${manualDefault}" min="10" max="300"><p>Press Enter to continue.</p></div>`
    : `<div class="cf-form" style="text-align:center"><p>How do you sit?</p><div class="cf-buttons">${opts.map((o, i) => `<button class="cf-button" data-choice="${o.key}">${img(o)}${i + 1}: ${escapeHtml(o.label)} (about ${o.cm} cm)</button>`).join('')}</div><p>Press 1, 2 or 3, or click.</p></div>`;
  const byKey = Object.fromEntries(opts.map((o) => [o.key, o]));
  const choice = await new Promise((resolve) => {
    document.addEventListener('keydown', (e) => {
      if (manual && e.key === 'Enter') resolve({ distance: num(el.querySelector('[data-role="distance"]').value, manualDefault), choice: 'manual', timeStamp: e.timeStamp });
      const k = ['1', '2', '3'].indexOf(e.key);
      if (!manual && k >= 0) resolve({ distance: opts[k].cm, choice: opts[k].key, timeStamp: e.timeStamp });
    }, { signal: ac.signal });
    el.addEventListener('click', (e) => {
      const b = e.target.closest && e.target.closest('[data-choice]');
      if (b && byKey[b.dataset.choice]) resolve({ distance: byKey[b.dataset.choice].cm, choice: b.dataset.choice, timeStamp: e.timeStamp });
    }, { signal: ac.signal });
  });
  ac.abort();
  const va = visualAngle(pxPerCm, choice.distance);
  ctx.state.visualAngle = va;
  return {
    stimulus_onset_ms: onset, rt_ms: choice.timeStamp - onset, response: choice.choice, correct: null, ended_reason: 'response',
    ...va, object_preset: preset, object_length_cm: lengthCm, distance_mode: manual ? 'manual' : 'posture_choice',
    distance_choice: choice.choice, card_width_px: width, device_pixel_ratio: window.devicePixelRatio,
  };
}
