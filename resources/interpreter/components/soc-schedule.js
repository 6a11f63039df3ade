// SOC dashboard: which sub-task windows a session has and when each is on screen. Pure (no DOM),
// so the compiler and node tests can use it. Times are "session time": ms since the dashboard
// was first drawn, not counting time the session stood still (instruction pop-ups, a paused run).

export const SUBTASK_KINDS = ['sart-like', 'nback-like', 'flanker-like', 'wcst-like', 'pvt-like'];

// Builder helper items -> the sub-task kind they stand for.
export const HELPER_KINDS = {
  'soc-subtask-sart-like': 'sart-like',
  'soc-subtask-nback-like': 'nback-like',
  'soc-subtask-flanker-like': 'flanker-like',
  'soc-subtask-wcst-like': 'wcst-like',
  'soc-subtask-pvt-like': 'pvt-like',
};
export const HELPER_TYPES = new Set([...Object.keys(HELPER_KINDS), 'soc-dashboard-icon']);

const finite = (v) => v !== null && v !== undefined && v !== '' && Number.isFinite(Number(v));
const posInt = (v) => (finite(v) && Number(v) > 0 ? Math.floor(Number(v)) : null);

export const DEFAULT_ICONS = [
  { label: 'Documents', app: 'docs', icon_text: 'DOC', distractor: true },
  { label: 'My File', app: 'file', icon_text: 'FILE', distractor: true },
  { label: 'Recycle Bin', app: 'bin', icon_text: 'BIN', distractor: true },
];

export function desktopIcons(raw) {
  if (!Array.isArray(raw)) return DEFAULT_ICONS.map((i) => ({ ...i }));
  const icons = raw.filter((x) => x && typeof x === 'object').map((x) => ({
    label: String(x.label ?? x.name ?? 'Icon'),
    app: String(x.app ?? ''),
    icon_text: String(x.icon_text ?? ''),
    distractor: x.distractor === undefined ? true : Boolean(x.distractor),
  }));
  return icons.length ? icons : DEFAULT_ICONS.map((i) => ({ ...i }));
}

// A sub-task's own window of the session: start_at_ms (or start_delay_ms), then duration_ms or
// end_at_ms. No field set = on screen for the whole session.
export function subtaskSchedule(s) {
  const start = posInt(s.start_at_ms) ?? posInt(s.start_delay_ms);
  const duration = posInt(s.duration_ms);
  const endAt = posInt(s.end_at_ms);
  if (start === null && duration === null && endAt === null) return { has_schedule: false, start_at_ms: 0, end_at_ms: null, source: 'none' };
  const startAt = start ?? 0;
  let end = duration !== null ? startAt + duration : endAt;
  if (end !== null && end < startAt) end = startAt;
  return { has_schedule: true, start_at_ms: startAt, end_at_ms: end, source: 'explicit' };
}

// The windows of one session, each with its schedule. Without sub-tasks the session shows
// `num_tasks` (1-4) generic windows (the reference runs its log-triage task in them). Several
// windows and no schedule at all: one window at a time, the session split into equal parts.
export function planWindows(params) {
  const sessionMs = posInt(params.trial_duration_ms);
  const raw = Array.isArray(params.subtasks) ? params.subtasks.filter((x) => x && typeof x === 'object') : [];
  const n = Math.max(1, Math.min(4, posInt(params.num_tasks) ?? 1));
  let windows = raw.length
    ? raw.map((s, i) => {
      const kind = String(s.type ?? s.kind ?? '').trim().toLowerCase();
      return { index: i, kind: SUBTASK_KINDS.includes(kind) ? kind : 'sart-like', declared_kind: kind || null, title: String(s.title ?? s.name ?? (kind || `Subtask ${i + 1}`)), params: s, schedule: subtaskSchedule(s) };
    })
    : Array.from({ length: n }, (_, i) => ({ index: i, kind: 'sart-like', declared_kind: null, title: `Task ${i + 1}`, params: {}, schedule: subtaskSchedule({}) }));
  if (sessionMs && windows.length > 1 && !windows.some((w) => w.schedule.has_schedule)) {
    const k = windows.length;
    windows = windows.map((w, i) => ({
      ...w,
      schedule: { has_schedule: true, start_at_ms: Math.floor((sessionMs * i) / k), end_at_ms: Math.floor((sessionMs * (i + 1)) / k), source: 'auto_sequence' },
    }));
  }
  return windows;
}

