// The model behind the Builder's editor: a study (name, slug, version label, runtime mode) and
// its config, kept as the plain CogFlow config object itself. Keeping the config verbatim is what
// makes import -> export lossless: fields the editor has no form for stay exactly as imported.
// Pure module (no DOM), so node's test runner can exercise every operation.
//
// Timeline items are addressed by paths: [2] is timeline[2], [2, 0] is timeline[2].items[0].
// Every operation returns a new config and leaves its argument untouched (the editor keeps the
// previous one for undo).

import { CONTINUOUS_ONLY, CONTINUOUS_TASKS, familyOf, genericGroupOf, iconFor, taskLabel } from './families.js';

export const SLUG_RE = /^[a-zA-Z0-9_-]+$/;
export const SLUG_MAX = 50;
export const LABEL_MAX = 50;
export const NAME_MAX = 255;
export const CONTAINER_TYPES = new Set(['loop', 'randomize-group', 'randomize-across-markers']);
export const STRUCTURAL = ['block', 'loop', 'randomize-group'];
export const RUNTIME_MODES = ['django', 'jatos', 'hybrid', 'home_gear_lsl'];
export const SCHEMA_VERSION = '1.0';

const clone = (v) => (v === undefined ? undefined : JSON.parse(JSON.stringify(v)));

// ---- the study -------------------------------------------------------------------------------

/**
 * The top-level settings the reference Builder writes into every config it makes, with its
 * values. The reference Interpreter reads them (it records rt_ms/accuracy/correctness only
 * when data_collection asks for them, sizes continuous blocks from frame_rate and duration,
 * uses default_iti as the base ITI), so a study made here records the same there.
 */
export function referenceDefaults(experimentType = 'trial-based') {
  const common = {
    data_collection: { 'reaction-time': true, accuracy: true, correctness: true, 'eye-tracking': false },
    ui_settings: { theme: 'dark' },
    reward_settings: { enabled: false },
    frame_rate: 60,
    duration: 30,
    update_interval: 1000,
  };
  if (experimentType === 'continuous') return { ...common, transition_settings: { duration_ms: 0, type: 'both' } };
  return { ...common, default_iti: 1000, randomize_order: false };
}

/** A new, empty config of a task and experiment type, with the reference's defaults. */
export function newConfig(taskType = 'flanker', experimentType = 'trial-based') {
  return {
    schema_version: SCHEMA_VERSION, experiment_type: experimentType, task_type: taskType,
    ...referenceDefaults(experimentType), timeline: [],
  };
}

/** Switching the experiment type adds the defaults the other type needs (nothing is removed). */
export function setExperimentType(config, experimentType) {
  const next = { ...config, experiment_type: experimentType };
  for (const [k, v] of Object.entries(referenceDefaults(experimentType))) if (!(k in next)) next[k] = clone(v);
  return next;
}

export function emptyStudy() {
  return {
    study: { study_name: '', study_slug: '', slug_edited: false, config_version_label: 'v1', runtime_mode: '' },
    config: newConfig(),
  };
}

/** A slug derived from a study name: letters, digits, '-' and '_' only, at most 50. */
export function slugify(name) {
  const ascii = String(name ?? '').normalize('NFKD').replace(/[\u0300-\u036f]/g, '');
  return ascii.toLowerCase().replace(/[^a-z0-9_-]+/g, '-').replace(/-{2,}/g, '-')
    .replace(/^[-_]+|[-_]+$/g, '').slice(0, SLUG_MAX).replace(/[-_]+$/g, '');
}

/** Problems with the study's publish fields, as {field: message}; empty when all is well. */
export function studyErrors(study) {
  const errors = {};
  const name = (study.study_name ?? '').trim();
  if (!name) errors.study_name = 'Give the study a name.';
  else if (name.length > NAME_MAX) errors.study_name = `Use at most ${NAME_MAX} characters.`;
  const slug = study.study_slug ?? '';
  if (!slug) errors.study_slug = 'Give the study a slug (letters, digits, - and _).';
  else if (slug.length > SLUG_MAX) errors.study_slug = `Use at most ${SLUG_MAX} characters.`;
  else if (!SLUG_RE.test(slug)) errors.study_slug = "Use letters, digits, '-' and '_' only.";
  const label = (study.config_version_label ?? '').trim();
  if (!label) errors.config_version_label = 'Give this version a label, e.g. v1.';
  else if (label.length > LABEL_MAX) errors.config_version_label = `Use at most ${LABEL_MAX} characters.`;
  if (study.runtime_mode && !RUNTIME_MODES.includes(study.runtime_mode)) {
    errors.runtime_mode = `Choose one of ${RUNTIME_MODES.join(', ')}.`;
  }
  return errors;
}

