// Multiple object tracking: settings, arena geometry, placement and motion. Pure (no DOM), so
// node tests can drive it with any frame clock.
//
// Speeds are px per second and every step uses the real elapsed time, split into substeps of at
// most SUBSTEP_MS, so the distance travelled does not depend on the refresh rate. Walls reflect
// the overshoot (no distance is lost at a bounce); objects pass over each other, as in the
// reference CogFlow plugin (min_separation_px applies to the initial placement only).
// Direction noise (curved motion, direction jitter) is a random walk whose per-step turn is
// scaled by sqrt(dt / 16.67 ms): at 60 Hz it equals the reference's per-frame turn, and its
// spread per second is the same at every refresh rate.

import { num } from './common.js';

const SUBSTEP_MS = 4;
const FRAME_60_MS = 1000 / 60;
const MAX_TURN_RAD_PER_S = 3.0; // reference: turning speed of curved motion at curve_strength 1
const TAU = Math.PI * 2;

const clamp = (x, lo, hi) => Math.min(hi, Math.max(lo, x));
const flag = (v, d) => (v === undefined || v === null ? d : v === true || v === 'true');

// Component parameters -> numbers and enums the task uses (reference defaults).
export function motSettings(p) {
  const numObjects = Math.round(clamp(num(p.num_objects, 8), 1, 100));
  const dot = num(p.dot_size_px, null);
  return {
    num_objects: numObjects,
    num_targets: Math.round(clamp(num(p.num_targets, 4), 1, numObjects)),
    radius: dot !== null && dot > 0 ? dot / 2 : Math.max(1, num(p.object_radius_px, 22)),
    object_color: p.object_color || '#FFFFFF',
    target_cue_color: p.target_cue_color || '#FF9900',
    background_color: p.background_color || '#111111',
    width: Math.max(20, num(p.arena_width_px, 700)),
    height: Math.max(20, num(p.arena_height_px, 500)),
    circle: String(p.aperture_shape || 'rectangle').toLowerCase() === 'circle',
    border_enabled: flag(p.aperture_border_enabled, true),
    border_color: p.aperture_border_color || '#444444',
    border_width: Math.max(0, num(p.aperture_border_width_px, 2)),
    wrap: p.boundary_behavior === 'wrap',
    min_separation: Math.max(0, num(p.min_separation_px, 50)),
    speed: Math.max(0, num(p.speed_px_per_s, 150)),
    speed_variability: clamp(num(p.speed_variability, 0), 0, 1),
    curved: p.motion_type === 'curved',
    curve_strength: Math.max(0, num(p.curve_strength, 0.3)),
    jitter_deg: Math.max(0, num(p.direction_jitter_deg_per_frame, 0)),
    cue_ms: Math.max(0, num(p.cue_duration_ms, 2000)),
    flash_hz: Math.max(0, num(p.cue_flash_rate_hz, 3)),
    tracking_ms: Math.max(0, num(p.tracking_duration_ms, 8000)),
    iti_ms: Math.max(0, num(p.iti_ms, 1000)),
    probe_mode: ['number_entry', 'yes_no_recognition'].includes(p.probe_mode) ? p.probe_mode : 'click',
    yes_key: p.yes_key || 'y',
    no_key: p.no_key || 'n',
    probe_count: Math.round(clamp(num(p.recognition_probe_count, 1), 1, 20)),
    probe_timeout_ms: Math.max(0, num(p.probe_timeout_ms, 0)),
    show_feedback: flag(p.show_feedback, false),
    count_message: flag(p.feedback_show_count_message, true),
    feedback_ms: Math.max(0, num(p.feedback_duration_ms, 1500)),
    fixation: flag(p.fixation_cross_enabled, false),
    fixation_min_ms: Math.max(0, num(p.fixation_cross_min_onset_ms, 0)),
    fixation_max_ms: Math.max(0, num(p.fixation_cross_max_onset_ms, 0)),
    fixation_ms: Math.max(1, num(p.fixation_cross_duration_ms, 300)),
    fixation_symbol: String(p.fixation_cross_symbol ?? '+'),
    fixation_color: p.fixation_cross_color || '#FFFFFF',
    fixation_size: Math.max(8, num(p.fixation_cross_size_px, 32)),
    record_positions: flag(p.record_object_positions, true),
  };
}

// Where object centres may go. A circular aperture is inscribed in the arena.
export function arenaGeometry(s) {
  const border = s.border_enabled && s.border_width > 0 ? s.border_width : 0;
  const cx = s.width / 2;
  const cy = s.height / 2;
  const borderRadius = Math.max(0, Math.min(s.width, s.height) / 2 - border / 2);
  const clipRadius = Math.max(s.radius, borderRadius);
  return { cx, cy, borderRadius, clipRadius, maxCentre: Math.max(0, clipRadius - s.radius), border };
}

function randomPoint(s, g, rng) {
  if (!s.circle) return { x: rng.uniform(s.radius, s.width - s.radius), y: rng.uniform(s.radius, s.height - s.radius) };
  const theta = rng() * TAU;
  const d = Math.sqrt(rng()) * g.maxCentre;
  return { x: g.cx + Math.cos(theta) * d, y: g.cy + Math.sin(theta) * d };
}

