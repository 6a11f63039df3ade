// Block parameter sampling: value lists, integer ranges, {min,max} windows (object or array form).

const ROUNDED = /_(ms|px|count|trials|repetitions)$/;
const INT_RANGE = /^\s*(-?\d+)\s*-\s*(-?\d+)\s*$/;

export function shouldRound(name) {
  return ROUNDED.test(name) && !/cyc_per_px$/.test(name);
}

// '1-4' -> [1,2,3,4]; anything else -> null.
export function parseIntRange(value) {
  if (typeof value !== 'string') return null;
  const m = INT_RANGE.exec(value);
  if (!m) return null;
  const lo = Number(m[1]);
  const hi = Number(m[2]);
  if (hi < lo || hi - lo > 100000) return null;
  return { lo, hi };
}

// Windows arrive as {name:{min,max}} or [{parameter,min,max}]; return [[name,{min,max}]].
export function windowEntries(windows) {
  if (!windows) return [];
  if (Array.isArray(windows)) {
    return windows.filter((w) => w && w.parameter).map((w) => [w.parameter, { min: w.min, max: w.max }]);
  }
  if (typeof windows === 'object') {
    return Object.entries(windows).filter(([, w]) => w && typeof w === 'object');
  }
  return [];
}

export function sampleWindow(name, w, rng) {
  let lo = Number(w.min);
  let hi = Number(w.max);
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return undefined;
  if (hi < lo) [lo, hi] = [hi, lo];
  if (shouldRound(name)) return rng.int(Math.ceil(lo), Math.floor(hi));
  return rng.uniform(lo, hi);
}

export function sampleValue(value, rng) {
  if (Array.isArray(value)) return value.length ? rng.pick(value) : undefined;
  const range = parseIntRange(value);
  if (range) return rng.int(range.lo, range.hi);
  return value;
}

// One set of sampled parameters for a block trial.
export function sampleBlockParams(block, rng) {
  const out = {};
  for (const [k, v] of Object.entries(block.parameter_values || {})) {
    const s = sampleValue(v, rng);
    if (s !== undefined) out[k] = s;
  }
  for (const [k, w] of windowEntries(block.parameter_windows)) {
    const s = sampleWindow(k, w, rng);
    if (s !== undefined) out[k] = s;
  }
  return out;
}

// Drop 'inherit' / null so the default underneath shows through.
export function withoutInherit(obj) {
  const out = {};
  for (const [k, v] of Object.entries(obj || {})) {
    if (v === 'inherit' || v === null || v === undefined) continue;
    out[k] = v;
  }
  return out;
}
