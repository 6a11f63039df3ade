// Gabor geometry and luminance, pure (node-testable): visual angle -> CSS px -> device px,
// spatial frequency units, and the pixel values of a patch.
//
// Luminance mapping (default `luminance_mapping: "srgb"`): a pixel's relative luminance is
//   L = L0 * (1 + contrast * E(r) * W(phase)),  E = exp(-r^2 / (2 sigma^2)), sigma = diameter / 6,
// W the waveform in [-1, 1], L0 the luminance of the mean grey (code value `mean_gray`, 128 by
// default, the reference Interpreter's mean), encoded to 8 bits with the sRGB transfer function
// (the canvas colour space). On a display calibrated to sRGB the Michelson contrast of the
// shown luminance is therefore `contrast` at the patch centre. `"gamma"` encodes with a pure
// power law L^(1/display_gamma) instead (a measured display); `"linear"` writes code values
// m * (1 + c E W) as the reference Interpreter did (contrast exact in code values only).

export const DEFAULT_VIEWING_DISTANCE_CM = 57;
// CSS reference pixel: 96 per inch.
export const CSS_PX_PER_CM = 96 / 2.54;
export const DEFAULT_PX_PER_DEG = CSS_PX_PER_CM * 2 * DEFAULT_VIEWING_DISTANCE_CM * Math.tan((0.5 * Math.PI) / 180);
export const DEFAULT_PATCH_DIAMETER_DEG = 6;

const finite = (v) => v !== null && v !== undefined && v !== '' && Number.isFinite(Number(v));
const pos = (v) => finite(v) && Number(v) > 0;

// px per degree: the trial's own `px_per_deg`, else the run's visual-angle calibration, else
// the documented default (a 96 dpi CSS pixel seen from 57 cm).
export function pxPerDeg(p, visualAngle) {
  if (pos(p.px_per_deg)) return { px_per_deg: Number(p.px_per_deg), source: 'config' };
  if (visualAngle && pos(visualAngle.px_per_deg)) return { px_per_deg: Number(visualAngle.px_per_deg), source: 'calibration' };
  return { px_per_deg: DEFAULT_PX_PER_DEG, source: 'default' };
}

// Patch diameter in CSS px: degrees (via px/deg) first, then px, then the Builder's 6 deg.
export function patchDiameter(p, ppd) {
  if (pos(p.patch_diameter_deg)) return { css: Number(p.patch_diameter_deg) * ppd, deg: Number(p.patch_diameter_deg), source: 'deg' };
  if (pos(p.patch_diameter_px)) return { css: Number(p.patch_diameter_px), deg: Number(p.patch_diameter_px) / ppd, source: 'px' };
  return { css: DEFAULT_PATCH_DIAMETER_DEG * ppd, deg: DEFAULT_PATCH_DIAMETER_DEG, source: 'default' };
}

// Spatial frequency in cycles per CSS px. Values above 0.5 given as plain cycles per px are read
// as cycles per patch (the reference Interpreter's rule for legacy configs).
export function cyclesPerPx(p, ppd, diameterCss) {
  if (pos(p.spatial_frequency_cyc_per_px)) {
    const f = Number(p.spatial_frequency_cyc_per_px);
    return f > 0.5 ? { f: f / diameterCss, unit: 'cyc_per_patch' } : { f, unit: 'cyc_per_px' };
  }
  if (pos(p.spatial_frequency_cyc_per_deg)) return { f: Number(p.spatial_frequency_cyc_per_deg) / ppd, unit: 'cyc_per_deg' };
  if (pos(p.spatial_frequency_cyc_per_patch)) return { f: Number(p.spatial_frequency_cyc_per_patch) / diameterCss, unit: 'cyc_per_patch' };
  const raw = p.spatial_frequency ?? p.gabor_spatial_frequency;
  if (pos(raw)) {
    const u = String(p.spatial_frequency_unit ?? '').toLowerCase();
    if (u === 'cyc_per_deg' || u === 'cpd' || u === 'cycles_per_degree') return { f: Number(raw) / ppd, unit: 'cyc_per_deg' };
    if (u === 'cyc_per_patch' || u === 'cpp' || u === 'cycles_per_patch' || Number(raw) > 0.5) return { f: Number(raw) / diameterCss, unit: 'cyc_per_patch' };
    return { f: Number(raw), unit: 'cyc_per_px' };
  }
  return { f: 0.06, unit: 'default' };
}

export function waveform(phase, kind) {
  const w = String(kind ?? 'sinusoidal').toLowerCase();
  if (w === 'square') return Math.sin(phase) >= 0 ? 1 : -1;
  if (w === 'triangle') return (2 / Math.PI) * Math.asin(Math.sin(phase));
  return Math.cos(phase);
}

const srgbEncode = (l) => (l <= 0.0031308 ? 12.92 * l : 1.055 * l ** (1 / 2.4) - 0.055);
const srgbDecode = (v) => (v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);

