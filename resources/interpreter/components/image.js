// image-keyboard-response: an image (decoded before onset, so the onset frame really shows it).

import { escapeHtml, mediaUrl, num, respond, stage } from './common.js';

export async function run(el, p, ctx) {
  const src = mediaUrl(p.stimulus || p.stimulus_image || '');
  const img = new Image();
  img.src = src;
  let loadError = null;
  try { await img.decode(); } catch (err) { loadError = `image could not be loaded: ${src}`; }
  const w = num(p.stimulus_width, null);
  const h = num(p.stimulus_height, null);
  if (w) img.style.width = `${w}px`;
  if (h && !(w && p.maintain_aspect_ratio !== false)) img.style.height = `${h}px`;
  const prompt = p.prompt ? `<div class="cf-prompt">${p.prompt}</div>` : '';
  let box;
  const r = await respond(ctx, {
    show: () => {
      box = stage(el, `<div><div class="cf-img"></div>${loadError ? `<p class="cf-error">${escapeHtml(loadError)}</p>` : ''}${prompt}</div>`);
      box.querySelector('.cf-img').appendChild(img);
    },
    hide: () => { img.classList.add('cf-hidden'); },
    keys: p.choices ?? 'ALL_KEYS',
    stimulusMs: num(p.stimulus_duration, 0),
    windowMs: p.trial_duration == null ? null : num(p.trial_duration, null),
    endOnResponse: p.response_ends_trial !== false || p.trial_duration == null,
  });
  return {
    stimulus_onset_ms: r.onset, stimulus_offset_ms: r.offset, rt_ms: r.rt_ms,
    response: r.response ? r.response.key : null, ended_reason: r.ended_reason,
    stimulus: src, image_error: loadError,
  };
}
