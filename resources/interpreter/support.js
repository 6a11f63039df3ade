// Which parts of a config this Interpreter does not honour, each as one sentence that names the
// part and where it is. An empty list means the config runs as authored; anything else is
// refused before the participant starts (main.js) and flagged by the Builder's Validate/Publish.
// Pure ES module: no DOM, no fetch; the Builder imports it as ../interpreter/support.js.
//
// What is supported is declared in two places only: the component registry (catalogue.js
// KNOWN_COMPONENTS / SETTINGS_KEY) with each component's fields (component-specs.js), and the
// tables below for top-level settings and block structure. A new component needs one
// registration there, nothing here.

import { KNOWN_COMPONENTS, RDM_TYPES, SETTINGS_KEY } from './catalogue.js';
import { BLOCK_KEYS, FIELD_PREFIX, commonFields, isNeutral, listFields, specFor } from './component-specs.js';
import { RDM_GROUP_KEYS, resolveRdmParams } from './rdm-params.js';
import { windowEntries } from './sampling.js';

// Names for items the sentence should explain (unsupported ones, and families refused in some form).
const FAMILY_NAMES = {
  'gabor-trial': 'Gabor patches', 'gabor-quest': 'Gabor patches with QUEST', 'gabor-learning': 'Gabor learning blocks',
  'soc-dashboard': 'the SOC dashboard', 'reward-settings': 'rewards',
  'eye-tracking': 'eye tracking', 'eye_tracking': 'eye tracking',
  'eye-tracking-calibration-instructions': 'eye tracking', preload: 'preloading',
};

const STRUCTURE_KEYS = {
  loop: new Set(['type', 'items', 'iterations', 'loop_iterations', 'loop_id', 'label', 'name', 'id']),
  'randomize-group': new Set(['type', 'items', 'seed', 'random_group_id', 'randomizable_across_markers', 'label', 'name', 'id']),
};
STRUCTURE_KEYS['randomize-across-markers'] = STRUCTURE_KEYS['randomize-group'];
// Mouse tracking: a run-level setting item (mouse-tracking.js), no trial of its own.
const MOUSE_KEYS = ['enabled', 'track_movement', 'track_clicks', 'sampling_rate'];
STRUCTURE_KEYS['mouse-tracking'] = new Set(['type', ...MOUSE_KEYS, 'label', 'name', 'id']);

const MINIBLOCK_KEYS = new Set(['enabled', 'break_every_n_trials', 'trials_per_block', 'num_blocks', 'force_wait_for_break',
  'break_duration_sec', 'break_message', 'break_escape_keys']);
const MINIBLOCK_POINTS = ['show_total_points_at_break', 'show_current_block_points_at_break'];

// Keys the reference Builder writes for its own bookkeeping; nothing runs from them.
const METADATA = new Set(['task_name', 'experiment_meta', 'validation', 'export_settings', 'timeline_type', '__source_url',
  'builder_version', 'experiment_name', 'study_name', 'description', 'created_at', 'updated_at', 'version', 'author',
  'notes', 'metadata', 'num_trials']);
const PLAIN_SETTINGS = new Set(['schema_version', 'experiment_type', 'task_type', 'timeline', 'seed', 'randomize_order',
  'default_iti', 'frame_rate', 'duration', 'update_interval', 'update_interval_ms', 'response_keys']);
const TRANSITION_TYPES = new Set(['both', 'color', 'speed', 'none', 'off', 'mask', 'fixation']);
const DATA_SWITCHES = new Set(['reaction-time', 'reaction_time', 'accuracy', 'correctness']);
const EYE_TRACKING = new Set(['eye-tracking', 'eye_tracking', 'eyeTracking']); // eye-tracking-config.js
const DATA_SOURCES = {
  'keyboard-tracking': 'keyboard tracking', keyboard_tracking: 'keyboard tracking',
};
const MOUSE_SWITCHES = new Set(['mouse-tracking', 'mouse_tracking']);

const isObj = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
const show = (v) => (typeof v === 'string' ? `"${v}"` : JSON.stringify(v));
const switchOn = (v) => (isObj(v) ? v.enabled === true || v.enabled === 'true' : v === true || v === 'true' || v === 1);

export function isContinuousRdm(config) {
  return config.experiment_type === 'continuous' && (config.task_type ?? 'rdm') === 'rdm';
}

export function isContinuousNback(config) {
  return config.experiment_type === 'continuous' && config.task_type === 'nback';
}

function describe(type) {
  const name = FAMILY_NAMES[type] ?? (/^soc-/.test(type) ? 'part of the SOC dashboard' : null);
  return name ? `${type} (${name})` : type;
}

// The component field name a block or settings key stands for (n-back blocks write nback_n).
export function fieldName(type, key) {
  const prefix = FIELD_PREFIX[type];
  return prefix && key.startsWith(prefix) ? key.slice(prefix.length) : key;
}