// (modulation in [-1, 1]) -> 8-bit code value, for the chosen luminance mapping. `bounds[k]` is
// the modulation where the code goes from k to k + 1 (the inverse mapping at k + 0.5), so a
// patch looks its codes up instead of evaluating the transfer curve per pixel.
export function luminanceMapping(p) {
  const mean = finite(p.mean_gray) ? Math.min(254, Math.max(1, Number(p.mean_gray))) : 128;
  const kind = ['gamma', 'linear'].includes(p.luminance_mapping) ? p.luminance_mapping : 'srgb';
  const clampCode = (v) => Math.max(0, Math.min(255, Math.round(v)));
  const unit = (l) => Math.max(0, Math.min(1, l));
  let m;
  if (kind === 'linear') {
    m = { kind, mean, code: (x) => clampCode(mean * (1 + x)), modulationAt: (c) => c / mean - 1 };
  } else if (kind === 'gamma') {
    const g = pos(p.display_gamma) ? Number(p.display_gamma) : 2.2;
    const l0 = (mean / 255) ** g;
    m = {
      kind, mean, gamma: g, code: (x) => clampCode(255 * unit(l0 * (1 + x)) ** (1 / g)),
      decode: (c) => (c / 255) ** g, modulationAt: (c) => (c / 255) ** g / l0 - 1,
    };
  } else {
    const l0 = srgbDecode(mean / 255);
    m = {
      kind, mean, code: (x) => clampCode(255 * srgbEncode(unit(l0 * (1 + x)))),
      decode: (c) => srgbDecode(c / 255), modulationAt: (c) => srgbDecode(c / 255) / l0 - 1,
    };
  }
  m.bounds = Float64Array.from({ length: 255 }, (_, k) => m.modulationAt(k + 0.5));
  // A coarse table gives a code at most a step or two away; the bounds make it exact.
  const N = 4096;
  const lo = -1.5;
  const step = 3 / N;
  const start = new Uint8Array(N + 1);
  for (let i = 0, c = 0; i <= N; i++) {
    while (c < 255 && m.bounds[c] <= lo + i * step) c += 1;
    start[i] = c;
  }
  m.lookup = (x) => {
    const i = Math.floor((x - lo) / step);
    let c = i < 0 ? 0 : i > N ? 255 : start[i];
    while (c < 255 && m.bounds[c] <= x) c += 1;
    while (c > 0 && m.bounds[c - 1] > x) c -= 1;
    return c;
  };
  return m;
}

// RGBA pixels of one patch, `size` device px square: grey levels inside the circle, transparent
// outside. `freq` is in cycles per device px, `orientationDeg` 0 = vertical stripes, positive =
// clockwise (the top leans right).
export function patchPixels(size, { freq, orientationDeg, contrast, wave, phaseDeg = 0, mapping }) {
  const data = new Uint8ClampedArray(size * size * 4);
  const r = size / 2;
  const sigma = size / 6;
  const th = (orientationDeg * Math.PI) / 180;
  const w = 2 * Math.PI * Math.min(0.5, Math.max(0, freq));
  const ph = (phaseDeg * Math.PI) / 180;
  const sine = !['square', 'triangle'].includes(String(wave ?? '').toLowerCase());
  // Separable: envelope exp(-x^2)exp(-y^2); carrier phase a(x) + b(y), and for the sinusoid
  // cos(a + b) = cos a cos b - sin a sin b, so the per-pixel work is a few multiplications.
  const d = Float64Array.from({ length: size }, (_, i) => i + 0.5 - r);
  const env = d.map((v) => Math.exp(-(v * v) / (2 * sigma * sigma)));
  const ax = d.map((v) => w * v * Math.cos(th) + ph);
  const by = d.map((v) => w * v * Math.sin(th));
  const [cax, sax, cby, sby] = [ax.map(Math.cos), ax.map(Math.sin), by.map(Math.cos), by.map(Math.sin)];
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      if (d[x] * d[x] + d[y] * d[y] > r * r) continue; // alpha 0: the background shows through
      const carrier = sine ? cax[x] * cby[y] - sax[x] * sby[y] : waveform(ax[x] + by[y], wave);
      const v = mapping.lookup(contrast * env[x] * env[y] * carrier);
      const i = (y * size + x) * 4;
      data[i] = v; data[i + 1] = v; data[i + 2] = v; data[i + 3] = 255;
    }
  }
  return data;
}

// A noise mask: uniform grey levels in blocks of `grain` device px (one CSS px), seeded.
export function maskPixels(size, grain, rng) {
  const data = new Uint8ClampedArray(size * size * 4);
  const r = size / 2;
  const cells = Math.ceil(size / grain);
  const noise = Array.from({ length: cells * cells }, () => Math.floor(rng() * 256));
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const dx = x + 0.5 - r;
      const dy = y + 0.5 - r;
      if (dx * dx + dy * dy > r * r) continue;
      const v = noise[Math.floor(y / grain) * cells + Math.floor(x / grain)];
      const i = (y * size + x) * 4;
      data[i] = v; data[i + 1] = v; data[i + 2] = v; data[i + 3] = 255;
    }
  }
  return data;
}
