// flanker-trial: five symbols in a row; respond to the direction of the centre one.

import { bool, escapeHtml, iti, key, num, respond, stage, timing } from './common.js';

export function flankerString(p) {
  const dir = p.target_direction === 'right' ? 'right' : 'left';
  const other = dir === 'left' ? 'right' : 'left';
  const cong = ['congruent', 'incongruent', 'neutral'].includes(p.congruency) ? p.congruency : 'congruent';
  let sym;
  if (p.stimulus_type === 'letters') {
    sym = { left: p.target_stimulus || 'H', right: p.distractor_stimulus || 'S' };
  } else {
    sym = { left: '←', right: '→' };
  }
  const neutral = p.neutral_stimulus || (p.stimulus_type === 'letters' ? 'X' : '–');
  const flank = cong === 'congruent' ? sym[dir] : cong === 'incongruent' ? sym[other] : neutral;
  return { text: `${flank}${flank}${sym[dir]}${flank}${flank}`, dir, cong };
}

export async function run(el, p, ctx) {
  const { text, dir, cong } = flankerString(p);
  const leftKey = key(p.left_key, 'f');
  const rightKey = key(p.right_key, 'j');
  const correctKey = dir === 'left' ? leftKey : rightKey;
  const dot = bool(p.show_fixation_dot, false) ? '<div class="cf-fixation" style="position:absolute;font-size:20px;margin-top:90px">•</div>' : '';
  let box;
  const r = await respond(ctx, {
    show: () => { box = stage(el, `<div class="cf-flanker">${escapeHtml(text)}</div>${dot}`); },
    hide: () => box.querySelector('.cf-flanker').classList.add('cf-hidden'),
    keys: [leftKey, rightKey],
    stimulusMs: num(p.stimulus_duration_ms, 800),
    windowMs: num(p.trial_duration_ms, 1500),
  });
  const response = r.response ? r.response.key : null;
  await iti(el, ctx, num(p.iti_ms, 500), bool(p.show_fixation_cross_between_trials, false));
  return {
    ...timing(r), response, correct: response === correctKey,
    stimulus: text, stimulus_type: p.stimulus_type || 'arrows', target_direction: dir, congruency: cong, correct_key: correctKey,
  };
}
