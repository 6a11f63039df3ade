// sart-trial: a digit, then a mask; press the go key for every digit except the no-go digit.
// Fixed pacing: the trial always lasts its response window, a response does not end it.

import { iti, key, num, respond, stage, timing } from './common.js';

export async function run(el, p, ctx) {
  const digit = num(p.digit, 1);
  const nogo = num(p.nogo_digit, 3);
  const isNogo = digit === nogo;
  const stimMs = num(p.stimulus_duration_ms, 250);
  const maskMs = num(p.mask_duration_ms, 900);
  const windowMs = num(p.trial_duration_ms, stimMs + maskMs) || stimMs + maskMs;
  let box;
  const r = await respond(ctx, {
    show: () => { box = stage(el, '<div class="cf-big" data-role="digit"></div>'); box.firstElementChild.textContent = String(digit); },
    hide: () => { box.firstElementChild.textContent = '⊗'; },
    keys: [key(p.go_key, 'space')],
    stimulusMs: stimMs,
    windowMs,
    endOnResponse: false,
  });
  const responded = r.response !== null;
  await iti(el, ctx, num(p.iti_ms, 0));
  return {
    ...timing(r), response: responded ? r.response.key : null, correct: isNogo ? !responded : responded,
    digit, nogo_digit: nogo, is_nogo: isNogo,
  };
}