// Random start positions at least max(min_separation, 2r + 4) apart (1000 tries per object, then
// anywhere), each with a random direction and its speed (speed_variability = +-fraction).
export function placeObjects(s, g, rng) {
  const minDist = Math.max(s.min_separation, 2 * s.radius + 4);
  const objects = [];
  for (let i = 0; i < s.num_objects; i++) {
    let pt = null;
    for (let attempt = 0; attempt < 1000 && !pt; attempt++) {
      const c = randomPoint(s, g, rng);
      if (objects.every((o) => Math.hypot(o.x - c.x, o.y - c.y) >= minDist)) pt = c;
    }
    pt ??= randomPoint(s, g, rng);
    const dir = rng() * TAU;
    const speed = s.speed * (1 + s.speed_variability * (rng() * 2 - 1));
    objects.push({ x: pt.x, y: pt.y, vx: Math.cos(dir) * speed, vy: Math.sin(dir) * speed, speed, direction: dir });
  }
  return objects;
}

export function pickTargets(numObjects, numTargets, rng) {
  const all = Array.from({ length: numObjects }, (_, i) => i);
  return rng.shuffle(all).slice(0, numTargets).sort((a, b) => a - b);
}

function turn(o, rad) {
  const c = Math.cos(rad);
  const sn = Math.sin(rad);
  const vx = o.vx * c - o.vy * sn;
  o.vy = o.vx * sn + o.vy * c;
  o.vx = vx;
}

function rectBounds(o, s) {
  const r = s.radius;
  if (s.wrap) {
    const w = s.width + 2 * r;
    const h = s.height + 2 * r;
    if (o.x < -r) o.x += w; else if (o.x > s.width + r) o.x -= w;
    if (o.y < -r) o.y += h; else if (o.y > s.height + r) o.y -= h;
    return;
  }
  if (o.x < r) { o.x = 2 * r - o.x; o.vx = Math.abs(o.vx); }
  if (o.x > s.width - r) { o.x = 2 * (s.width - r) - o.x; o.vx = -Math.abs(o.vx); }
  if (o.y < r) { o.y = 2 * r - o.y; o.vy = Math.abs(o.vy); }
  if (o.y > s.height - r) { o.y = 2 * (s.height - r) - o.y; o.vy = -Math.abs(o.vy); }
}

function circleBounds(o, g, wrap) {
  const dx = o.x - g.cx;
  const dy = o.y - g.cy;
  const d = Math.hypot(dx, dy);
  if (d <= g.maxCentre || d === 0) return;
  const nx = dx / d;
  const ny = dy / d;
  if (wrap) { // re-enter at the opposite side (reference behaviour)
    o.x = g.cx - nx * g.maxCentre;
    o.y = g.cy - ny * g.maxCentre;
    return;
  }
  const back = Math.max(0, g.maxCentre - (d - g.maxCentre)); // mirror the overshoot inwards
  o.x = g.cx + nx * back;
  o.y = g.cy + ny * back;
  const vn = o.vx * nx + o.vy * ny;
  if (vn > 0) { o.vx -= 2 * vn * nx; o.vy -= 2 * vn * ny; }
}

// Advance every object by dtMs of real time.
export function stepObjects(objects, s, g, dtMs, rng) {
  if (!(dtMs > 0)) return;
  const n = Math.ceil(dtMs / SUBSTEP_MS);
  const h = dtMs / n;
  const noise = Math.sqrt(h / FRAME_60_MS);
  const turnAmp = s.jitter_deg > 0 ? (s.jitter_deg * Math.PI) / 180 : (s.curved ? (MAX_TURN_RAD_PER_S * s.curve_strength) / 60 : 0);
  for (let k = 0; k < n; k++) {
    for (const o of objects) {
      if (turnAmp > 0) turn(o, (rng() * 2 - 1) * turnAmp * noise);
      o.x += (o.vx * h) / 1000;
      o.y += (o.vy * h) / 1000;
      if (s.circle) circleBounds(o, g, s.wrap); else rectBounds(o, s);
    }
  }
}

// The object under a point (arena px): the nearest whose disc contains it, else -1.
export function objectAt(objects, x, y, radius) {
  let best = -1;
  let bestD = Infinity;
  objects.forEach((o, i) => {
    const d = Math.hypot(o.x - x, o.y - y);
    if (d <= radius && d < bestD) { best = i; bestD = d; }
  });
  return best;
}

export function scoreSelection(selected, targets) {
  const t = new Set(targets);
  const hits = selected.filter((i) => t.has(i)).length;
  return { num_correct: hits, num_false_alarms: selected.length - hits, num_missed: targets.length - hits };
}

// Targets alternate with the cue colour at cue_flash_rate_hz (on for the first half period).
export function cueFlashOn(elapsedMs, rateHz) {
  if (!(rateHz > 0)) return true;
  return Math.floor(elapsedMs / (500 / rateHz)) % 2 === 0;
}

// The fixation-cross catch event: onset drawn uniformly in [min, max] ms after the cue onset.
export function fixationSchedule(s, rng) {
  if (!s.fixation) return null;
  const lo = Math.min(s.fixation_min_ms, s.fixation_max_ms);
  const hi = Math.max(s.fixation_min_ms, s.fixation_max_ms);
  return { onset_ms: Math.round(rng.uniform(lo, hi)), duration_ms: Math.round(s.fixation_ms) };
}

// Numbers typed in number-entry mode ("2, 5 7") -> unique 0-based indices.
export function parseObjectNumbers(text, numObjects) {
  const out = [];
  for (const part of String(text).split(/[\s,;]+/)) {
    const n = Number.parseInt(part, 10);
    if (Number.isFinite(n) && n >= 1 && n <= numObjects && !out.includes(n - 1)) out.push(n - 1);
  }
  return out;
}
