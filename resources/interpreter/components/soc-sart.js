// SOC sub-task "sart-like": a scrolling log feed (go/no-go). Each new entry is one trial; the go
// response (key or the row's button) applies to the newest entry. Harmful ("target") and benign
// ("distractor") destinations come from the config lists; go_condition picks which one is a go.

import { Every, clamp01, clampNum, clockText, escapeHtml, fillPlaceholders, flag, keyLabel, normalizeKey, randomIp, tokenList } from './soc-common.js';
import { runLimit } from './soc-schedule.js';

const COUNTS = { hit: 'hits', miss: 'misses', false_alarm: 'false_alarms', correct_rejection: 'correct_rejections' };
const ACTIONS = ['DNS query', 'TLS handshake', 'HTTP GET', 'HTTP POST', 'Auth attempt', 'File fetch'];

export function sartConfig(o) {
  let go = String(o.go_condition ?? 'block').trim().toLowerCase();
  if (go === 'target') go = 'allow';
  if (go === 'distractor') go = 'block';
  return {
    visible_entries: Math.round(clampNum(o.visible_entries, 3, 25, 8)),
    scroll_interval_ms: clampNum(o.scroll_interval_ms, 100, 10000, 900),
    response_device: String(o.response_device ?? 'keyboard').toLowerCase() === 'mouse' ? 'mouse' : 'keyboard',
    go_key: normalizeKey(o.go_key ?? 'space'),
    go_button: String(o.go_button ?? 'action').toLowerCase() === 'change' ? 'Change' : 'Action',
    go_condition: go === 'allow' ? 'allow' : 'block',
    show_markers: flag(o.show_markers, false),
    highlight: flag(o.highlight_subdomains, true),
    harmful_color: String(o.harmful_highlight_color ?? o.target_highlight_color ?? '#ff4d4d'),
    benign_color: String(o.benign_highlight_color ?? o.distractor_highlight_color ?? '#3dd6ff'),
    harmful: tokenList(o.harmful_subdomains ?? o.target_subdomains),
    benign: tokenList(o.benign_subdomains ?? o.distractor_subdomains),
    neutral: tokenList(o.neutral_subdomains),
    p_harmful: clamp01(o.harmful_probability ?? o.target_probability, 0.25),
    p_benign: clamp01(o.benign_probability ?? o.distractor_probability, 0.15),
    include_neutral: flag(o.include_neutral_entries, true),
    max_entries: Number(o.subtask_duration_entries) > 0 ? Math.floor(Number(o.subtask_duration_entries)) : null,
  };
}

// The class of the next log entry and its destination.
export function sartEntry(cfg, rng) {
  const r = rng();
  let cls = 'neutral';
  if (cfg.include_neutral) {
    if (r < cfg.p_harmful) cls = 'harmful';
    else if (r < cfg.p_harmful + cfg.p_benign) cls = 'benign';
  } else {
    const total = cfg.p_harmful + cfg.p_benign;
    cls = total > 0 && r >= cfg.p_harmful / total ? 'benign' : 'harmful';
  }
  const list = cls === 'harmful' ? cfg.harmful : cls === 'benign' ? cfg.benign : cfg.neutral;
  if (!list.length) {
    // No list for this class: a neutral entry (the reference does the same).
    const made = `${rng.pick(['cdn', 'static', 'img', 'api'])}.${rng.pick(['news', 'media', 'shop', 'docs'])}.example`;
    return { cls: 'neutral', dest: cfg.neutral.length ? rng.pick(cfg.neutral) : made };
  }
  return { cls, dest: rng.pick(list) };
}

// Go/no-go outcome of one entry: go_condition "block" = go on harmful, "allow" = go on benign.
export function sartOutcome(cfg, cls, responded) {
  const go = cfg.go_condition === 'allow' ? cls === 'benign' : cls === 'harmful';
  const outcome = responded ? (go ? 'hit' : 'false_alarm') : (go ? 'miss' : 'correct_rejection');
  return { should_respond: go, outcome, correct: outcome === 'hit' || outcome === 'correct_rejection' };
}