// How many windows are on screen at once at most (sets the grid: 1 column, or 2).
export function maxOverlap(windows, sessionMs) {
  const marks = [];
  let always = 0;
  for (const w of windows) {
    if (!w.schedule.has_schedule) { always += 1; continue; }
    marks.push([w.schedule.start_at_ms, 1]);
    const end = w.schedule.end_at_ms ?? sessionMs ?? Infinity;
    if (Number.isFinite(end)) marks.push([end, -1]);
  }
  marks.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let cur = 0;
  let max = 0;
  for (const [, d] of marks) { cur += d; max = Math.max(max, cur); }
  return Math.max(1, always + max);
}

// Whether window `w` should be on screen at session time t.
export function visibleAt(w, t) {
  const s = w.schedule;
  if (!s.has_schedule) return true;
  return t >= s.start_at_ms && (s.end_at_ms === null || t < s.end_at_ms);
}

// A sub-task's own run length from its start: min_run_ms..max_run_ms (drawn once), or
// Infinity when neither is set. `defaults` is the kind's fallback pair.
export function runLimit(p, rng, defaults = [0, 0]) {
  let lo = finite(p.min_run_ms) ? Math.max(0, Math.floor(Number(p.min_run_ms))) : defaults[0];
  let hi = finite(p.max_run_ms) ? Math.max(0, Math.floor(Number(p.max_run_ms))) : defaults[1];
  if (lo > 0 && hi > 0 && hi < lo) [lo, hi] = [hi, lo];
  if (!lo && !hi) return Infinity;
  if (lo && !hi) return lo;
  if (!lo && hi) return hi;
  return rng.int(lo, hi);
}

function iconOf(it) {
  return { label: String(it.label ?? it.name ?? 'Icon'), app: String(it.app ?? 'soc'), icon_text: String(it.icon_text ?? ''), distractor: it.distractor === undefined ? true : Boolean(it.distractor) };
}

// Builder helper items (soc-subtask-*, soc-dashboard-icon) in a soc-dashboard study without a
// soc-dashboard item become one session at the first helper's place, as the reference
// Interpreter composes them; the session lasts until the last scheduled sub-task ends.
export function composeHelpers(config) {
  const timeline = Array.isArray(config.timeline) ? config.timeline : [];
  if (config.task_type !== 'soc-dashboard') return timeline;
  if (timeline.some((it) => it && it.type === 'soc-dashboard')) {
    // Top-level icons decorate the study's sessions that list no icons of their own.
    const icons = timeline.filter((it) => it && it.type === 'soc-dashboard-icon').map(iconOf);
    if (!icons.length) return timeline;
    return timeline.filter((it) => !(it && it.type === 'soc-dashboard-icon'))
      .map((it) => (it && it.type === 'soc-dashboard' && !Array.isArray(it.desktop_icons) ? { ...it, desktop_icons: icons } : it));
  }
  const at = timeline.findIndex((it) => it && HELPER_TYPES.has(it.type));
  if (at < 0) return timeline;
  const subtasks = [];
  const icons = [];
  for (const it of timeline) {
    if (!it || !HELPER_TYPES.has(it.type)) continue;
    if (it.type === 'soc-dashboard-icon') { icons.push(iconOf(it)); continue; }
    const { type, name, title, parameters: _p, data: _d, ...rest } = it;
    subtasks.push({ ...rest, type: HELPER_KINDS[type], title: String(title ?? name ?? HELPER_KINDS[type]) });
  }
  const ends = subtasks.map(subtaskSchedule).filter((s) => s.end_at_ms !== null).map((s) => s.end_at_ms);
  const session = { type: 'soc-dashboard', composed_from: timeline.filter((it) => it && HELPER_TYPES.has(it.type)).map((it) => it.type) };
  if (ends.length) session.trial_duration_ms = Math.max(...ends);
  if (subtasks.length) session.subtasks = subtasks;
  if (icons.length) session.desktop_icons = icons;
  const settings = config.soc_dashboard_settings;
  if (settings && typeof settings === 'object' && settings.num_tasks === undefined) session.num_tasks = subtasks.length || icons.length || 1;
  const out = [];
  timeline.forEach((it, i) => {
    if (i === at) out.push(session);
    if (!(it && HELPER_TYPES.has(it.type))) out.push(it);
  });
  return out;
}

// One helper item met on its own (a study that also has a soc-dashboard item): a one-window
// session that lasts the sub-task's scheduled end.
export function helperAsSession(item) {
  const { type, name, title, parameters: _p, data: _d, ...rest } = item;
  const kind = HELPER_KINDS[type];
  const sch = subtaskSchedule(rest);
  const session = { type: 'soc-dashboard', title: 'SOC Dashboard', original_type: type, subtasks: [{ ...rest, type: kind, title: String(title ?? name ?? kind) }] };
  if (sch.end_at_ms !== null) session.trial_duration_ms = sch.end_at_ms;
  return session;
}
