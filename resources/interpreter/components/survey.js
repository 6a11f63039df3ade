// survey-response (and mw-probe): likert, radio, checkbox, slider, number and text questions,
// required answers and visible_if conditions. The response is {question_id: answer}.
// timeout_ms ends the page; with nothing answered it ends only if allow_empty_on_timeout
// (otherwise the participant is asked for at least one answer, as in the reference).
// mw-probe rows also record the probe's label and title, where the compiler placed it inside a
// block (schedule.js), and whether a DRT was running (it is paused around the probe).

import { childController } from '../input.js';
import { escapeHtml, num } from './common.js';

const opt = (o) => (o && typeof o === 'object' ? { value: o.value ?? o.label, label: String(o.label ?? o.value) } : { value: o, label: String(o) });

function questionHtml(q, i) {
  const id = escapeHtml(q.id);
  const name = `q${i}`;
  const req = q.required ? ' <span aria-label="required">*</span>' : '';
  let input = '';
  const options = (Array.isArray(q.options) ? q.options : []).map(opt);
  if (q.type === 'likert' || q.type === 'radio') {
    input = `<div class="cf-options">${options.map((o, j) => `<label><input type="radio" name="${name}" value="${j}"> ${escapeHtml(o.label)}</label>`).join('')}</div>`;
  } else if (q.type === 'checkbox') {
    input = `<div class="cf-options">${options.map((o, j) => `<label><input type="checkbox" name="${name}" value="${j}"> ${escapeHtml(o.label)}</label>`).join('')}</div>`;
  } else if (q.type === 'slider') {
    const min = num(q.min, 0); const max = num(q.max, 100); const step = num(q.step, 1);
    input = `<input type="range" name="${name}" min="${min}" max="${max}" step="${step}" value="${(min + max) / 2}"> <output>–</output>`;
  } else if (q.type === 'number') {
    input = `<input type="number" name="${name}"${q.min !== undefined ? ` min="${num(q.min)}"` : ''}${q.max !== undefined ? ` max="${num(q.max)}"` : ''}${q.step !== undefined ? ` step="${num(q.step)}"` : ''}>`;
  } else {
    input = q.multiline ? `<textarea name="${name}" rows="3" cols="50"></textarea>` : `<input type="text" name="${name}" size="40" placeholder="${escapeHtml(q.placeholder ?? '')}">`;
  }
  return `<div class="cf-question" data-qid="${id}" data-index="${i}"><div class="cf-q-prompt">${q.prompt ?? escapeHtml(q.id)}${req}</div>${input}</div>`;
}

// Current answer of question i, or undefined if unanswered.
function answer(form, q, i) {
  const name = `q${i}`;
  const options = (Array.isArray(q.options) ? q.options : []).map(opt);
  if (q.type === 'likert' || q.type === 'radio') {
    const el = form.querySelector(`input[name="${name}"]:checked`);
    return el ? options[Number(el.value)].value : undefined;
  }
  if (q.type === 'checkbox') {
    const els = [...form.querySelectorAll(`input[name="${name}"]:checked`)];
    return els.length ? els.map((e) => options[Number(e.value)].value) : undefined;
  }
  const el = form.querySelector(`[name="${name}"]`);
  if (q.type === 'slider') return el.dataset.touched ? Number(el.value) : undefined;
  if (q.type === 'number') return el.value === '' ? undefined : Number(el.value);
  return el.value.trim() === '' ? undefined : el.value;
}

export function isVisible(q, answers) {
  const cond = q.visible_if;
  if (!cond || !cond.question_id) return true;
  const a = answers[cond.question_id];
  if (a === undefined) return false;
  if (Array.isArray(a)) return a.map(String).includes(String(cond.equals));
  return String(a) === String(cond.equals);
}

