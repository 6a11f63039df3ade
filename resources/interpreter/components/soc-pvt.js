// SOC sub-task "pvt-like": a scrolling console feed; now and then an alert counts down and then
// flashes red. Respond as fast as possible to the flash; a response at any other time is a false
// start. The flash onset is the frame that drew it; RT is the key event's time minus that frame.

import { Every, clampNum, clockText, escapeHtml, fillPlaceholders, flag, keyLabel, normalizeKey, randomIp } from './soc-common.js';
import { runLimit } from './soc-schedule.js';
import { mean } from './soc-sart.js';

const SERVICES = ['auth-service', 'edge-proxy', 'payments-api', 'ids', 'db', 'monitor', 'vpn-gw'];

export function pvtConfig(o) {
  let lo = clampNum(o.alert_min_interval_ms, 250, 600000, 2000);
  let hi = clampNum(o.alert_max_interval_ms, 250, 600000, 6000);
  if (hi < lo) [lo, hi] = [hi, lo];
  const rawKey = String(o.response_key ?? 'space');
  return {
    response_device: String(o.response_device ?? 'keyboard').toLowerCase() === 'mouse' ? 'mouse' : 'keyboard',
    response_key: rawKey.trim().toUpperCase() === 'ALL_KEYS' ? 'ALL_KEYS' : normalizeKey(rawKey),
    visible_entries: Math.round(clampNum(o.visible_entries, 3, 30, 12)),
    log_interval_ms: clampNum(o.log_scroll_interval_ms ?? o.scroll_interval_ms, 50, 5000, 400),
    alert_min_ms: lo,
    alert_max_ms: hi,
    countdown_seconds: Math.round(clampNum(o.countdown_seconds, 0, 10, 3)),
    flash_ms: clampNum(o.flash_duration_ms, 20, 2000, 120),
    response_window_ms: clampNum(o.response_window_ms, 100, 20000, 1500),
    show_countdown: flag(o.show_countdown, true),
    show_red_flash: flag(o.show_red_flash, true),
  };
}

