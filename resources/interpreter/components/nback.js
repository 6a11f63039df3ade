// Trial-based n-back: one trial per item of the compiled (seeded) sequence. Fixed pacing:
// the item shows for stimulus_duration_ms, the window is trial_duration_ms (at least
// stimulus + ISI); the first response counts. 2afc: match/non-match keys; go_nogo: go on a match.

import { bool, escapeHtml, feedback, key, num, respond, stage, timing } from './common.js';

export async function run(el, p, ctx) {
  const paradigm = p.response_paradigm === '2afc' ? '2afc' : 'go_nogo';
  const matchKey = key(p.match_key, 'j');
  const nonKey = key(p.nonmatch_key, 'f');
  const goKey = key(p.go_key, 'space');
  const stimMs = num(p.stimulus_duration_ms, 500);
  const windowMs = Math.max(num(p.trial_duration_ms, 0), stimMs + num(p.isi_duration_ms, 700));
  const token = String(p.token);
  const content = p.render_mode === 'custom_html' && p.stimulus_template_html
    ? String(p.stimulus_template_html).replace(/\{\{\s*TOKEN\s*\}\}/g, escapeHtml(token))
    : `<div class="cf-big">${escapeHtml(token)}</div>`;
  const isi = bool(p.show_fixation_cross_between_trials, false) ? '<div class="cf-fixation">+</div>' : '';
  let box;
  const r = await respond(ctx, {
    show: () => { box = stage(el, `<div data-role="nback">${content}</div>`); },
    hide: () => { box.innerHTML = isi; },
    keys: paradigm === '2afc' ? [matchKey, nonKey] : [goKey],
    stimulusMs: stimMs,
    windowMs,
    endOnResponse: false,
  });
  const resp = r.response ? r.response.key : null;
  const correct = paradigm === '2afc' ? (resp === null ? false : (resp === matchKey) === Boolean(p.is_match)) : (resp !== null) === Boolean(p.is_match);
  if (bool(p.show_feedback, false)) {
    await feedback(el, ctx, correct ? '<span style="color:#a5d6a7">✓</span>' : '<span style="color:#ff8a80">✗</span>', num(p.feedback_duration_ms, 250));
  }
  return {
    ...timing(r), response: resp, correct, token, n: num(p.n, 2), is_match: Boolean(p.is_match),
    response_paradigm: paradigm, stimulus_frames: ctx.timer.frames(stimMs),
  };
}
