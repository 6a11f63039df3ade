// SOC sub-task "nback-like": a stream of security alerts; respond when the alert's source IP (or
// username) matches the one n alerts back. go_nogo: the go key means "match"; 2afc: match_key /
// nonmatch_key on every alert. One alert every stimulus_interval_ms; an alert left without a
// response is closed when the next one appears.

import { Every, clamp01, clampNum, clockText, escapeHtml, fillPlaceholders, flag, keyLabel, normalizeKey, randomIp } from './soc-common.js';
import { runLimit } from './soc-schedule.js';
import { mean } from './soc-sart.js';

const NAMES = ['a.nguyen', 'j.smith', 'm.patel', 'r.garcia', 's.chen', 'k.johnson', 't.kim', 'l.brown'];
const DESTS = ['secure-login.example', 'admin-portal.example', 'vpn.example', 'mail.example', 'files.example', 'hr.example'];
const EVENTS = ['Failed login', 'MFA challenge', 'Password spray suspected', 'Geo anomaly', 'New device', 'Impossible travel'];

export function nbackConfig(o) {
  return {
    n: Math.round(clampNum(o.n, 1, 3, 2)),
    match_field: String(o.match_field ?? 'src_ip').toLowerCase() === 'username' ? 'username' : 'src_ip',
    paradigm: String(o.response_paradigm ?? 'go_nogo').toLowerCase() === '2afc' ? '2afc' : 'go_nogo',
    go_key: normalizeKey(o.go_key ?? 'space'),
    match_key: normalizeKey(o.match_key ?? 'j'),
    nonmatch_key: normalizeKey(o.nonmatch_key ?? 'f'),
    stimulus_interval_ms: clampNum(o.stimulus_interval_ms, 200, 10000, 1200),
    target_probability: clamp01(o.target_probability, 0.25),
    show_feedback: flag(o.show_feedback, false),
  };
}

// The next alert: a match copies the match field from n alerts back (when there are n).
export function nbackAlert(cfg, history, rng) {
  const a = { src_ip: randomIp(rng), username: rng.pick(NAMES), dest: rng.pick(DESTS), event: rng.pick(EVENTS), risk: rng.int(20, 95) };
  const canMatch = history.length >= cfg.n;
  const wantMatch = canMatch && rng() < cfg.target_probability;
  const ref = canMatch ? history[history.length - cfg.n] : null;
  if (wantMatch) a[cfg.match_field] = ref[cfg.match_field];
  // A chance repeat counts as a match too: the rule is about what is shown.
  a.is_match = Boolean(ref && ref[cfg.match_field] === a[cfg.match_field]);
  return a;
}

// go_nogo: any response says "match"; 2afc: the response names it. Returns the outcome.
export function nbackScore(isMatch, said) {
  if (said === null) return { correct: !isMatch, outcome: isMatch ? 'miss' : 'correct_rejection' };
  const saidMatch = said === 'match';
  return { correct: saidMatch === isMatch, outcome: saidMatch ? (isMatch ? 'hit' : 'false_alarm') : (isMatch ? 'miss' : 'correct_rejection') };
}