/** Name change: the slug follows the name until the researcher edits the slug by hand. */
export function setStudyName(study, name) {
  const next = { ...study, study_name: name };
  if (!study.slug_edited) next.study_slug = slugify(name);
  return next;
}

export function setStudySlug(study, slug) {
  return { ...study, study_slug: slug, slug_edited: slug !== '' };
}

// ---- import / export ------------------------------------------------------------------------

/** Parse a config file's text. Throws an Error with one plain sentence when it is not usable. */
export function parseConfigText(text) {
  let data;
  try {
    data = JSON.parse(text);
  } catch {
    throw new Error('This file is not valid JSON.');
  }
  return importConfig(data);
}

/** Accept a config object as it is (a deep copy); only its basic shape is checked here. */
export function importConfig(data) {
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw new Error('This file does not hold a CogFlow config (a JSON object).');
  }
  if (data.timeline !== undefined && !Array.isArray(data.timeline)) {
    throw new Error('This config\'s "timeline" is not a list.');
  }
  const config = clone(data);
  if (config.timeline === undefined) config.timeline = [];
  return config;
}

/** What a config file or a publish carries: the config exactly as the model holds it. */
export function exportConfig(config) {
  return clone(config);
}

export function exportText(config) {
  return `${JSON.stringify(exportConfig(config), null, 2)}\n`;
}

/** Study fields guessed from an imported config (publish needs them; configs do not carry them). */
export function studyFromConfig(config, fallbackName = '') {
  const meta = config.experiment_meta && typeof config.experiment_meta === 'object' ? config.experiment_meta : {};
  const name = [config.task_name, meta.name, meta.title, fallbackName].find((v) => typeof v === 'string' && v.trim()) ?? '';
  return { ...emptyStudy().study, study_name: name, study_slug: slugify(name) };
}

// ---- addressing -----------------------------------------------------------------------------

export function getItem(config, path) {
  let list = config.timeline;
  let item;
  for (const i of path) {
    if (!Array.isArray(list) || i < 0 || i >= list.length) return undefined;
    item = list[i];
    list = item && item.items;
  }
  return item;
}

export function isContainer(item) {
  return !!item && CONTAINER_TYPES.has(item.type) && Array.isArray(item.items);
}

// The list that holds `path`'s item (path [] = the timeline itself) inside an already-copied config.
function listAt(config, parentPath) {
  let list = config.timeline;
  for (const i of parentPath) {
    const item = list[i];
    if (!isContainer(item)) throw new Error('That place in the timeline is not a loop or group.');
    list = item.items;
  }
  return list;
}

// Copy only the lists along a path (structural sharing keeps big configs cheap).
function copyAlong(config, parentPath) {
  const next = { ...config, timeline: [...config.timeline] };
  let list = next.timeline;
  for (const i of parentPath) {
    const item = { ...list[i], items: [...list[i].items] };
    list[i] = item;
    list = item.items;
  }
  return next;
}

const samePath = (a, b) => a.length === b.length && a.every((v, i) => v === b[i]);

/** Depth-first list of every item with its path. */
export function walk(config) {
  const out = [];
  const visit = (items, prefix) => {
    (items ?? []).forEach((item, i) => {
      const path = [...prefix, i];
      out.push({ path, item });
      if (isContainer(item)) visit(item.items, path);
    });
  };
  visit(config.timeline, []);
  return out;
}

// ---- timeline operations --------------------------------------------------------------------

export function insertItem(config, parentPath, index, item) {
  const next = copyAlong(config, parentPath);
  const list = listAt(next, parentPath);
  const at = Math.max(0, Math.min(index ?? list.length, list.length));
  list.splice(at, 0, clone(item));
  return { config: next, path: [...parentPath, at] };
}

