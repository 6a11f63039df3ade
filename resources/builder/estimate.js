// An estimate of how long a study takes a participant, from the timeline: blocks count their
// trials, loops their iterations, each trial its durations (the item's own value, else the
// block's, else the task's *_settings, else the schema default). A value drawn from a list or
// a range counts as its mean. What waits for the participant (a key press, a survey) is counted
// with a typical time, and the estimate says how many such screens it includes.

import { blockComponentType, getBlockParameter, isContainer } from './model.js';

const SELF_PACED_SCREEN_MS = 15000; // reading an instruction screen
const PER_QUESTION_MS = 8000;
const RESPONSE_MS = 700; // a typical response when a trial waits for one

const num = (v) => (typeof v === 'number' && Number.isFinite(v) ? v : typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v)) ? Number(v) : undefined);

function mean(value) {
  if (Array.isArray(value)) {
    const ns = value.map(num).filter((v) => v !== undefined);
    return ns.length ? ns.reduce((a, b) => a + b, 0) / ns.length : undefined;
  }
  if (value && typeof value === 'object' && 'min' in value) {
    const lo = num(value.min);
    const hi = num(value.max);
    return lo !== undefined && hi !== undefined ? (lo + hi) / 2 : lo ?? hi;
  }
  return num(value);
}

function settingsFor(schema, config, type) {
  for (const [key, p] of Object.entries(schema.properties ?? {})) {
    if (key.endsWith('_settings') && p.$ref === `#/$defs/${type}` && config[key] && typeof config[key] === 'object') return config[key];
  }
  return {};
}

// One trial's duration in ms: `get(name)` gives the value in force for a field.
function trialMs(type, get) {
  const first = (...names) => names.map((n) => mean(get(n))).find((v) => v !== undefined);
  if (/^rdm/.test(type)) {
    return (first('fixation_duration') ?? 0) + (first('stimulus_duration', 'response_deadline', 'trial_duration') ?? 1500)
      + (first('inter_trial_interval') ?? 0);
  }
  if (/^pvt/.test(type)) return (first('foreperiod_ms') ?? 5000) + RESPONSE_MS / 2 + (first('iti_ms') ?? 0);
  if (/^nback/.test(type)) {
    const soa = first('trial_duration_ms') ?? (first('stimulus_duration_ms') ?? 500) + (first('isi_duration_ms') ?? 700);
    return soa;
  }
  const window = first('trial_duration_ms', 'trial_duration', 'response_window_ms');
  const shown = (first('stimulus_duration_ms') ?? 0) + (first('mask_duration_ms') ?? 0);
  const cue = (first('cue_duration_ms') ?? 0) + (first('cue_gap_ms') ?? 0) + (first('fixation_ms') ?? 0);
  const body = window !== undefined && window > 0 ? Math.max(window, shown) : Math.max(shown, RESPONSE_MS);
  return cue + body + (first('iti_ms', 'post_trial_gap') ?? 0);
}

/** {ms, selfPaced} for the whole timeline of `config`. */
export function estimateDuration(config, schema) {
  const defs = schema.$defs ?? {};
  let selfPaced = 0;
  const defaultOf = (type, name) => defs[type]?.properties?.[name]?.default;
  const itemMs = (item) => {
    if (!item || typeof item !== 'object') return 0;
    const type = item.type;
    if (isContainer(item)) {
      const inner = item.items.reduce((a, c) => a + itemMs(c), 0);
      return type === 'loop' ? inner * Math.max(1, Math.floor(num(item.iterations ?? item.loop_iterations) ?? 1)) : inner;
    }
    if (type === 'block') {
      const ctype = blockComponentType(item);
      const length = Math.max(0, Math.floor(num(item.length ?? item.block_length) ?? 0));
      if (item.block_sizing_mode === 'by_duration' && num(item.block_duration_seconds)) return num(item.block_duration_seconds) * 1000;
      const settings = settingsFor(schema, config, ctype);
      const get = (name) => {
        const p = getBlockParameter(item, name);
        if (p.mode !== 'inherit') return p.value;
        return settings[name] ?? defaultOf(ctype, name);
      };
      return length * trialMs(ctype, get);
    }
    if (/survey|probe/.test(type)) {
      selfPaced += 1;
      return Math.max(1, Array.isArray(item.questions) ? item.questions.length : 1) * PER_QUESTION_MS;
    }
    if (/^detection-response|calibration|reward-settings/.test(type)) {
      if (/calibration/.test(type)) { selfPaced += 1; return 30000; }
      return 0;
    }
    const settings = settingsFor(schema, config, type);
    const get = (name) => item[name] ?? settings[name] ?? defaultOf(type, name);
    if (/^nback/.test(type)) return Math.max(1, num(get('length')) ?? 1) * trialMs(type, get);
    if (/keyboard-response|button-response|^instructions$/.test(type)) {
      const limit = num(item.trial_duration);
      if (limit && limit > 0) return limit;
      selfPaced += 1;
      return SELF_PACED_SCREEN_MS;
    }
    return trialMs(type, get);
  };
  const ms = (config.timeline ?? []).reduce((a, item) => a + itemMs(item), 0);
  return { ms, selfPaced };
}

/** "about 7 min", "about 40 s". */
export function formatDuration(ms) {
  if (ms < 60000) return `about ${Math.max(1, Math.round(ms / 1000))} s`;
  const min = ms / 60000;
  if (min < 90) return `about ${Math.round(min)} min`;
  return `about ${Math.floor(min / 60)} h ${Math.round(min % 60)} min`;
}