export function create(win, env) {
  const cfg = nbackConfig(win.params);
  const field = cfg.match_field === 'username' ? 'Username' : 'Source IP';
  const go = cfg.paradigm === 'go_nogo' ? keyLabel(cfg.go_key) : `${keyLabel(cfg.nonmatch_key)} (NO) / ${keyLabel(cfg.match_key)} (YES)`;
  const st = { started: false, ended: false, presented: 0, hits: 0, misses: 0, false_alarms: 0, correct_rejections: 0, omissions: 0, history: [], current: null, rts: [] };
  let cycle = null;
  let stopAt = Infinity;
  let t0 = 0;
  win.body.innerHTML = `<div class="soc-head"><div><h4>Alert correlation (${cfg.n}-back)</h4><div class="soc-hint">Press ${escapeHtml(go)} when ${escapeHtml(field)} matches ${cfg.n}-back.</div></div><div class="soc-hint" data-role="status">Ready</div></div>
    <div class="soc-card" data-role="alert"><div class="soc-row"><span class="soc-pill" data-f="clock">--:--:--</span><span class="soc-pill" data-f="disposition">Disposition: —</span></div>
    <div class="soc-grid"><div>Source IP</div><b data-f="src_ip">—</b><div>Username</div><b data-f="username">—</b><div>Destination</div><div data-f="dest">—</div><div>Event</div><div data-f="event">—</div><div>Risk</div><div data-f="risk">—</div><div>Match field</div><div>${escapeHtml(field)}</div></div></div>`;
  const status = win.body.querySelector('[data-role="status"]');
  const show = (a) => { for (const el of win.body.querySelectorAll('[data-f]')) el.textContent = el.dataset.f === 'disposition' ? `Disposition: ${a.disposition ?? '—'}` : String(a[el.dataset.f] ?? '—'); };
  const count = (o) => { st[{ hit: 'hits', miss: 'misses', false_alarm: 'false_alarms', correct_rejection: 'correct_rejections' }[o]] += 1; };

  const close = (ts) => {
    const a = st.current;
    if (!a || a.responded) return;
    const s = nbackScore(a.is_match, null);
    st.omissions += 1;
    count(s.outcome);
    env.emit(win, 'nback_no_response', { stimulus_id: a.id, is_match: a.is_match, outcome: s.outcome, correct: s.correct, match_field: cfg.match_field, paradigm: cfg.paradigm }, ts);
  };

  const finish = (type, reason, ts) => {
    if (st.ended) return;
    close(ts);
    st.ended = true;
    status.textContent = 'Complete';
    env.emit(win, type, { reason, presented: st.presented, hits: st.hits, misses: st.misses, false_alarms: st.false_alarms, correct_rejections: st.correct_rejections, omissions: st.omissions }, ts);
  };

  return {
    state: st,
    instructions: {
      title: win.params.instructions_title || 'Correlating repeat offenders',
      html: fillPlaceholders(win.params.instructions, { GO_CONTROL: go, NOGO_CONTROL: cfg.paradigm === 'go_nogo' ? 'withhold' : keyLabel(cfg.nonmatch_key), N: String(cfg.n), MATCH_FIELD: field }),
    },
    start(t, ts) {
      st.started = true;
      t0 = t;
      stopAt = runLimit(win.params, env.rng, [30000, 60000]);
      cycle = new Every(cfg.stimulus_interval_ms, t);
      status.textContent = 'Running…';
      env.emit(win, 'nback_subtask_start', { n: cfg.n, match_field: cfg.match_field, paradigm: cfg.paradigm, run_limit_ms: Number.isFinite(stopAt) ? stopAt : null }, ts);
    },
    frame(t, ts) {
      if (st.ended) return;
      if (t - t0 >= stopAt) { finish('nback_subtask_end', 'run_limit', ts); return; }
      if (!cycle.due(t)) return;
      close(ts);
      const a = nbackAlert(cfg, st.history, env.rng);
      st.presented += 1;
      Object.assign(a, { id: `ALERT-${win.index + 1}-${String(st.presented).padStart(4, '0')}`, clock: clockText(new Date()), onset: ts, responded: false });
      st.history.push(a);
      if (st.history.length > 50) st.history.shift();
      st.current = a;
      show(a); // drawn in this frame
      win.body.querySelector('[data-role="alert"]').dataset.alertId = a.id;
      env.emit(win, 'nback_present', { stimulus_id: a.id, trial_number: st.presented, is_match: a.is_match, n: cfg.n, match_field: cfg.match_field, src_ip: a.src_ip, username: a.username, dest: a.dest, event: a.event, risk: a.risk }, ts);
    },
    key(k, ev) {
      const said = cfg.paradigm === 'go_nogo' ? (k === cfg.go_key ? 'match' : null)
        : k === cfg.match_key ? 'match' : k === cfg.nonmatch_key ? 'nonmatch' : null;
      if (said === null) return false;
      const a = st.current;
      if (!st.started || st.ended || !a || a.responded) return true;
      a.responded = true;
      const s = nbackScore(a.is_match, said);
      count(s.outcome);
      const rt = ev.timeStamp - a.onset;
      st.rts.push(rt);
      a.disposition = said === 'match' ? (s.correct ? 'FLAGGED (repeat)' : 'FLAGGED (error)') : (s.correct ? 'CLEARED' : 'CLEARED (miss)');
      show(a);
      if (cfg.show_feedback) status.textContent = s.correct ? 'Correct' : 'Incorrect';
      env.emit(win, 'nback_response', { stimulus_id: a.id, response: said, response_key: k, is_match: a.is_match, outcome: s.outcome, correct: s.correct, rt_ms: rt }, ev.timeStamp);
      return true;
    },
    end(reason, ts) { finish('nback_subtask_forced_end', reason, ts); },
    summary() {
      const n = st.hits + st.misses + st.false_alarms + st.correct_rejections;
      return { presented: st.presented, hits: st.hits, misses: st.misses, false_alarms: st.false_alarms, correct_rejections: st.correct_rejections, omissions: st.omissions, accuracy: n ? (st.hits + st.correct_rejections) / n : null, mean_rt_ms: mean(st.rts) };
    },
  };
}
