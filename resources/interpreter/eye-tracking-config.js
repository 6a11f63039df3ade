// Eye tracking (WebGazer): what the config asks for, where the calibration dots go, and the
// sampler that keeps one gaze sample per configured interval. Pure (no DOM), node-tested.

const isObj = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
const on = (v) => v === true || v === 'true' || (isObj(v) && (v.enabled === undefined || v.enabled === true || v.enabled === 'true'));

// data_collection["eye-tracking"] / eye_tracking (bool or {enabled, ...}), as the reference reads it.
export function eyeTrackingSettings(config) {
  const dc = isObj(config?.data_collection) ? config.data_collection : {};
  const raw = [dc['eye-tracking'], dc.eye_tracking, dc.eyeTracking, config?.eye_tracking];
  const enabled = raw.some(on);
  const s = raw.find(isObj) ?? {};
  let interval = 33;
  if (Number(s.sample_interval_ms) > 0) interval = Math.max(5, Number(s.sample_interval_ms));
  else if (Number(s.sample_rate) > 0) interval = Math.max(5, Math.round(1000 / Number(s.sample_rate)));
  const points = Number.isFinite(Number(s.calibration_points)) && s.calibration_points !== null && s.calibration_points !== ''
    ? Math.max(0, Math.min(25, Math.floor(Number(s.calibration_points)))) : 9;
  return {
    enabled,
    sample_interval_ms: interval,
    show_video: s.show_video === true,
    calibration_enabled: s.calibration_enabled !== false,
    calibration_points: points,
    calibration_key: typeof s.calibration_key === 'string' && s.calibration_key.trim() ? s.calibration_key : 'space',
  };
}

// Dot positions as fractions of the window: 1, 5, 9 as the reference places them, else a grid.
export function calibrationPoints(n) {
  const m = 0.12;
  if (n <= 0) return [];
  if (n === 1) return [{ x: 0.5, y: 0.5 }];
  if (n === 5) return [{ x: m, y: m }, { x: 1 - m, y: m }, { x: 0.5, y: 0.5 }, { x: m, y: 1 - m }, { x: 1 - m, y: 1 - m }];
  const g = Math.ceil(Math.sqrt(n));
  const pts = [];
  for (let r = 0; r < g; r++) for (let c = 0; c < g; c++) pts.push({ x: m + ((1 - 2 * m) * c) / Math.max(1, g - 1), y: m + ((1 - 2 * m) * r) / Math.max(1, g - 1) });
  return pts.slice(0, n);
}

// One sample per interval, on a fixed grid from the first sample: a sample whose estimate is
// older than one interval (no face, camera stalled) is kept with valid=false and no position,
// so tracking loss shows in the data instead of as a gap.
export class GazeSampler {
  constructor(intervalMs) {
    this.interval = intervalMs;
    this.next = null;
    this.samples = [];
    this.count = 0;
    this.valid = 0;
  }

  // Call on every frame with the run time now and the latest estimate {x, y, t_ms} (or null).
  tick(tMs, latest, width, height) {
    if (this.next === null) this.next = tMs;
    if (tMs < this.next) return false;
    while (this.next <= tMs) this.next += this.interval; // never a burst after a stall
    const fresh = latest && tMs - latest.t_ms <= this.interval && Number.isFinite(latest.x) && Number.isFinite(latest.y);
    const s = { sample_index: this.count, t_ms: Math.round(tMs * 1000) / 1000, x: null, y: null, valid: Boolean(fresh), estimate_t_ms: latest ? Math.round(latest.t_ms * 1000) / 1000 : null };
    if (fresh) {
      s.x = Math.round(Math.min(Math.max(0, latest.x), width) * 10) / 10;
      s.y = Math.round(Math.min(Math.max(0, latest.y), height) * 10) / 10;
      this.valid += 1;
    }
    this.count += 1;
    this.samples.push(s);
    return true;
  }

  take() {
    const out = this.samples;
    this.samples = [];
    return out;
  }
}