/** Where the library adds a new item: inside a selected loop/group, else after the selection. */
export function insertionPoint(config, selected) {
  if (!selected || !getItem(config, selected)) return { parentPath: [], index: config.timeline.length };
  if (isContainer(getItem(config, selected))) {
    return { parentPath: selected, index: getItem(config, selected).items.length };
  }
  return { parentPath: selected.slice(0, -1), index: selected[selected.length - 1] + 1 };
}

export function removeItem(config, path) {
  const parentPath = path.slice(0, -1);
  const next = copyAlong(config, parentPath);
  listAt(next, parentPath).splice(path[path.length - 1], 1);
  return next;
}

export function replaceItem(config, path, item) {
  const parentPath = path.slice(0, -1);
  const next = copyAlong(config, parentPath);
  listAt(next, parentPath)[path[path.length - 1]] = item;
  return next;
}

/** Move the item at `from` to position `index` of the list at `toParent` (index as seen before
 * the move). Returns the new config and the item's new path; moving a container into itself is
 * refused. */
export function moveItem(config, from, toParent, index) {
  if (toParent.length >= from.length && samePath(toParent.slice(0, from.length), from)) {
    throw new Error('A loop or group cannot be moved into itself.');
  }
  const item = getItem(config, from);
  if (item === undefined) throw new Error('Nothing to move there.');
  const fromParent = from.slice(0, -1);
  const fromIndex = from[from.length - 1];
  // Removing first shifts later siblings (and later ancestors of the target) up by one.
  const adjusted = [...toParent];
  const depth = fromParent.length;
  if (adjusted.length > depth && samePath(adjusted.slice(0, depth), fromParent) && adjusted[depth] > fromIndex) {
    adjusted[depth] -= 1;
  }
  let target = index;
  if (samePath(toParent, fromParent) && index > fromIndex) target -= 1;
  const removed = removeItem(config, from);
  return insertItem(removed, adjusted, target, item);
}

/** Keyboard reorder: one place up (-1) or down (+1) among its siblings. */
export function moveBy(config, path, delta) {
  const parentPath = path.slice(0, -1);
  const i = path[path.length - 1];
  const siblings = parentPath.length ? getItem(config, parentPath).items : config.timeline;
  const j = i + delta;
  if (j < 0 || j >= siblings.length) return { config, path };
  return moveItem(config, path, parentPath, delta > 0 ? j + 1 : j);
}

/** Move an item out of its loop/group, to just after it. */
export function moveOut(config, path) {
  if (path.length < 2) return { config, path };
  const parentPath = path.slice(0, -1);
  const grand = parentPath.slice(0, -1);
  return moveItem(config, path, grand, parentPath[parentPath.length - 1] + 1);
}

/** Move an item into the loop/group just before it (at its end). */
export function moveIntoPrevious(config, path) {
  const i = path[path.length - 1];
  if (i === 0) return { config, path };
  const prevPath = [...path.slice(0, -1), i - 1];
  const prev = getItem(config, prevPath);
  if (!isContainer(prev)) return { config, path };
  return moveItem(config, path, prevPath, prev.items.length);
}

function usedIds(config, key) {
  return new Set(walk(config).map(({ item }) => item && item[key]).filter((v) => typeof v === 'string'));
}

export function uniqueId(config, key, prefix) {
  const used = usedIds(config, key);
  let n = 1;
  while (used.has(`${prefix}${n}`)) n += 1;
  return `${prefix}${n}`;
}

const ID_KEYS = [['loop_id', 'loop_'], ['random_group_id', 'group_']];

/** Duplicate below: a deep copy right after the original, with fresh loop/group ids. */
export function duplicateItem(config, path) {
  const copy = clone(getItem(config, path));
  let probe = config;
  const renumber = (item) => {
    for (const [key, prefix] of ID_KEYS) {
      if (item && typeof item[key] === 'string') {
        item[key] = uniqueId(probe, key, prefix);
        probe = { timeline: [...probe.timeline, { [key]: item[key] }] };
      }
    }
    if (isContainer(item)) item.items.forEach(renumber);
  };
  renumber(copy);
  return insertItem(config, path.slice(0, -1), path[path.length - 1] + 1, copy);
}