export function create(win, env) {
  const cfg = sartConfig(win.params);
  const control = cfg.response_device === 'keyboard' ? keyLabel(cfg.go_key) : cfg.go_button;
  const st = { started: false, ended: false, entries: [], presented: 0, hits: 0, misses: 0, false_alarms: 0, correct_rejections: 0, rts: [] };
  let cycle = null;
  let stopAt = Infinity;
  let t0 = 0;
  const rule = cfg.go_condition === 'allow' ? 'GO on BENIGN entries; withhold on HARMFUL.' : 'GO on HARMFUL entries; withhold on BENIGN.';
  win.body.innerHTML = `<div class="soc-head"><div><h4>Log triage (Go/No-Go)</h4><div class="soc-hint">${escapeHtml(rule)} Go: <b>${escapeHtml(control)}</b></div></div><div class="soc-hint" data-role="status">Ready</div></div>
    <table class="soc-log"><thead><tr><th>Time</th><th>Src IP</th><th>Dest</th><th>Event</th><th>Action</th>${cfg.show_markers ? '<th>Tag</th>' : ''}</tr></thead><tbody></tbody></table>`;
  const tbody = win.body.querySelector('tbody');
  const status = win.body.querySelector('[data-role="status"]');

  const render = () => {
    const last = st.entries[st.entries.length - 1];
    tbody.innerHTML = st.entries.map((e) => {
      const tint = cfg.highlight && e.cls !== 'neutral' ? ` style="background:${escapeHtml(e.cls === 'harmful' ? cfg.harmful_color : cfg.benign_color)}33"` : '';
      const current = e === last;
      const action = e.responded ? (cfg.go_condition === 'block' ? 'BLOCK' : 'ALLOW') : '—';
      const button = cfg.response_device === 'mouse' && current && !e.responded ? ` <button type="button" class="soc-go" data-entry="${e.id}">${escapeHtml(cfg.go_button)}</button>` : '';
      return `<tr class="${current ? 'soc-current' : ''}" data-entry-id="${e.id}" data-class="${e.cls}"${tint}><td>${e.clock}</td><td>${e.src_ip}</td><td>${escapeHtml(e.dest)}</td><td>${e.action}</td><td><span class="soc-tag">${action}</span>${button}</td>${cfg.show_markers ? `<td><span class="soc-tag">${e.cls.toUpperCase()}</span></td>` : ''}</tr>`;
    }).join('');
  };

  const finalize = (e, reason, ts) => {
    if (!e || e.final) return;
    e.final = true;
    const o = sartOutcome(cfg, e.cls, e.responded);
    st[COUNTS[o.outcome]] += 1;
    env.emit(win, 'sart_trial', {
      entry_id: e.id, trial_number: e.n, entry_class: e.cls, entry_class_legacy: e.cls === 'harmful' ? 'target' : e.cls === 'benign' ? 'distractor' : 'neutral',
      should_respond: o.should_respond, is_nogo: !o.should_respond, responded: e.responded, response_device: e.device, outcome: o.outcome, correct: o.correct,
      rt_ms: e.rt_ms, present_t_ms: e.t_ms, ended_reason: reason, dest: e.dest, src_ip: e.src_ip, action: e.action,
    }, ts);
  };

  const respond = (device, ts, keyName) => {
    const e = st.entries[st.entries.length - 1];
    if (!st.started || st.ended || !e || e.responded) return false;
    e.responded = true;
    e.device = device;
    e.rt_ms = ts - e.onset;
    st.rts.push(e.rt_ms);
    env.emit(win, 'sart_response', { entry_id: e.id, trial_number: e.n, response_device: device, response_key: keyName, rt_ms: e.rt_ms }, ts);
    finalize(e, 'response', ts);
    render();
    return true;
  };

  win.body.addEventListener('click', (ev) => {
    const b = ev.target.closest('button.soc-go');
    if (b && cfg.response_device === 'mouse') respond('mouse', ev.timeStamp, null);
  });

  const finish = (type, reason, ts) => {
    if (st.ended) return;
    finalize(st.entries[st.entries.length - 1], reason === 'scheduled_end' ? 'forced_end' : 'subtask_end', ts);
    st.ended = true;
    status.textContent = 'Complete';
    env.emit(win, type, { reason, presented: st.presented, hits: st.hits, misses: st.misses, false_alarms: st.false_alarms, correct_rejections: st.correct_rejections }, ts);
  };

  return {
    state: st,
    instructions: {
      title: win.params.instructions_title || 'Filtering harmful logins',
      html: fillPlaceholders(win.params.instructions, {
        GO_CONTROL: control,
        HARMFUL: cfg.harmful.join(', '), BENIGN: cfg.benign.join(', '), TARGETS: cfg.harmful.join(', '), DISTRACTORS: cfg.benign.join(', '),
      }),
    },
    start(t, ts) {
      st.started = true;
      t0 = t;
      stopAt = cfg.max_entries ? Infinity : runLimit(win.params, env.rng, [30000, 60000]);
      cycle = new Every(cfg.scroll_interval_ms, t);
      status.textContent = 'Running…';
      env.emit(win, 'sart_subtask_start', { go_condition: cfg.go_condition, go_key: cfg.go_key, response_device: cfg.response_device, run_limit_ms: Number.isFinite(stopAt) ? stopAt : null }, ts);
    },
    frame(t, ts) {
      if (st.ended) return;
      if (t - t0 >= stopAt || (cfg.max_entries && st.presented >= cfg.max_entries && cycle.next <= t)) { finish('sart_subtask_end', cfg.max_entries ? 'entry_limit' : 'run_limit', ts); return; }
      if (!cycle.due(t)) return;
      finalize(st.entries[st.entries.length - 1], 'next_entry', ts);
      const { cls, dest } = sartEntry(cfg, env.rng);
      st.presented += 1;
      const e = { id: `LOG-${win.index + 1}-${String(st.presented).padStart(4, '0')}`, n: st.presented, cls, dest, src_ip: randomIp(env.rng), action: env.rng.pick(ACTIONS), clock: clockText(new Date()), onset: ts, t_ms: env.tMs(ts), responded: false, device: null, rt_ms: null };
      st.entries.push(e);
      while (st.entries.length > cfg.visible_entries) finalize(st.entries.shift(), 'buffer_rolloff', ts);
      render(); // drawn in this frame: ts is the entry's onset
      env.emit(win, 'sart_present', { entry_id: e.id, trial_number: e.n, entry_class: cls, should_respond: sartOutcome(cfg, cls, false).should_respond, dest, src_ip: e.src_ip, action: e.action }, ts);
    },
    key(k, ev) {
      if (cfg.response_device !== 'keyboard' || k !== cfg.go_key) return false;
      respond('keyboard', ev.timeStamp, k);
      return true;
    },
    end(reason, ts) { finish('sart_subtask_forced_end', reason, ts); },
    summary() {
      const n = st.hits + st.misses + st.false_alarms + st.correct_rejections;
      return { presented: st.presented, hits: st.hits, misses: st.misses, false_alarms: st.false_alarms, correct_rejections: st.correct_rejections, accuracy: n ? (st.hits + st.correct_rejections) / n : null, mean_rt_ms: mean(st.rts) };
    },
  };
}

export function mean(xs) {
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null;
}
