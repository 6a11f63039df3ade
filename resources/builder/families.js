// Human-readable names for what the config spells as codes: task families, the library's
// groups, enum values, study-level field names. Pure module (no DOM), unit-tested.
//
// A component belongs to a task family by its type's prefix ("stroop-trial" -> stroop), so a
// component another engineer adds to the schema ("gabor-quest", "mot-trial") lands in its
// family's group without an edit here. What runs and what is refused is decided by the
// Interpreter's checker (../interpreter/support.js), never by these tables.

export const TASK_FAMILIES = [
  { task: 'flanker', label: 'Flanker', prefix: 'flanker-', icon: 'flanker' },
  { task: 'stroop', label: 'Stroop', prefix: 'stroop-', icon: 'stroop' },
  { task: 'emotional-stroop', label: 'Emotional Stroop', prefix: 'emotional-stroop-', icon: 'stroop' },
  { task: 'simon', label: 'Simon', prefix: 'simon-', icon: 'simon' },
  { task: 'sart', label: 'SART (go/no-go)', prefix: 'sart-', icon: 'digit' },
  { task: 'pvt', label: 'Psychomotor vigilance (PVT)', prefix: 'pvt-', icon: 'clock' },
  { task: 'task-switching', label: 'Task switching', prefix: 'task-switching-', icon: 'switch' },
  { task: 'nback', label: 'N-back', prefix: 'nback-', icon: 'nback' },
  { task: 'rdm', label: 'Random dot motion (RDM)', prefix: 'rdm-', icon: 'dots' },
  { task: 'gabor', label: 'Gabor patches', prefix: 'gabor-', icon: 'gabor' },
  { task: 'mot', label: 'Multiple-object tracking (MOT)', prefix: 'mot-', icon: 'mot' },
  { task: 'soc-dashboard', label: 'SOC dashboard', prefix: 'soc-', icon: 'dashboard' },
  { task: 'continuous-image', label: 'Continuous image presentation', prefix: 'continuous-image-', icon: 'image' },
  { task: 'custom', label: 'Custom (screens and surveys only)', prefix: null, icon: 'text' },
];

const FAMILY_BY_TASK = new Map(TASK_FAMILIES.map((f) => [f.task, f]));

// Which task types the reference Builder offers per experiment type (the others still run, as
// ordinary trials; studyNotes() tells the researcher).
export const CONTINUOUS_TASKS = new Set(['rdm', 'soc-dashboard', 'custom', 'nback', 'continuous-image', 'pvt']);
export const CONTINUOUS_ONLY = new Set(['soc-dashboard', 'continuous-image']);

export function taskAllowed(task, experimentType) {
  if (experimentType === 'continuous') return CONTINUOUS_TASKS.has(task);
  return !CONTINUOUS_ONLY.has(task);
}

export function taskLabel(task) {
  return FAMILY_BY_TASK.get(task)?.label ?? humanize(task);
}

/** The task family of a component type, or null for the generic ones (screens, surveys...). */
export function familyOf(type) {
  let best = null;
  for (const f of TASK_FAMILIES) {
    if (f.prefix && String(type).startsWith(f.prefix) && (!best || f.prefix.length > best.prefix.length)) best = f;
  }
  if (!best && String(type) === 'soc-dashboard') best = FAMILY_BY_TASK.get('soc-dashboard');
  return best ? best.task : null;
}

// Library groups for the components that belong to no task family.
export const GENERIC_GROUPS = [
  { id: 'screens', label: 'Screens', test: () => true, icon: 'text' },
  { id: 'questions', label: 'Questions', test: (t) => /survey|probe|question/.test(t), icon: 'survey' },
  { id: 'setup', label: 'Calibration and set-up', test: (t) => /calibration|preload|eye-tracking|fullscreen/.test(t), icon: 'ruler' },
  { id: 'secondary', label: 'Secondary task (DRT)', test: (t) => /^detection-response/.test(t), icon: 'drt' },
];

export function genericGroupOf(type) {
  // The most specific group wins ("screens" matches everything, so it is checked last).
  return [...GENERIC_GROUPS].reverse().find((g) => g.test(String(type)))?.id ?? 'screens';
}

const ICON_BY_TYPE = [
  [/^instructions$|html-keyboard/, 'text'], [/button/, 'button'], [/image/, 'image'], [/survey|probe/, 'survey'],
  [/calibration/, 'ruler'], [/detection-response-task-start/, 'drt'], [/detection-response-task-stop/, 'drt-stop'],
  [/^block$/, 'block'], [/^loop$/, 'loop'], [/^randomize/, 'shuffle'],
];

/** The icon name for a component or structural type (see icons.js). */
export function iconFor(type) {
  const fam = familyOf(type);
  if (fam) return FAMILY_BY_TASK.get(fam).icon;
  return ICON_BY_TYPE.find(([re]) => re.test(String(type)))?.[1] ?? 'text';
}

/** "per-trial" -> "Per trial", "color_naming" -> "Color naming"; codes with no better name. */
export function humanize(code) {
  const s = String(code ?? '').replace(/[_-]+/g, ' ').trim();
  return s ? s[0].toUpperCase() + s.slice(1) : '';
}

// Enum values whose plain humanized form would read badly. Keyed by value; the same code means
// the same thing in every field that uses it.
const VALUE_LABELS = {
  'trial-based': 'Trial-based (one trial after another)',
  continuous: 'Continuous (a stream for a set duration)',
  'per-trial': 'Per trial (draw new values for every trial)',
  'per-block': 'Per block (draw once, use for every trial)',
  by_length: 'By number of trials',
  by_duration: 'By duration',
  rdm: 'Random dot motion (RDM)',
  nback: 'N-back',
  pvt: 'PVT',
  sart: 'SART',
  mot: 'MOT',
  ALL_KEYS: 'Any key',
  NO_KEYS: 'No key',
  color_naming: 'Name the ink colour',
  congruency: 'Judge congruency',
  inherit: 'Task default',
  auto: 'Automatic',
  rt: 'Reaction time (short name)',
};

/** The label for one enum value of a field. Task types read as their family's name. */
export function valueLabel(key, value) {
  if (typeof value !== 'string') return String(value);
  if (key === 'task_type') return taskLabel(value);
  return VALUE_LABELS[value] ?? humanize(value);
}

// The data_collection switches the reference writes, with what each one means for the study.
// The underscore spellings are aliases the Interpreter also reads: shown only when a config has them.
export const DATA_SWITCHES = [
  { key: 'reaction-time', alias: 'reaction_time', label: 'Record reaction times', description: 'The response time (rt_ms) of every trial.' },
  { key: 'accuracy', label: 'Record accuracy', description: 'Whether each response was correct.' },
  { key: 'correctness', label: 'Record correctness', description: 'The reference Interpreter\'s name for the correct/incorrect score of RDM trials.' },
  { key: 'eye-tracking', alias: 'eye_tracking', label: 'Eye tracking (webcam)', description: 'Gaze samples with the trials; needs a camera and calibration.' },
  { key: 'mouse-tracking', alias: 'mouse_tracking', label: 'Mouse tracking', description: 'The pointer position at every display frame of every trial, and its presses (mouse_samples, mouse_clicks).' },
];

/** Top-level config keys and their plain names, for the problem list ("Study › Task type: ..."). */
export function fieldLabel(schema, key) {
  const p = schema?.properties?.[key];
  return p?.title ?? humanize(key);
}