/** Wrap `count` consecutive siblings starting at `path` in a new loop or randomize group. */
export function wrapItems(config, path, kind, count = 1) {
  const parentPath = path.slice(0, -1);
  const start = path[path.length - 1];
  const next = copyAlong(config, parentPath);
  const list = listAt(next, parentPath);
  const moved = list.slice(start, start + count);
  const wrapper = kind === 'loop'
    ? { type: 'loop', loop_id: uniqueId(config, 'loop_id', 'loop_'), iterations: 2, items: moved }
    : { type: 'randomize-group', random_group_id: uniqueId(config, 'random_group_id', 'group_'), items: moved };
  list.splice(start, count, wrapper);
  return { config: next, path };
}

/** Replace a loop/group by its items. */
export function unwrapItem(config, path) {
  const item = getItem(config, path);
  if (!isContainer(item)) return { config, path };
  const parentPath = path.slice(0, -1);
  const next = copyAlong(config, parentPath);
  listAt(next, parentPath).splice(path[path.length - 1], 1, ...item.items);
  return { config: next, path };
}

// ---- fields ---------------------------------------------------------------------------------

/** Set one field of an item; `undefined` removes it (the default then applies). */
export function setField(config, path, key, value) {
  const item = { ...getItem(config, path) };
  if (value === undefined) delete item[key];
  else item[key] = value;
  return replaceItem(config, path, item);
}

/** Set one top-level config field, or a field of a nested settings object (`group` given). */
export function setConfigField(config, key, value, group) {
  const next = { ...config };
  if (group) {
    const inner = { ...(config[group] ?? {}) };
    if (value === undefined) delete inner[key];
    else inner[key] = value;
    next[group] = inner;
  } else if (value === undefined) {
    delete next[key];
  } else {
    next[key] = value;
  }
  return next;
}

// ---- blocks ---------------------------------------------------------------------------------

export function blockComponentType(block) {
  return block.component_type ?? block.block_component_type ?? '';
}

/** How a block sets one parameter: inherit | fixed | list | window, with its value. */
export function getBlockParameter(block, name) {
  const windows = block.parameter_windows;
  const win = Array.isArray(windows)
    ? windows.find((w) => w && w.parameter === name)
    : windows && typeof windows === 'object' ? windows[name] : undefined;
  if (win && typeof win === 'object') return { mode: 'window', value: { min: win.min, max: win.max } };
  const values = block.parameter_values;
  if (values && typeof values === 'object' && Object.hasOwn(values, name)) {
    const v = values[name];
    return Array.isArray(v) ? { mode: 'list', value: v } : { mode: 'fixed', value: v };
  }
  return { mode: 'inherit', value: undefined };
}

/** Set one block parameter; windows keep the block's own shape (map or list). */
export function setBlockParameter(block, name, mode, value) {
  const next = { ...block };
  const values = { ...(block.parameter_values ?? {}) };
  delete values[name];
  let windows = block.parameter_windows;
  if (Array.isArray(windows)) windows = windows.filter((w) => !(w && w.parameter === name));
  else if (windows && typeof windows === 'object') { windows = { ...windows }; delete windows[name]; }
  if (mode === 'fixed') values[name] = value;
  else if (mode === 'list') values[name] = Array.isArray(value) ? value : [value];
  else if (mode === 'window') {
    const w = { min: value.min, max: value.max };
    if (Array.isArray(windows)) windows = [...windows, { parameter: name, ...w }];
    else windows = { ...(windows ?? {}), [name]: w };
  }
  if (Object.keys(values).length || block.parameter_values !== undefined) next.parameter_values = values;
  if (windows !== undefined) next.parameter_windows = windows;
  return next;
}

/** Parse a list typed as text ("congruent, incongruent" or "1, 2"), numbers where they fit. */
export function parseList(text, numeric = false) {
  return String(text).split(',').map((s) => s.trim()).filter((s) => s !== '')
    .map((s) => (numeric && s !== '' && !Number.isNaN(Number(s)) ? Number(s) : s));
}

// ---- schema helpers -------------------------------------------------------------------------

