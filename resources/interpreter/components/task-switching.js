// task-switching-trial: a letter–number pair; a cue says which task applies. Task 1: letter
// vowel (left) / consonant (right); task 2: number odd (left) / even (right), unless custom.
// Records switch/repeat relative to the previous task-switching trial of the run.

import { escapeHtml, iti, key, num, respond, stage, timing } from './common.js';

export async function run(el, p, ctx) {
  const task = Number(p.task_index) === 2 ? 2 : 1;
  const cueType = ['explicit', 'position', 'color'].includes(p.cue_type) ? p.cue_type : 'explicit';
  const cueText = task === 1 ? (p.task_1_cue_text || 'LETTER') : (p.task_2_cue_text || 'NUMBER');
  const color = task === 1 ? (p.task_1_color_hex || '#4da3ff') : (p.task_2_color_hex || '#ffb84d');
  const leftKey = key(p.left_key, 'f');
  const rightKey = key(p.right_key, 'j');
  const stimulus = `${p.stimulus_task_1 ?? ''} ${p.stimulus_task_2 ?? ''}`.trim();
  const prev = ctx.state.lastTaskIndex;
  const switchType = prev === null ? 'first' : prev === task ? 'repeat' : 'switch';
  ctx.state.lastTaskIndex = task;
  const cueMs = cueType === 'explicit' ? num(p.cue_duration_ms, 500) : 0;
  if (cueMs > 0) {
    await ctx.timer.show(() => stage(el, `<div style="font-size:32px;color:${escapeHtml(color)}">${escapeHtml(cueText)}</div>`));
    await ctx.timer.wait(cueMs, ctx.signal);
    await iti(el, ctx, num(p.cue_gap_ms, 0));
  }
  const pos = cueType === 'position' ? (task === 1 ? 'margin-bottom:30vh' : 'margin-top:30vh') : '';
  const ink = cueType === 'color' ? `color:${escapeHtml(color)};` : '';
  const label = cueType === 'explicit' ? `<div style="position:absolute;top:30%;font-size:24px;opacity:.75">${escapeHtml(cueText)}</div>` : '';
  let box;
  const r = await respond(ctx, {
    show: () => { box = stage(el, `${label}<div class="cf-big" style="${ink}${pos};border:${p.border_enabled ? '2px solid #888' : 'none'};padding:12px 24px">${escapeHtml(stimulus)}</div>`); },
    hide: () => box.querySelector('.cf-big').classList.add('cf-hidden'),
    keys: [leftKey, rightKey],
    stimulusMs: num(p.stimulus_duration_ms, 0),
    windowMs: num(p.trial_duration_ms, 2500) || null,
  });
  const resp = r.response ? r.response.key : null;
  const correctKey = p.correct_side === 'left' ? leftKey : p.correct_side === 'right' ? rightKey : null;
  await iti(el, ctx, num(p.iti_ms, 500));
  return {
    ...timing(r), response: resp, correct: correctKey === null ? null : resp === correctKey,
    task_index: task, stimulus, stimulus_task_1: p.stimulus_task_1 ?? null, stimulus_task_2: p.stimulus_task_2 ?? null,
    cue_type: cueType, cue_text: cueText, switch_type: switchType, previous_task_index: prev, correct_response: correctKey,
  };
}
