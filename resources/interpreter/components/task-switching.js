// task-switching-trial: a letter–number pair; a cue says which task applies. Task 1: letter
// vowel (left) / consonant (right); task 2: number odd (left) / even (right), unless the study
// defines its own token sets (scored by generators.js taskSwitchingSide, every token of a set).
// Cues: explicit (cue text in cue_font_size_px / cue_color_hex, shown for cue_duration_ms
// before the target, then cue_gap_ms), position (the target appears at the task's position),
// color (the target is drawn in the task's colour). Records switch/repeat relative to the
// previous task-switching trial of the run.

import { escapeHtml, iti, key, num, respond, stage, timing } from './common.js';
import { taskSwitchingSide } from '../generators.js';

const POSITIONS = ['left', 'right', 'top', 'bottom', 'center'];
const HEX = /^#(?:[0-9a-f]{3}|[0-9a-f]{6})$/i;

function placement(pos) {
  if (pos === 'left') return 'left:8%;top:50%;transform:translateY(-50%)';
  if (pos === 'right') return 'right:8%;top:50%;transform:translateY(-50%)';
  if (pos === 'top') return 'left:50%;top:22%;transform:translateX(-50%)';
  if (pos === 'bottom') return 'left:50%;bottom:22%;transform:translateX(-50%)';
  return 'left:50%;top:50%;transform:translate(-50%,-50%)';
}

const colour = (v, d) => (HEX.test(String(v ?? '').trim()) ? String(v).trim() : d);
const position = (v, d) => (POSITIONS.includes(String(v ?? '').toLowerCase()) ? String(v).toLowerCase() : d);

export async function run(el, p, ctx) {
  const task = Number(p.task_index) === 2 ? 2 : 1;
  const cueType = ['explicit', 'position', 'color'].includes(p.cue_type) ? p.cue_type : (p.cue_type === 'colour' ? 'color' : 'explicit');
  const cueText = String(p.cue_text || (task === 1 ? (p.task_1_cue_text || 'LETTERS') : (p.task_2_cue_text || 'NUMBERS')));
  const cueColor = colour(p.cue_color_hex, '#ffffff');
  const cueSize = num(p.cue_font_size_px, 28);
  const pos = cueType === 'position'
    ? position(task === 1 ? p.task_1_position : p.task_2_position, task === 1 ? 'top' : 'bottom')
    : position(p.stimulus_position, 'center');
  const stimColor = cueType === 'color'
    ? colour(task === 1 ? p.task_1_color_hex : p.task_2_color_hex, task === 1 ? '#4da3ff' : '#ffb84d')
    : colour(p.stimulus_color_hex, '#ffffff');
  const leftKey = key(p.left_key, 'f');
  const rightKey = key(p.right_key, 'j');
  const t1 = p.stimulus_task_1 ?? '';
  const t2 = p.stimulus_task_2 ?? '';
  const stimulus = String(p.stimulus ?? `${t1} ${t2}`).trim();
  const side = p.correct_side ?? taskSwitchingSide(p, task, task === 1 ? t1 : t2);
  const prev = ctx.state.lastTaskIndex;
  const switchType = prev === null ? 'first' : prev === task ? 'repeat' : 'switch';
  ctx.state.lastTaskIndex = task;
  const cueHtml = `<div data-role="ts-cue" style="font-size:${cueSize}px;font-weight:700;color:${escapeHtml(cueColor)}">${escapeHtml(cueText)}</div>`;
  const cueMs = cueType === 'explicit' ? num(p.cue_duration_ms, 500) : 0;
  if (cueMs > 0) {
    await ctx.timer.show(() => stage(el, cueHtml));
    await ctx.timer.wait(cueMs, ctx.signal);
    await iti(el, ctx, num(p.cue_gap_ms, 0));
  }
  // The explicit cue stays above the target as a reminder.
  const label = cueType === 'explicit' ? `<div style="position:absolute;left:50%;top:8%;transform:translateX(-50%)">${cueHtml}</div>` : '';
  const border = p.border_enabled === true || p.border_enabled === 'true' ? 'border:2px solid rgba(255,255,255,0.45);border-radius:12px;' : '';
  let box;
  const r = await respond(ctx, {
    show: () => {
      box = stage(el, `${label}<div data-role="ts-target" data-position="${pos}" style="position:absolute;${placement(pos)}">
        <div class="cf-big" data-role="ts-stimulus" style="color:${escapeHtml(stimColor)};${border}padding:12px 24px">${escapeHtml(stimulus)}</div></div>`);
    },
    hide: () => box.querySelector('[data-role="ts-stimulus"]').classList.add('cf-hidden'),
    keys: [leftKey, rightKey],
    stimulusMs: num(p.stimulus_duration_ms, 0),
    windowMs: num(p.trial_duration_ms, 2500) || null,
  });
  const resp = r.response ? r.response.key : null;
  const correctKey = side === 'left' ? leftKey : side === 'right' ? rightKey : null;
  await iti(el, ctx, num(p.iti_ms, 500));
  return {
    ...timing(r), response: resp, correct: correctKey === null ? null : resp === correctKey,
    task_index: task, trial_type: p.trial_type ?? null, stimulus, stimulus_task_1: t1 || null, stimulus_task_2: t2 || null,
    stimulus_set_mode: p.stimulus_set_mode === 'custom' ? 'custom' : 'letters_numbers', stimulus_position: pos,
    stimulus_color_hex: stimColor, cue_type: cueType, cue_text: cueText, cue_color_hex: cueColor, cue_font_size_px: cueSize,
    border_enabled: border !== '', switch_type: switchType, previous_task_index: prev, correct_response: correctKey,
  };
}
