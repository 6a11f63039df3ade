// N-back. Trial-based (`run`): one trial per item of the compiled (seeded) sequence; the item
// shows for stimulus_duration_ms, the window is trial_duration_ms (at least stimulus + ISI);
// the first response counts. Continuous (`runStream`): the whole sequence as one stream, item
// onsets every SOA (trial_duration_ms, else stimulus + ISI) counted in frames from the first
// onset, so the SOA does not drift; a response belongs to the item on screen when it was made.
// 2afc: match/non-match keys; go_nogo: go on a match, withhold otherwise.

import { childController, waitForKey } from '../input.js';
import { bool, escapeHtml, feedback, key, num, respond, stage, timing } from './common.js';

function keysOf(p) {
  const paradigm = p.response_paradigm === '2afc' ? '2afc' : 'go_nogo';
  const goKey = key(p.go_key, 'space');
  // As in the reference, 2afc without a match key uses the go key for "match".
  const matchKey = p.match_key === undefined || p.match_key === null || String(p.match_key).trim() === '' ? goKey : key(p.match_key, 'j');
  return { paradigm, goKey, matchKey, nonKey: key(p.nonmatch_key, 'f') };
}

function isCorrect(k, response, isMatch) {
  if (k.paradigm === '2afc') return response === null ? false : (response === k.matchKey) === Boolean(isMatch);
  return isMatch ? response === k.goKey : response === null;
}

function tokenHtml(p, token) {
  return p.render_mode === 'custom_html' && p.stimulus_template_html
    ? String(p.stimulus_template_html).replace(/\{\{\s*TOKEN\s*\}\}/g, escapeHtml(token))
    : `<div class="cf-big">${escapeHtml(token)}</div>`;
}

export async function run(el, p, ctx) {
  const k = keysOf(p);
  const stimMs = num(p.stimulus_duration_ms, 500);
  const windowMs = Math.max(num(p.trial_duration_ms, 0), stimMs + num(p.isi_duration_ms, 700));
  const token = String(p.token);
  const isi = bool(p.show_fixation_cross_between_trials, false) ? '<div class="cf-fixation">+</div>' : '';
  let box;
  const r = await respond(ctx, {
    show: () => { box = stage(el, `<div data-role="nback">${tokenHtml(p, token)}</div>`); },
    hide: () => { box.innerHTML = isi; },
    keys: k.paradigm === '2afc' ? [k.matchKey, k.nonKey] : [k.goKey],
    stimulusMs: stimMs,
    windowMs,
    endOnResponse: false,
  });
  const resp = r.response ? r.response.key : null;
  const correct = isCorrect(k, resp, p.is_match);
  if (bool(p.show_feedback, false)) {
    await feedback(el, ctx, correct ? '<span style="color:#a5d6a7">✓</span>' : '<span style="color:#ff8a80">✗</span>', num(p.feedback_duration_ms, 250));
  }
  return {
    ...timing(r), response: resp, correct, token, n: num(p.n, 2), is_match: Boolean(p.is_match),
    response_paradigm: k.paradigm, stimulus_frames: ctx.timer.frames(stimMs),
  };
}

export async function runStream(el, p, ctx) {
  const k = keysOf(p);
  const seq = Array.isArray(p.sequence) ? p.sequence : [];
  const trialMs = num(p.trial_duration_ms, 0);
  const soa = trialMs > 0 ? trialMs : num(p.stimulus_duration_ms, 500) + num(p.isi_duration_ms, 700);
  const stimMs = Math.min(num(p.stimulus_duration_ms, 500), soa);
  const showFeedback = bool(p.show_feedback, false);
  const feedbackMs = num(p.feedback_duration_ms, 250);
  const fixation = bool(p.show_fixation_cross_between_trials, false);
  const box = stage(el, `<div data-role="nback-stream" style="text-align:center">
      <div data-role="nback-item"></div><div class="cf-fixation" data-role="nback-fix" style="visibility:hidden">+</div>
      <div class="cf-feedback" data-role="nback-feedback" style="left:0;right:0"></div></div>`);
  const itemEl = box.querySelector('[data-role="nback-item"]');
  const fixEl = box.querySelector('[data-role="nback-fix"]');
  const fbEl = box.querySelector('[data-role="nback-feedback"]');
  const events = seq.map((s, i) => ({ index: i, token: String(s.token), is_match: Boolean(s.is_match), onset_ms: null, offset_ms: null, response: null, rt_ms: null, correct: null }));
  const onsets = [];
  let current = -1;
  const ac = childController(ctx.signal);
  const keys = k.paradigm === '2afc' ? [k.matchKey, k.nonKey] : [k.goKey];
  const listen = () => waitForKey(keys, ac.signal).then((r) => {
    // The event may have been queued before the next item's frame: attribute it by time.
    let i = current;
    while (i > 0 && r.timeStamp < onsets[i]) i -= 1;
    const e = events[i];
    if (e && e.response === null && r.timeStamp >= onsets[i]) { e.response = r.key; e.rt_ms = r.timeStamp - onsets[i]; }
    listen();
  });
  const show = (i) => {
    current = i;
    itemEl.dataset.index = String(i);
    itemEl.innerHTML = tokenHtml(p, events[i].token);
    itemEl.style.visibility = 'visible';
    fixEl.style.visibility = 'hidden';
  };
  const judge = (i) => {
    const e = events[i];
    e.correct = isCorrect(k, e.response, e.is_match);
    if (showFeedback && feedbackMs > 0) {
      fbEl.innerHTML = e.correct ? '<span style="color:#a5d6a7">Correct</span>' : '<span style="color:#ff8a80">Incorrect</span>';
    }
  };
  let t0 = null;
  let end = null;
  if (events.length) {
    t0 = await ctx.timer.show(() => show(0));
    onsets[0] = t0;
    listen();
    for (let i = 0; i < events.length; i++) {
      const itemStart = i * soa;
      // Within an item: the stimulus goes at stimMs, feedback about the previous item at feedbackMs.
      const steps = [];
      if (stimMs < soa) steps.push([stimMs, 'hide']);
      if (showFeedback && i > 0 && feedbackMs > 0 && feedbackMs < soa) steps.push([feedbackMs, 'clear']);
      steps.sort((a, b) => a[0] - b[0]);
      for (const [at, what] of steps) {
        const ts = await ctx.timer.until(t0, itemStart + at, ac.signal);
        if (what === 'hide') {
          itemEl.style.visibility = 'hidden';
          if (fixation) fixEl.style.visibility = 'visible';
          events[i].offset_ms = ts;
        } else {
          fbEl.innerHTML = '';
        }
      }
      end = await ctx.timer.until(t0, (i + 1) * soa, ac.signal);
      if (events[i].offset_ms === null) events[i].offset_ms = end;
      judge(i);
      if (i + 1 < events.length) { show(i + 1); onsets[i + 1] = end; }
    }
  }
  ac.abort();
  el.innerHTML = '';
  events.forEach((e, i) => { e.onset_ms = ctx.run.rel(onsets[i]); e.offset_ms = ctx.run.rel(e.offset_ms); });
  const scored = events.filter((e) => e.correct !== null);
  return {
    stimulus_onset_ms: t0, stimulus_offset_ms: end, rt_ms: null,
    response: null, correct: null, ended_reason: 'duration',
    n: num(p.n, 2), length: events.length, soa_ms: soa, stimulus_duration_ms: stimMs, response_paradigm: k.paradigm,
    events, correct_count: scored.filter((e) => e.correct).length, incorrect_count: scored.filter((e) => !e.correct).length,
    responded_count: events.filter((e) => e.response !== null).length,
  };
}
