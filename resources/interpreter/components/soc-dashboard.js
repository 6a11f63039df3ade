// soc-dashboard: a desktop-like dashboard whose application windows run sub-tasks (SART-, n-back-,
// flanker-, WCST- and PVT-like) on their own schedules, possibly overlapping, for
// trial_duration_ms of session time. One row per session; every sub-task event (onsets,
// responses, omissions, window changes, raw keys and clicks, icon clicks) is in `events`, each
// with its own time. Session time stands still while an instruction pop-up is up (as in the
// reference) and while the run is paused; display changes happen inside frame callbacks, so an
// onset is the timestamp of the frame that drew it.

import { clockText, normalizeKey } from './soc-common.js';
import { desktopIcons, maxOverlap, planWindows, visibleAt } from './soc-schedule.js';
import { buildShell, ensureStyles, instructionPopup, stylesReady } from './soc-shell.js';
import { summarise } from './soc-summary.js';
import * as sart from './soc-sart.js';
import * as nback from './soc-nback.js';
import * as flanker from './soc-flanker.js';
import * as wcst from './soc-wcst.js';
import * as pvt from './soc-pvt.js';

const KINDS = { 'sart-like': sart, 'nback-like': nback, 'flanker-like': flanker, 'wcst-like': wcst, 'pvt-like': pvt };
const round3 = (x) => Math.round(x * 1000) / 1000;

// Calls fn(ts) on every frame until the signal aborts: ctx.timer.every where the timing layer
// offers it (it skips paused frames), else requestAnimationFrame.
function everyFrame(ctx, fn, signal) {
  if (typeof ctx.timer.every === 'function') return ctx.timer.every((ts) => { fn(ts); return !signal.aborted; }, signal);
  const tick = (ts) => { if (!signal.aborted) { fn(ts); requestAnimationFrame(tick); } };
  requestAnimationFrame(tick);
  return null;
}

