// stroop-trial and emotional-stroop-trial: a word in an ink colour.
// color_naming: press the key of the ink colour (choice_keys[i] <-> stimuli[i]);
// congruency: press congruent_key / incongruent_key. Mouse: click a colour button.
// Emotional Stroop shows a word from the study's word lists (chosen by the compiler, see
// generators.js) and is always colour naming.

import { escapeHtml, iti, key, num, respond, stage, timing } from './common.js';
import { stroopStimuli } from '../generators.js';

export async function run(el, p, ctx, emotional = false) {
  const stimuli = stroopStimuli(p);
  const word = String(p.word ?? stimuli[0].name);
  const inkName = String(p.ink_color_name ?? stimuli[0].name).toUpperCase();
  const ink = stimuli.find((s) => s.name === inkName) || { name: inkName, color: p.ink_color_hex || inkName.toLowerCase() };
  const inkHex = p.ink_color_hex || ink.color;
  const mode = emotional ? 'color_naming' : (p.response_mode === 'congruency' ? 'congruency' : 'color_naming');
  const congruency = emotional ? null : (word.toUpperCase() === inkName ? 'congruent' : 'incongruent');
  const mouse = p.response_device === 'mouse';
  const given = Array.isArray(p.choice_keys) ? p.choice_keys : typeof p.choice_keys === 'string' ? p.choice_keys.split(',') : [];
  const choiceKeys = (given.length ? given : stimuli.map((_, i) => String(i + 1))).map((k) => key(String(k).trim()));
  const keyLabels = mode === 'congruency'
    ? [{ k: key(p.congruent_key, 'f'), name: 'congruent' }, { k: key(p.incongruent_key, 'j'), name: 'incongruent' }]
    : stimuli.map((s, i) => ({ k: choiceKeys[i], name: s.name }));
  const correctName = mode === 'congruency' ? congruency : ink.name;
  const buttons = mouse ? `<div class="cf-buttons" style="position:absolute;bottom:15%">${keyLabels.map((c, i) => `<button class="cf-button" data-choice="${i}">${escapeHtml(c.name)}</button>`).join('')}</div>` : '';
  let box;
  const r = await respond(ctx, {
    show: () => { box = stage(el, `<div class="cf-big" style="color:${escapeHtml(inkHex)};font-size:${num(p.stimulus_font_size_px, 64)}px">${escapeHtml(word)}</div>${buttons}`); },
    hide: () => box.querySelector('.cf-big').classList.add('cf-hidden'),
    keys: mouse ? null : keyLabels.map((c) => c.k).filter(Boolean),
    pointer: mouse ? { target: el, pick: (e) => { const b = e.target.closest && e.target.closest('[data-choice]'); return b ? Number(b.dataset.choice) : null; } } : null,
    stimulusMs: num(p.stimulus_duration_ms, 0),
    windowMs: num(p.trial_duration_ms, 2000) || null,
  });
  let chosen = null;
  if (r.response) chosen = r.response.kind === 'key' ? keyLabels.find((c) => c.k === r.response.key) : keyLabels[r.response.value];
  await iti(el, ctx, num(p.iti_ms, 500));
  const out = {
    ...timing(r), response: r.response ? (r.response.kind === 'key' ? r.response.key : chosen?.name ?? null) : null,
    correct: chosen ? chosen.name === correctName : false,
    word, ink_color_name: ink.name, ink_color_hex: inkHex, congruency, response_mode: mode,
    response_device: mouse ? 'mouse' : 'keyboard', correct_response: correctName, response_choice_name: chosen?.name ?? null,
  };
  if (emotional) Object.assign(out, { word_list_label: p.word_list_label ?? null, word_list_index: p.word_list_index ?? null });
  return out;
}

export const runEmotional = (el, p, ctx) => run(el, p, ctx, true);