/** The library: every component the Interpreter runs, then the structural items. */
export function catalogue(schema) {
  const defs = schema.$defs ?? {};
  const types = [...(schema['x-cogflow-components'] ?? []), ...STRUCTURAL];
  return types.filter((t) => defs[t]).map((t) => ({
    type: t,
    title: defs[t].title ?? t,
    description: defs[t].description ?? '',
    structural: STRUCTURAL.includes(t),
    family: STRUCTURAL.includes(t) ? null : familyOf(t),
    group: STRUCTURAL.includes(t) ? 'structure' : familyOf(t) ? 'task' : genericGroupOf(t),
    icon: iconFor(t),
  }));
}

/** The `*_settings` key holding a task's defaults, if the schema describes one. */
export function settingsKeyFor(schema, taskType) {
  if (!taskType) return null;
  const key = `${taskType.replace(/-/g, '_')}_settings`;
  return schema.properties && schema.properties[key] ? key : null;
}

/** A new item of a type: only what the schema requires (defaults show as placeholders, so
 * the task's `*_settings` still apply). Blocks, loops and groups get a useful start. */
export function newItem(schema, config, type, taskComponent = 'flanker-trial') {
  if (type === 'block') {
    return { type: 'block', component_type: taskComponent, length: 10, sampling_mode: 'per-trial', parameter_values: {}, parameter_windows: {} };
  }
  if (type === 'loop') return { type: 'loop', loop_id: uniqueId(config, 'loop_id', 'loop_'), iterations: 2, items: [] };
  if (type === 'randomize-group') {
    return { type: 'randomize-group', random_group_id: uniqueId(config, 'random_group_id', 'group_'), items: [] };
  }
  const def = (schema.$defs ?? {})[type] ?? {};
  const item = { type };
  for (const key of def.required ?? []) {
    const prop = (def.properties ?? {})[key] ?? {};
    if (prop.default !== undefined) item[key] = clone(prop.default);
    else if (prop.type === 'array') item[key] = [];
    else if (prop.type === 'object') item[key] = {};
    else if (prop.type === 'string') item[key] = '';
  }
  return item;
}

/** The component type the task type runs (used as a new block's default). */
export function taskComponent(schema, taskType) {
  const guess = `${taskType}-trial`;
  const known = schema['x-cogflow-components'] ?? [];
  if (known.includes(guess)) return guess;
  if (taskType === 'nback') return 'nback-trial-sequence';
  if (taskType === 'continuous-image' && known.includes('continuous-image-presentation')) return 'continuous-image-presentation';
  return known.includes('flanker-trial') ? 'flanker-trial' : known[0];
}

/** The inspector's heading for a block: "Block of Flanker trials". */
export function blockTitle(block, schema) {
  const t = blockComponentType(block);
  const def = (schema?.$defs ?? {})[t];
  if (!t) return 'Block (no component type yet)';
  const title = def?.title ?? t;
  return `Block of ${/s$/.test(title) ? title : `${title}s`}`;
}

/** A short line that names an item in the timeline. */
export function itemLabel(item, schema) {
  if (!item || typeof item !== 'object') return 'Not an object';
  const defs = schema ? schema.$defs ?? {} : {};
  const title = (t) => (defs[t] && defs[t].title) || t || 'Untyped item';
  const name = item.name ?? item.label;
  const suffix = typeof name === 'string' && name ? ` — ${name}` : '';
  if (item.type === 'block') {
    const n = item.length ?? item.block_length;
    return `Block: ${n ?? '?'} × ${title(blockComponentType(item))}${suffix}`;
  }
  if (item.type === 'loop') return `Loop ${item.loop_id ?? ''} × ${item.iterations ?? 1}${suffix}`.replace('  ', ' ');
  if (CONTAINER_TYPES.has(item.type)) return `Randomized group ${item.random_group_id ?? ''}${suffix}`.trim();
  return `${title(item.type)}${suffix}`;
}


/** Notes on settings that are valid but probably not what the researcher means. */
export function studyNotes(config) {
  const notes = [];
  const { experiment_type: exp, task_type: task } = config;
  if (exp === 'continuous' && task && !CONTINUOUS_TASKS.has(task)) {
    notes.push({ path: '/task_type', message: `${taskLabel(task)} has no continuous mode; its trials run one after another as in a trial-based study.` });
  }
  if (exp === 'trial-based' && CONTINUOUS_ONLY.has(task)) {
    notes.push({ path: '/task_type', message: `${taskLabel(task)} is meant for continuous studies.` });
  }
  return notes;
}