export function create(win, env) {
  const cfg = pvtConfig(win.params);
  const control = cfg.response_device === 'keyboard' ? (cfg.response_key === 'ALL_KEYS' ? 'any key' : keyLabel(cfg.response_key)) : 'CLICK';
  const st = { started: false, ended: false, presented: 0, responded: 0, false_starts: 0, timeouts: 0, rts: [], lines: [], alert: null };
  let logCycle = null;
  let nextAlertAt = Infinity;
  let stopAt = Infinity;
  let t0 = 0;
  win.body.innerHTML = `<div class="soc-head"><div><h4>Incident alerts</h4><div class="soc-hint">Press <b>${escapeHtml(control)}</b> when the <b>red flash</b> appears.</div></div><div class="soc-hint" data-role="status">Ready</div></div>
    <table class="soc-log soc-mono"><thead><tr><th>Time</th><th>Lvl</th><th>Message</th></tr></thead><tbody></tbody></table>`;
  const overlay = document.createElement('div');
  overlay.className = 'soc-pvt-alert';
  overlay.innerHTML = `<div class="soc-panel"><div class="soc-kicker">Alert incoming</div><div class="soc-count" data-role="count">—</div><div class="soc-hint">Respond when the red flash appears (${escapeHtml(control)}).</div><div class="soc-flash" data-role="flash"></div></div>`;
  win.el.appendChild(overlay);
  const tbody = win.body.querySelector('tbody');
  const status = win.body.querySelector('[data-role="status"]');
  const countEl = overlay.querySelector('[data-role="count"]');
  const flashEl = overlay.querySelector('[data-role="flash"]');

  const line = (lvl, msg) => {
    st.lines.push({ clock: clockText(new Date()), lvl, msg });
    if (st.lines.length > 200) st.lines.shift();
    tbody.innerHTML = st.lines.slice(-cfg.visible_entries).map((l) => `<tr><td>${l.clock}</td><td><span class="soc-tag">${l.lvl}</span></td><td>${escapeHtml(l.msg)}</td></tr>`).join('');
  };
  const randomLine = () => {
    const msg = env.rng.pick(['heartbeat ok', 'token refresh ok', 'routing table updated', `conn=${env.rng.int(8, 64)} pool healthy`, `p95 latency=${env.rng.int(40, 220)}ms`, 'signature set synced', `unexpected login from ${randomIp(env.rng)}`]);
    line(env.rng() < 0.1 ? 'WARN' : 'INFO', `${env.rng.pick(SERVICES)}: ${msg}`);
  };
  const scheduleAlert = (t) => { nextAlertAt = t + env.rng.int(cfg.alert_min_ms, cfg.alert_max_ms); };
  const closeAlert = (t, why) => {
    st.alert = null;
    overlay.classList.remove('soc-show');
    flashEl.classList.remove('soc-show');
    countEl.textContent = '—';
    line('INFO', `alert closed (${why})`);
    scheduleAlert(t);
  };

  const respond = (device, detail, ts, t) => {
    if (!st.started || st.ended) return;
    const a = st.alert;
    if (!a || a.flashOnset === null) {
      st.false_starts += 1;
      env.emit(win, 'pvt_like_false_start', { device, detail, stimulus_id: a ? a.id : null, during_countdown: Boolean(a) }, ts);
      line('WARN', `false start (${device})`);
      return;
    }
    if (a.responded) return;
    a.responded = true;
    st.responded += 1;
    const rt = ts - a.flashOnset;
    st.rts.push(rt);
    env.emit(win, 'pvt_like_response', { device, detail, stimulus_id: a.id, rt_ms: rt, flash_onset_t_ms: env.tMs(a.flashOnset) }, ts);
    line('INFO', `response rt=${Math.round(rt)}ms`);
    closeAlert(t ?? env.sessionTime(), 'respond');
  };
  win.el.addEventListener('click', (ev) => { if (cfg.response_device === 'mouse') respond('mouse', 'click', ev.timeStamp); });

  const finish = (type, reason, ts) => {
    if (st.ended) return;
    st.ended = true;
    overlay.classList.remove('soc-show');
    status.textContent = 'Complete';
    env.emit(win, type, { reason, presented: st.presented, responded: st.responded, false_starts: st.false_starts, timeouts: st.timeouts }, ts);
  };

  return {
    state: st,
    instructions: { title: win.params.instructions_title || 'Incident alert monitor', html: fillPlaceholders(win.params.instructions, { RESPONSE_CONTROL: control }) },
    start(t, ts) {
      st.started = true;
      t0 = t;
      stopAt = runLimit(win.params, env.rng, [0, 0]);
      logCycle = new Every(cfg.log_interval_ms, t);
      for (let i = 0; i < 6; i++) randomLine();
      scheduleAlert(t);
      status.textContent = 'Running…';
      env.emit(win, 'pvt_like_subtask_start', { response_device: cfg.response_device, response_key: cfg.response_key, run_limit_ms: Number.isFinite(stopAt) ? stopAt : null }, ts);
    },
    frame(t, ts) {
      if (st.ended) return;
      if (t - t0 >= stopAt) { finish('pvt_like_subtask_auto_end', 'run_limit', ts); return; }
      if (logCycle.due(t)) randomLine();
      let a = st.alert;
      if (!a && t >= nextAlertAt) {
        st.presented += 1;
        const countdown = cfg.show_countdown ? cfg.countdown_seconds : 0;
        a = st.alert = { id: `PVT-${win.index + 1}-${String(st.presented).padStart(4, '0')}`, start: t, countdown, flashAt: t + countdown * 1000, flashOnset: null, flashT: null, responded: false };
        overlay.classList.add('soc-show');
        countEl.textContent = countdown > 0 ? String(countdown) : '…';
        env.emit(win, 'pvt_like_alert_scheduled', { stimulus_id: a.id, countdown_seconds: countdown }, ts);
        if (countdown > 0) env.emit(win, 'pvt_like_countdown_start', { stimulus_id: a.id, countdown_seconds: countdown }, ts);
      }
      if (!a) return;
      if (a.flashOnset === null) {
        if (t >= a.flashAt) {
          a.flashOnset = ts;
          a.flashT = t;
          countEl.textContent = 'GO';
          if (cfg.show_red_flash) flashEl.classList.add('soc-show'); // painted in this frame
          env.emit(win, 'pvt_like_flash_onset', { stimulus_id: a.id }, ts);
        } else {
          countEl.textContent = String(Math.max(1, Math.ceil((a.flashAt - t) / 1000)));
        }
        return;
      }
      if (t - a.flashT >= cfg.flash_ms) flashEl.classList.remove('soc-show');
      if (t - a.flashT >= cfg.response_window_ms) {
        st.timeouts += 1;
        env.emit(win, 'pvt_like_timeout', { stimulus_id: a.id }, ts);
        closeAlert(t, 'timeout');
      }
    },
    key(k, ev) {
      if (cfg.response_device !== 'keyboard' || (cfg.response_key !== 'ALL_KEYS' && k !== cfg.response_key)) return false;
      respond('keyboard', k, ev.timeStamp);
      return true;
    },
    end(reason, ts) { finish('pvt_like_subtask_forced_end', reason, ts); },
    summary() {
      return { presented: st.presented, responded: st.responded, false_starts: st.false_starts, timeouts: st.timeouts, accuracy: st.presented ? st.responded / st.presented : null, mean_rt_ms: mean(st.rts) };
    },
  };
}
