// html-keyboard-response / instructions: an HTML (or plain text) screen ended by a key.

import { escapeHtml, looksLikeHtml, num, respond, stage } from './common.js';
import { truncateText } from '../sealing.js';

export async function run(el, p, ctx) {
  const html = looksLikeHtml(p.stimulus) ? String(p.stimulus) : escapeHtml(p.stimulus ?? '');
  const align = p.text_align ? ` style="text-align:${escapeHtml(p.text_align)}"` : '';
  const prompt = p.prompt ? `<div class="cf-prompt">${p.prompt}</div>` : '';
  let box;
  const endOnResponse = p.response_ends_trial !== false || p.trial_duration == null;
  const r = await respond(ctx, {
    show: () => { box = stage(el, `<div><div class="cf-screen ${looksLikeHtml(p.stimulus) ? 'cf-html' : ''}"${align}>${html}</div>${prompt}</div>`); },
    hide: () => { const s = box.querySelector('.cf-screen'); if (s) s.classList.add('cf-hidden'); },
    keys: p.choices ?? 'ALL_KEYS',
    stimulusMs: num(p.stimulus_duration, 0),
    windowMs: p.trial_duration == null ? null : num(p.trial_duration, null),
    endOnResponse,
  });
  return {
    stimulus_onset_ms: r.onset, stimulus_offset_ms: r.offset, rt_ms: r.rt_ms,
    response: r.response ? r.response.key : null, ended_reason: r.ended_reason,
    stimulus: truncateText(p.stimulus, 2000), // never cut between the halves of a surrogate pair
  };
}
