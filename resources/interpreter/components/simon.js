// simon-trial: a coloured circle on the left or right; respond to the colour, not the side.
// stimuli[0] is the left response, stimuli[1] the right one (as in the reference Builder).

import { escapeHtml, iti, key, num, respond, stage, timing } from './common.js';

const DEFAULT = [{ name: 'BLUE', color: '#0066ff' }, { name: 'ORANGE', color: '#ff7a18' }];

export async function run(el, p, ctx) {
  const stimuli = (Array.isArray(p.stimuli) && p.stimuli.length >= 2 ? p.stimuli : DEFAULT).map((s) => ({ name: String(s.name).toUpperCase(), color: s.color }));
  const colorName = String(p.stimulus_color_name ?? stimuli[0].name).toUpperCase();
  const idx = Math.max(0, stimuli.findIndex((s) => s.name === colorName));
  const color = p.stimulus_color_hex || stimuli[idx].color || colorName.toLowerCase();
  const side = p.stimulus_side === 'right' ? 'right' : 'left';
  const correctSide = p.correct_response_side === 'left' || p.correct_response_side === 'right' ? p.correct_response_side : (idx === 0 ? 'left' : 'right');
  const leftKey = key(p.left_key, 'f');
  const rightKey = key(p.right_key, 'j');
  const d = num(p.circle_diameter_px, 140);
  const mouse = p.response_device === 'mouse';
  let box;
  const r = await respond(ctx, {
    show: () => {
      box = stage(el, `<div class="cf-simon" style="position:absolute;top:50%;${side}:22%;width:${d}px;height:${d}px;margin-top:${-d / 2}px;border-radius:50%;background:${escapeHtml(color)}"></div>
        <div class="cf-fixation">+</div>`);
    },
    hide: () => box.querySelector('.cf-simon').classList.add('cf-hidden'),
    keys: mouse ? null : [leftKey, rightKey],
    pointer: mouse ? { target: el, pick: (e) => (e.clientX < window.innerWidth / 2 ? 'left' : 'right') } : null,
    stimulusMs: num(p.stimulus_duration_ms, 0),
    windowMs: num(p.trial_duration_ms, 1500) || null,
  });
  let responseSide = null;
  if (r.response) responseSide = r.response.kind === 'key' ? (r.response.key === leftKey ? 'left' : 'right') : r.response.value;
  await iti(el, ctx, num(p.iti_ms, 500));
  return {
    ...timing(r), response: r.response ? (r.response.kind === 'key' ? r.response.key : responseSide) : null,
    correct: responseSide === correctSide,
    stimulus_side: side, stimulus_color_name: stimuli[idx].name, stimulus_color_hex: color,
    correct_response_side: correctSide, response_side: responseSide,
    congruency: side === correctSide ? 'congruent' : 'incongruent', response_device: mouse ? 'mouse' : 'keyboard',
  };
}