export async function run(el, p, ctx) {
  ensureStyles();
  await stylesReady();
  const sessionMs = Number(p.trial_duration_ms) > 0 ? Number(p.trial_duration_ms) : 60000;
  const endKey = normalizeKey(p.end_key ?? 'escape');
  const windows = planWindows({ ...p, trial_duration_ms: sessionMs });
  const icons = desktopIcons(p.desktop_icons);
  const cols = Math.min(2, maxOverlap(windows, sessionMs));
  const { shell, clock, iconsHost } = buildShell(el, p, windows, icons, cols);
  const events = [];
  const ac = new AbortController();
  ctx.signal.addEventListener('abort', () => ac.abort(), { once: true });
  let onset = null;
  let t = 0; // session time
  let lastTs = null;
  let active = 0;
  let endReason = null;
  let endTs = null;
  let endResponse = null;
  const popups = new Set();

  const tMs = (ts) => round3(ts - onset);
  const env = {
    rng: ctx.rng,
    tMs,
    sessionTime: () => t,
    activate: (i) => { active = i; },
    emit(win, type, fields, ts) {
      const e = { event_index: events.length, t_ms: tMs(ts), type };
      if (win) Object.assign(e, { subtask_index: win.index, subtask_title: win.title, subtask_type: win.kind, t_subtask_ms: win.startTs === null ? null : round3(ts - win.startTs) });
      for (const [k, v] of Object.entries(fields)) e[k] = typeof v === 'number' && !Number.isInteger(v) ? round3(v) : v;
      events.push(e);
    },
  };
  for (const w of windows) {
    w.startTs = null;
    w.shown = false;
    w.task = KINDS[w.kind].create(w, env);
  }

  const startWindow = (w, ts) => {
    if (w.task.state.started) return;
    w.startTs = ts;
    env.emit(w, 'subtask_start', {}, ts);
    w.task.start(t, ts);
  };
  const showWindow = (w, ts) => {
    w.shown = true;
    w.el.classList.remove('soc-hidden');
    env.emit(w, 'subtask_window_show', { scheduled_at_ms: w.schedule.start_at_ms }, ts);
    if (!windows.some((x) => x.shown && x.index === active)) active = w.index;
    const ins = w.task.instructions;
    if (w.task.state.started || !String(ins.html ?? '').trim()) { startWindow(w, ts); return; }
    const pop = instructionPopup(w, ins.title, ins.html, (ev) => {
      popups.delete(pop);
      active = w.index;
      w.pendingStart = ev.timeStamp; // starts on the next frame, which draws it
      env.emit(w, 'subtask_instructions_dismissed', {}, ev.timeStamp);
    });
    popups.add(pop);
    env.emit(w, 'subtask_instructions_shown', { instructions_title: ins.title }, ts);
  };
  const hideWindow = (w, ts, reason) => {
    w.shown = false;
    w.el.classList.add('soc-hidden');
    w.task.end(reason, ts);
    env.emit(w, 'subtask_window_hide', { reason }, ts);
    if (active === w.index) active = (windows.find((x) => x.shown) ?? { index: active }).index;
  };

  const frame = (ts) => {
    if (endReason) return;
    if (onset === null) { onset = ts; lastTs = ts; env.emit(null, 'session_start', { session_ms: sessionMs, windows: windows.length }, ts); }
    if (!popups.size) t += ts - lastTs; // session time stands still behind instruction pop-ups
    lastTs = ts;
    clock.textContent = clockText(new Date());
    for (const w of windows) {
      if (w.pendingStart !== undefined) { delete w.pendingStart; startWindow(w, ts); }
      const want = visibleAt(w, t) && t < sessionMs;
      if (want && !w.shown && !w.task.state.ended) showWindow(w, ts);
      else if (!want && w.shown) hideWindow(w, ts, 'scheduled_end');
      if (w.shown && w.task.state.started && !popups.size) w.task.frame(t, ts);
    }
    if (t >= sessionMs) finish('duration', ts);
  };

  const onKey = (e) => {
    if (e.repeat || e.ctrlKey || e.metaKey || e.altKey || onset === null || endReason) return;
    const k = normalizeKey(e.key);
    if (k === endKey) { e.preventDefault(); endResponse = k; finish('response', e.timeStamp); return; }
    const w = windows[active];
    const consumed = Boolean(w && w.shown && w.task.state.started && !w.task.state.ended && !popups.size && w.task.key(k, e));
    if (consumed) e.preventDefault();
    else env.emit(null, 'key', { key: k, active_subtask_index: active }, e.timeStamp);
  };
  const onPointer = (e) => {
    if (onset === null || endReason) return;
    env.emit(null, e.type, { x: Math.round(e.clientX), y: Math.round(e.clientY) }, e.timeStamp);
    const winEl = e.target.closest && e.target.closest('.soc-window');
    if (e.type === 'mousedown' && winEl) active = Number(winEl.dataset.subtaskIndex);
  };
  const onIcon = (e) => {
    const ico = e.target.closest('.soc-icon');
    if (!ico || p.log_icon_clicks === false || onset === null) return;
    const i = icons[Number(ico.dataset.icon)];
    env.emit(null, 'icon_click', { label: i.label, app: i.app || null, distractor: p.icon_clicks_are_distractors !== false && i.distractor }, e.timeStamp);
  };

  let resolveEnd;
  const ended = new Promise((r) => { resolveEnd = r; });
  function finish(reason, ts) {
    if (endReason) return;
    endReason = reason;
    endTs = ts;
    for (const w of windows) if (w.shown) hideWindow(w, ts, reason === 'duration' ? 'session_end' : 'end_key');
    for (const w of windows) if (!w.task.state.ended) w.task.end('session_end', ts);
    env.emit(null, 'session_end', { reason: reason === 'duration' ? 'trial_duration' : 'end_key', session_time_ms: round3(t) }, ts);
    ac.abort();
    resolveEnd();
  }

  document.addEventListener('keydown', onKey);
  for (const type of ['mousedown', 'mouseup', 'click']) shell.addEventListener(type, onPointer, true);
  iconsHost.addEventListener('click', onIcon);
  ac.signal.addEventListener('abort', () => {
    document.removeEventListener('keydown', onKey);
    resolveEnd();
  }, { once: true });
  everyFrame(ctx, frame, ac.signal);
  await ended;
  el.innerHTML = '';
  return {
    stimulus_onset_ms: onset,
    rt_ms: endResponse ? endTs - onset : null,
    response: endResponse,
    correct: null,
    ended_reason: endReason ?? 'aborted',
    session_end_reason: endReason === 'response' ? 'end_key' : endReason === 'duration' ? 'trial_duration' : 'aborted',
    session_duration_ms: round3(t),
    active_app: 'tasks',
    soc_title: String(p.title ?? 'SOC Dashboard'),
    soc_schedule: windows.map((w) => ({ subtask_index: w.index, subtask_type: w.kind, subtask_title: w.title, start_at_ms: w.schedule.start_at_ms, end_at_ms: w.schedule.end_at_ms, source: w.schedule.source })),
    original_type: p.original_type ?? null,
    composed_from: Array.isArray(p.composed_from) ? p.composed_from : null,
    subtasks_summary: summarise(windows),
    events,
  };
}