export async function run(el, p, ctx) {
  const questions = (Array.isArray(p.questions) ? p.questions : []).filter((q) => q && q.id);
  const title = p.title ? `<h2>${escapeHtml(p.title)}</h2>` : '';
  const intro = p.instructions ? `<div>${p.instructions}</div>` : '';
  const ac = childController(ctx.signal);
  let form;
  const onset = await ctx.timer.show(() => {
    el.innerHTML = `<div class="cf-form" data-role="survey">${title}${intro}${questions.map(questionHtml).join('')}
      <p class="cf-missing-msg" style="color:#ff8a80" hidden>Please answer the questions marked in red.</p>
      <div class="cf-buttons"><button type="button" class="cf-button" data-role="submit">${escapeHtml(p.submit_label || 'Continue')}</button></div></div>`;
    form = el.firstElementChild;
  });
  const collect = () => {
    const answers = {};
    questions.forEach((q, i) => {
      if (!isVisible(q, answers)) return; // conditions refer to earlier questions
      const a = answer(form, q, i);
      if (a !== undefined) answers[q.id] = a;
    });
    return answers;
  };
  const refresh = () => {
    const answers = collect();
    const shown = {};
    questions.forEach((q, i) => {
      const visible = isVisible(q, { ...answers, ...shown });
      form.querySelector(`[data-index="${i}"]`).hidden = !visible;
      if (visible && answers[q.id] !== undefined) shown[q.id] = answers[q.id];
    });
  };
  form.addEventListener('input', (e) => {
    if (e.target.type === 'range') { e.target.dataset.touched = '1'; e.target.nextElementSibling.textContent = e.target.value; }
    refresh();
  });
  refresh();
  const submitted = new Promise((resolve) => {
    form.querySelector('[data-role="submit"]').addEventListener('click', (e) => {
      const answers = collect();
      const missing = questions.map((q, i) => [q, i]).filter(([q]) => q.required && isVisible(q, answers) && answers[q.id] === undefined);
      form.querySelectorAll('.cf-question').forEach((d) => d.classList.remove('cf-missing'));
      missing.forEach(([, i]) => form.querySelector(`[data-index="${i}"]`).classList.add('cf-missing'));
      form.querySelector('.cf-missing-msg').hidden = missing.length === 0;
      if (!missing.length) resolve({ timeStamp: e.timeStamp, answers });
    }, { signal: ac.signal });
  });
  const timeoutMs = num(p.timeout_ms, null);
  const allowEmpty = p.allow_empty_on_timeout === true || p.allow_empty_on_timeout === 'true';
  const waits = [submitted];
  if (timeoutMs) {
    waits.push(ctx.timer.until(onset, timeoutMs, ac.signal).then((ts) => {
      const answers = collect();
      if (allowEmpty || Object.keys(answers).length) return { timeout: true, timeStamp: ts, answers };
      const msg = form.querySelector('.cf-missing-msg');
      msg.textContent = 'Time is up. Please give at least one answer to continue.';
      msg.hidden = false;
      return new Promise(() => {}); // only the submit button ends the page now
    }));
  }
  const r = await Promise.race(waits);
  ac.abort();
  const row = {
    stimulus_onset_ms: onset, rt_ms: r.timeout ? null : r.timeStamp - onset, response: r.answers,
    ended_reason: r.timeout ? 'timeout' : 'response', correct: null,
    questions_shown: Object.keys(r.answers).length,
  };
  if (ctx.spec && ctx.spec.component_type === 'mw-probe') Object.assign(row, probeFields(p, ctx.spec.meta || {}));
  return row;
}

function probeFields(p, meta) {
  const title = String(p.title || 'Thought probe');
  return {
    mw_probe_label: String(meta.label ?? p.title ?? ''), mw_probe_title: title,
    mw_probe_placement: meta.mw_probe_placement ?? 'authored', mw_probe_target_ms: meta.mw_probe_target_ms ?? null,
    mw_probe_block_index: meta.mw_probe_block_index ?? null, mw_probe_after_block_trial: meta.mw_probe_after_block_trial ?? null,
    min_interval_ms: p.min_interval_ms ?? null, max_interval_ms: p.max_interval_ms ?? null,
    drt_running_at_probe_start: p.drt_running_at_probe_start === true,
  };
}
