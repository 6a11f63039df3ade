// Block parameter sampling: value lists, integer ranges, numeric comma lists, {min,max} windows
// (object or array form). Fields whose value is itself a list (a Stroop palette, choice keys,
// word lists: see component-specs.js `lists`) are whole values; only a list of such lists is a
// per-trial choice.

const ROUNDED = /_(ms|px|count|trials|repetitions)$/;
const INT_RANGE = /^\s*(-?\d+)\s*-\s*(-?\d+)\s*$/;
const NUMBER_LIST = /^\s*-?\d+(?:\.\d+)?(?:\s*,\s*-?\d+(?:\.\d+)?)+\s*$/;

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

// '0,90,180' -> [0, 90, 180]; text with commas (a message, HTML) is not a list -> null.
export function parseNumberList(value) {
  if (typeof value !== 'string' || !NUMBER_LIST.test(value)) return null;
  return value.split(',').map((s) => Number(s.trim()));
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

// The options a block value offers per trial, or null when it is one fixed value.
export function optionsOf(value, isList = false) {
  if (Array.isArray(value)) {
    if (!isList) return value;
    return value.length && value.every((v) => Array.isArray(v)) ? value : null; // a list of palettes
  }
  if (isList) return null;
  const range = parseIntRange(value);
  if (range) return { range };
  return parseNumberList(value);
}

export function sampleValue(value, rng, isList = false) {
  const opts = optionsOf(value, isList);
  if (opts === null) return { value, sampled: false };
  if (opts.range) return { value: rng.int(opts.range.lo, opts.range.hi), sampled: true };
  return { value: opts.length ? rng.pick(opts) : undefined, sampled: true };
}

// One set of parameters for a block trial: {params, sampled: [names drawn for this trial]}.
export function sampleBlockParams(values, windows, rng, lists = new Set()) {
  const params = {};
  const sampled = [];
  for (const [k, v] of Object.entries(values || {})) {
    const s = sampleValue(v, rng, lists.has(k));
    if (s.value === undefined) continue;
    params[k] = s.value;
    if (s.sampled) sampled.push(k);
  }
  for (const [k, w] of windowEntries(windows)) {
    const s = sampleWindow(k, w, rng);
    if (s === undefined) continue;
    params[k] = s;
    sampled.push(k);
  }
  return { params, sampled };
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