// ---- validation messages --------------------------------------------------------------------

function unescapePointer(seg) {
  return seg.replace(/~1/g, '/').replace(/~0/g, '~');
}

/** Where a validation error belongs: a timeline item's field, or a top-level (study) field.
 * `pointer` is a JSON pointer into the config, e.g. /timeline/2/items/0/length. */
export function locateError(pointer) {
  const segs = String(pointer || '').split('/').slice(1).map(unescapePointer);
  if (segs[0] !== 'timeline') return { scope: 'config', field: segs[0] ?? '', sub: segs.slice(1) };
  const path = [];
  let k = 1;
  while (k < segs.length && /^\d+$/.test(segs[k])) {
    path.push(Number(segs[k]));
    k += 1;
    if (segs[k] === 'items' && k + 1 < segs.length && /^\d+$/.test(segs[k + 1])) k += 1;
    else break;
  }
  if (!path.length) return { scope: 'config', field: 'timeline', sub: [] };
  return { scope: 'item', path, field: segs[k] ?? '', sub: segs.slice(k + 1) };
}

/** Group validation errors ({path, message}) by where the editor shows them. */
export function groupErrors(errors, unsupported = []) {
  const byItem = new Map();
  const byConfig = new Map();
  // What the Interpreter will not run sits at its item, in the Interpreter's own sentence.
  for (const u of unsupported) {
    const where = locateError(u.path);
    if (where.scope !== 'item') {
      if (!byConfig.has(where.field)) byConfig.set(where.field, []);
      byConfig.get(where.field).push(u.message);
      continue;
    }
    const key = where.path.join('.');
    if (!byItem.has(key)) byItem.set(key, []);
    byItem.get(key).push({ field: '', message: u.message, kind: 'unsupported' });
  }
  for (const e of errors) {
    const where = locateError(e.path);
    const text = where.sub && where.sub.length ? `${where.sub.join('.')}: ${e.message}` : e.message;
    if (where.scope === 'item') {
      const key = where.path.join('.');
      if (!byItem.has(key)) byItem.set(key, []);
      byItem.get(key).push({ field: where.field, message: text });
    } else {
      if (!byConfig.has(where.field)) byConfig.set(where.field, []);
      byConfig.get(where.field).push(text);
    }
  }
  return { byItem, byConfig };
}

/** A server error body as one readable text: {"error"}, {"detail"} or a field dict. */
export function serverErrorText(status, body) {
  if (body && typeof body === 'object') {
    if (typeof body.error === 'string') return body.error;
    if (typeof body.detail === 'string') return body.detail;
    const parts = Object.entries(body).map(([field, msgs]) => {
      const text = Array.isArray(msgs) ? msgs.join(' ') : typeof msgs === 'string' ? msgs : JSON.stringify(msgs);
      return field === 'non_field_errors' ? text : `${field}: ${text}`;
    });
    if (parts.length) return parts.join(' ');
  }
  return `The server answered with an error (HTTP ${status}).`;
}

// ---- partial previews -----------------------------------------------------------------------

/**
 * A config that runs part of the study: `kind` "item" runs the item at `path` alone, "from"
 * runs it and everything after it. Inside a loop or group, "from" runs the rest of that loop
 * or group once, then what follows it. Top-level settings are kept; shuffling the top level is
 * off, so the part starts where the researcher asked.
 */
export function partConfig(config, path, kind) {
  const item = getItem(config, path);
  if (item === undefined) throw new Error('That item is no longer in the timeline.');
  let timeline;
  if (kind === 'item') {
    timeline = [clone(item)];
  } else {
    timeline = [];
    for (let depth = path.length; depth >= 1; depth -= 1) {
      const parentPath = path.slice(0, depth - 1);
      const siblings = parentPath.length ? getItem(config, parentPath).items : config.timeline;
      timeline.push(...clone(siblings.slice(path[depth - 1] + (depth === path.length ? 0 : 1))));
    }
  }
  return { ...clone({ ...config, timeline: [] }), randomize_order: false, timeline };
}