// Each entry also carries `path`, a JSON pointer into the config (for the Builder to select it).
class Report {
  constructor() { this.items = []; this.seen = new Set(); this.paths = {}; }

  add(where, item, message) {
    const key = `${where}|${message}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    const setting = /^Setting "([^"]+)"/.exec(where);
    const path = this.paths[where] ?? (setting ? `/${setting[1].split('.').join('/')}` : '/');
    this.items.push({ where, item, message, path });
  }
}

// A field of `type` set to `value`: unknown, or known but only with a neutral value.
function checkField(r, where, what, type, key, value) {
  const field = fieldName(type, key);
  const spec = specFor(type);
  if (!spec || commonFields().includes(field) || spec.fields.includes(field)) return;
  if (isNeutral(type, field, value)) return;
  const known = field in (spec.neutral ?? {}) || field === 'detection_response_task_enabled';
  const text = known
    ? `${where}: ${what} sets "${key}" to ${show(value)}, which this version does not support.`
    : `${where}: ${what} sets "${key}", which ${type} does not use in this version.`;
  r.add(where, key, text);
}

// Value-level refusals (algorithm "quest", n-back by mouse, ...). A list that the block samples
// from is checked option by option.
function checkValues(r, where, what, type, params, options = {}) {
  const spec = specFor(type);
  if (!spec || !spec.check) return;
  const variants = [params];
  for (const [field, opts] of Object.entries(options)) for (const o of opts) variants.push({ ...params, [field]: o });
  for (const p of variants) {
    for (const { field, reason } of spec.check(p)) {
      const v = p[field];
      const text = v === undefined || v === null || v === ''
        ? `${where}: ${what} has no "${field}", and ${reason}.`
        : `${where}: ${what} sets "${field}" to ${show(v)}, but ${reason}.`;
      r.add(where, field, text);
    }
  }
}

function settingsFor(config, type) {
  const key = SETTINGS_KEY[type];
  return key && isObj(config[key]) ? config[key] : {};
}

function checkComponent(r, config, item, where) {
  const type = item.type;
  for (const [k, v] of Object.entries(item)) if (k !== 'type') checkField(r, where, type, type, k, v);
  const params = RDM_TYPES.has(type) ? resolveRdmParams(config, item) : { ...settingsFor(config, type), ...item };
  checkValues(r, where, type, type, params);
  if (type === 'mw-probe') checkProbe(r, item, where);
}

function checkProbe(r, item, where) {
  const n = Number(item.probe_count_per_block ?? item.global_probe_count_per_block ?? 1);
  if (Number.isFinite(n) && n > 1) {
    r.add(where, 'probe_count_per_block', `${where}: mw-probe asks for ${n} probes per block, but this version places one probe per block.`);
  }
}

// A block's trial values: its own non-structural keys (as the reference reads them) and its
// parameter_values, with n-back's nback_ prefix taken off.
export function blockValues(block, type) {
  const values = {};
  for (const [k, v] of Object.entries(block)) if (!BLOCK_KEYS.has(k)) values[fieldName(type, k)] = v;
  for (const [k, v] of Object.entries(isObj(block.parameter_values) ? block.parameter_values : {})) {
    if (k !== 'miniblock_structure') values[fieldName(type, k)] = v;
  }
  return values;
}

function checkBlock(r, config, block, where) {
  const type = block.component_type ?? block.block_component_type;
  if (!type) { r.add(where, 'block', `${where}: the block does not say which component it generates (component_type).`); return; }
  if (!KNOWN_COMPONENTS.has(type)) { r.add(where, type, `${where}: block of ${describe(type)} is not supported by this version.`); return; }
  const what = `block of ${type}`;
  if (specFor(type)?.noBlock) { r.add(where, type, `${where}: ${what} is not supported: this version runs ${type} only as a timeline item, not from a block.`); return; }
  for (const [k, v] of Object.entries(block)) if (!BLOCK_KEYS.has(k)) checkField(r, where, what, type, k, v);
  const pv = block.parameter_values;
  if (pv !== undefined && !isObj(pv)) r.add(where, 'parameter_values', `${where}: ${what} has parameter_values that are not an object of field values.`);
  for (const [k, v] of Object.entries(isObj(pv) ? pv : {})) {
    if (k === 'miniblock_structure') continue; // the reference reads it from here too
    checkField(r, where, what, type, k, v);
  }
  for (const [k] of windowEntries(block.parameter_windows)) checkField(r, where, what, type, k, undefined);
  if (isObj(block.response_parameters_override) && Object.keys(block.response_parameters_override).length) {
    if (!RDM_TYPES.has(type)) {
      r.add(where, 'response_parameters_override', `${where}: ${what} has response_parameters_override, which only RDM blocks use.`);
    } else {
      for (const [k, v] of Object.entries(block.response_parameters_override)) checkField(r, where, what, type, k, v);
    }
  }
  if (block.add_trial_per_false_start && type !== 'pvt-trial') {
    r.add(where, 'add_trial_per_false_start', `${where}: ${what} sets add_trial_per_false_start, which only PVT blocks use.`);
  }
  checkSizing(r, config, block, where, what, type);
  checkMiniblocks(r, block, where, what);
  // Value checks: fixed values over the defaults, each option of a sampled list on its own.
  const values = blockValues(block, type);
  const lists = listFields(type);
  const fixed = {};
  const options = {};
  for (const [k, v] of Object.entries(values)) {
    if (Array.isArray(v) && !lists.has(k) && v.length) { options[k] = v; fixed[k] = v[0]; } else fixed[k] = v;
  }
  const base = RDM_TYPES.has(type)
    ? resolveRdmParams(config, fixed, block.response_parameters_override)
    : { ...settingsFor(config, type), ...fixed };
  checkValues(r, where, what, type, base, options);
}

function checkSizing(r, config, block, where, what, type) {
  const mode = String(block.block_sizing_mode ?? block.sizing_mode ?? 'by_length').toLowerCase();
  if (mode === 'by_length' || mode === '') return;
  if (mode !== 'by_duration') {
    r.add(where, 'block_sizing_mode', `${where}: ${what} uses block_sizing_mode ${show(block.block_sizing_mode)}, which this version does not know.`);
    return;
  }
  const streams = (isContinuousRdm(config) && RDM_TYPES.has(type)) || (isContinuousNback(config) && FIELD_PREFIX[type]);
  if (!streams) {
    r.add(where, 'block_sizing_mode', `${where}: ${what} is sized by duration, which this version (like the reference) does only for continuous RDM and continuous n-back blocks.`);
  } else if (!(Number(block.block_duration_seconds ?? block.duration_seconds) > 0)) {
    r.add(where, 'block_duration_seconds', `${where}: ${what} is sized by duration but has no block_duration_seconds.`);
  }
}

export function miniblockOf(block) {
  const mb = isObj(block.miniblock_structure) ? block.miniblock_structure
    : isObj(block.parameter_values?.miniblock_structure) ? block.parameter_values.miniblock_structure : null;
  return mb && (mb.enabled === true || mb.enabled === 'true') ? mb : null;
}

function checkMiniblocks(r, block, where, what) {
  const mb = miniblockOf(block);
  if (!mb) return;
  for (const [k, v] of Object.entries(mb)) {
    if (MINIBLOCK_POINTS.includes(k)) {
      if (switchOn(v)) r.add(where, `miniblock_structure.${k}`, `${where}: ${what} shows points at its mini-breaks (${k}), but this version does not show points at mini-breaks.`);
    } else if (!MINIBLOCK_KEYS.has(k)) {
      r.add(where, `miniblock_structure.${k}`, `${where}: ${what} sets miniblock_structure.${k}, which this version does not use.`);
    }
  }
}

function checkStructure(r, item, where) {
  const allowed = STRUCTURE_KEYS[item.type];
  for (const k of Object.keys(item)) {
    if (!allowed.has(k)) r.add(where, k, `${where}: ${item.type} sets "${k}", which this version does not use.`);
  }
}

function walk(r, config, items, prefix, ptr) {
  if (!Array.isArray(items)) return;
  items.forEach((item, i) => {
    const where = `${prefix}${i + 1}`;
    const label = `Timeline item ${where}`;
    r.paths[label] = `${ptr}/${i}`;
    if (!isObj(item)) { r.add(label, String(item), `${label}: the item is not an object, so this version cannot run it.`); return; }
    const t = item.type;
    if (t === undefined || t === null || t === '') {
      r.add(label, '(no type)', `${label}: the item has no "type", so this version cannot tell what to show.`);
    } else if (t === 'block') {
      checkBlock(r, config, item, label);
    } else if (STRUCTURE_KEYS[t]) {
      checkStructure(r, item, label);
      walk(r, config, item.items, `${where} › `, `${ptr}/${i}/items`);
    } else if (KNOWN_COMPONENTS.has(t)) {
      checkComponent(r, config, item, label);
    } else {
      r.add(label, String(t), `${label}: ${describe(String(t))} is not supported by this version.`);
    }
  });
}

function settingKeyType(key) {
  for (const [type, k] of Object.entries(SETTINGS_KEY)) if (k === key) return type;
  return null;
}

function checkTopLevel(r, config) {
  for (const [key, value] of Object.entries(config)) {
    const where = `Setting "${key}"`;
    if (PLAIN_SETTINGS.has(key) || METADATA.has(key)) continue;
    const settingsType = settingKeyType(key);
    if (settingsType) {
      if (!isObj(value)) continue;
      for (const [k, v] of Object.entries(value)) {
        checkField(r, `Setting "${key}.${k}"`, key, settingsType, k, v);
      }
      checkValues(r, where, key, settingsType, value);
      continue;
    }
    if (RDM_GROUP_KEYS.includes(key)) {
      for (const [k, v] of Object.entries(isObj(value) ? value : {})) {
        const name = k.includes('.') ? k.slice(k.lastIndexOf('.') + 1) : k;
        checkField(r, `Setting "${key}.${k}"`, key, 'rdm-dot-groups', name, v);
      }
      continue;
    }
    if (key === 'transition_settings') { checkTransition(r, value); continue; }
    if (key === 'data_collection') { checkDataCollection(r, value); continue; }
    if (key === 'ui_settings') { checkUi(r, value); continue; }
    if (key === 'lsl' || key === 'triggers') { checkHardware(r, key, value); continue; } // markers.js
    if (key === 'reward_settings') continue; // rewards.js: `enabled` is the master switch, the rest overrides
    if (key === 'eye_tracking') continue; // read like data_collection.eye_tracking (eye-tracking-config.js)
    r.add(where, key, `${where} is not known to this version, so it would be ignored.`);
  }
}

function checkTransition(r, value) {
  const where = 'Setting "transition_settings"';
  if (!isObj(value)) return;
  for (const [k, v] of Object.entries(value)) {
    if (k === 'duration_ms') continue;
    if (k === 'type') {
      if (!TRANSITION_TYPES.has(String(v).toLowerCase())) r.add(where, 'transition_settings.type', `${where}: transition type ${show(v)} is not known to this version.`);
      continue;
    }
    r.add(where, `transition_settings.${k}`, `${where}: "${k}" is not used by this version.`);
  }
}

function checkDataCollection(r, value) {
  if (!isObj(value)) return;
  for (const [k, v] of Object.entries(value)) {
    const where = `Setting "data_collection.${k}"`;
    if (DATA_SWITCHES.has(k) || EYE_TRACKING.has(k)) continue;
    if (MOUSE_SWITCHES.has(k)) {
      // Recorded: positions at frame times, presses, a sampling rate; anything else on is refused.
      for (const [opt, on] of Object.entries(isObj(v) ? v : {})) {
        if (!MOUSE_KEYS.includes(opt) && switchOn(on)) r.add(where, `data_collection.${k}.${opt}`, `${where}: mouse tracking option "${opt}" is switched on, but this version records pointer positions and presses only.`);
      }
      continue;
    }
    if (DATA_SOURCES[k]) {
      if (switchOn(v)) r.add(where, `data_collection.${k}`, `${where}: ${DATA_SOURCES[k]} is switched on, but this version does not record ${DATA_SOURCES[k]} yet.`);
      continue;
    }
    if (switchOn(v)) r.add(where, `data_collection.${k}`, `${where} is switched on, but this version does not know what to record for it.`);
  }
}

function checkUi(r, value) {
  if (!isObj(value)) return;
  for (const [k, v] of Object.entries(value)) {
    const where = `Setting "ui_settings.${k}"`;
    if (k === 'theme') {
      if (!['dark', 'light'].includes(String(v).toLowerCase())) r.add(where, 'ui_settings.theme', `${where}: theme ${show(v)} is not known (dark or light).`);
      continue;
    }
    r.add(where, `ui_settings.${k}`, `${where} is not used by this version.`);
  }
}

// Lab hardware (markers.js; the desktop host sends them): the known keys, and codes only for
// what can have an onset (a component type, the DRT's stimuli) or for `response`.
const HARDWARE_KEYS = { lsl: new Set(['enabled', 'stream_name']), triggers: new Set(['enabled', 'codes']) };
const CODE_TARGETS = new Set([...KNOWN_COMPONENTS, 'drt-stimulus', 'response']);

function checkHardware(r, key, value) {
  if (!isObj(value)) return; // the schema says what it must be
  for (const k of Object.keys(value)) {
    if (!HARDWARE_KEYS[key].has(k)) r.add(`Setting "${key}.${k}"`, `${key}.${k}`, `Setting "${key}.${k}" is not used by this version.`);
  }
  if (key !== 'triggers' || !isObj(value.codes)) return;
  for (const target of Object.keys(value.codes)) {
    if (CODE_TARGETS.has(target)) continue;
    const where = `Setting "triggers.codes.${target}"`;
    r.add(where, `triggers.codes.${target}`, `${where}: this version has no component type "${target}", so its code would never be sent.`);
  }
}

export function findUnsupported(config) {
  const r = new Report();
  if (!isObj(config)) return [{ where: 'config', item: 'config', message: 'The config is not a JSON object.' }];
  checkTopLevel(r, config);
  walk(r, config, config.timeline, '', '/timeline');
  return r.items;
}
