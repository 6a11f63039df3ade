// SOC sub-task "flanker-like": a scrolling "traffic spikes" graph. Five-spike clusters (flankers
// around a centre spike) scroll in from the right at scroll_speed_px_per_s; when a cluster's
// centre reaches the marker, "Reject?" shows for response_window_ms and the participant judges
// the centre spike only: reject (reject_key) if it is high (or medium, by reject_rule), else
// allow (allow_key). Scrolling moves by elapsed time, so the speed does not depend on the refresh.

import { clamp01, clampNum, escapeHtml, fillPlaceholders, flag, keyLabel, normalizeKey } from './soc-common.js';
import { runLimit } from './soc-schedule.js';
import { mean } from './soc-sart.js';
import { SpikeGraph, flankerCluster } from './soc-flanker-graph.js';

const WIDTH = 860;
const HEIGHT = 220;
const LATE_GRACE_MS = 2000;

export function flankerConfig(o) {
  return {
    allow_key: normalizeKey(o.allow_key ?? 'f'),
    reject_key: normalizeKey(o.reject_key ?? 'j'),
    reject_rule: String(o.reject_rule ?? 'high_only').toLowerCase() === 'medium_or_high' ? 'medium_or_high' : 'high_only',
    trial_interval_ms: clampNum(o.trial_interval_ms, 300, 10000, 1400),
    num_trials: Math.round(clampNum(o.num_trials, 0, 5000, 0)),
    response_window_ms: clampNum(o.response_window_ms, 150, 10000, 900),
    congruent_probability: clamp01(o.congruent_probability, 0.5),
    p_levels: [clamp01(o.center_low_probability, 0.33), clamp01(o.center_medium_probability, 0.33), clamp01(o.center_high_probability, 0.34)],
    speed: clampNum(o.scroll_speed_px_per_s, 40, 1200, 240),
    jerkiness: clamp01(o.jerkiness, 0.35),
    spacing: clampNum(o.point_spacing_px, 4, 24, 8),
    show_feedback: flag(o.show_feedback, false),
  };
}

export function create(win, env) {
  const cfg = flankerConfig(win.params);
  const st = { started: false, ended: false, presented: 0, responded: 0, correct: 0, incorrect: 0, omissions: 0, late: 0, current: null, lastClosed: null, rts: [] };
  let graph = null;
  let stopAt = Infinity;
  let t0 = 0;
  let lastT = 0;
  let insertEvery = cfg.trial_interval_ms;
  let nextInsert = 0;
  let inserted = 0;
  let lastPrompt = -Infinity;
  const allow = keyLabel(cfg.allow_key);
  const reject = keyLabel(cfg.reject_key);
  win.body.innerHTML = `<div class="soc-head"><div><h4>Traffic spikes monitor</h4><div class="soc-hint">When <b>Reject?</b> shows, judge the <b>centre</b> spike. Ignore the spikes around it.</div></div><div class="soc-hint" data-role="status">Ready</div></div>
    <div class="soc-flanker-prompt" data-role="prompt">Reject?</div>
    <div class="soc-flanker-graph"><canvas data-role="spikes"></canvas><div class="soc-flanker-marker"></div></div>
    <div class="soc-row soc-hint"><span>ALLOW: <b>${escapeHtml(allow)}</b></span><span>REJECT: <b>${escapeHtml(reject)}</b></span><span>${cfg.reject_rule === 'medium_or_high' ? 'Reject MED/HIGH' : 'Reject HIGH'}</span></div>`;
  const status = win.body.querySelector('[data-role="status"]');
  const prompt = win.body.querySelector('[data-role="prompt"]');
  const canvas = win.body.querySelector('canvas');
  const dpr = globalThis.devicePixelRatio || 1;
  canvas.width = Math.round(WIDTH * dpr);
  canvas.height = Math.round(HEIGHT * dpr);
  const g2 = canvas.getContext('2d');
  g2.scale(dpr, dpr);

  const trialFields = (tr) => ({ stimulus_id: tr.id, trial_number: tr.n, center_level: tr.center_level, flanker_level: tr.flanker_level, congruent: tr.congruent, reject_rule: cfg.reject_rule, should_reject: tr.should_reject, prompt_t_ms: env.tMs(tr.onset) });

  const close = (ts) => {
    const tr = st.current;
    st.current = null;
    prompt.classList.remove('soc-show');
    if (!tr) return;
    if (!tr.responded) {
      st.omissions += 1;
      env.emit(win, 'flanker_no_response', { ...trialFields(tr), deadline_t_ms: env.tMs(tr.onset) + cfg.response_window_ms }, ts);
      st.lastClosed = { tr, at: ts };
    }
    status.textContent = 'Running…';
  };

  const finish = (type, reason, ts) => {
    if (st.ended) return;
    close(ts);
    st.ended = true;
    status.textContent = 'Complete';
    g2.clearRect(0, 0, WIDTH, HEIGHT);
    env.emit(win, type, { reason, presented: st.presented, responded: st.responded, correct: st.correct, incorrect: st.incorrect, omissions: st.omissions, late_responses: st.late }, ts);
  };

  return {
    state: st,
    instructions: { title: win.params.instructions_title || 'Traffic spikes monitor', html: fillPlaceholders(win.params.instructions, { ALLOW_KEY: allow, REJECT_KEY: reject }) },
    start(t, ts) {
      st.started = true;
      t0 = lastT = t;
      stopAt = runLimit(win.params, env.rng, [0, 0]);
      graph = new SpikeGraph({ spacing: cfg.spacing, speed: cfg.speed, jerkiness: cfg.jerkiness, pLevels: cfg.p_levels, markerX: WIDTH / 2 }, env.rng);
      // With num_trials and a scheduled window, clusters are spread over the window, allowing
      // for the time a cluster needs from the right edge to the marker (as the reference does).
      const s = win.schedule;
      const windowMs = s.has_schedule && s.end_at_ms !== null ? s.end_at_ms - s.start_at_ms : 0;
      if (cfg.num_trials > 0 && windowMs > 0) {
        const derived = Math.floor(Math.max(0, windowMs - graph.travelMs()) / cfg.num_trials);
        insertEvery = Math.max(250, Math.min(10000, derived || cfg.trial_interval_ms));
      }
      graph.stamp(flankerCluster(cfg, env.rng, ++inserted), 900);
      nextInsert = t + insertEvery;
      status.textContent = 'Running…';
      env.activate(win.index);
      env.emit(win, 'flanker_subtask_start', { reject_rule: cfg.reject_rule, allow_key: cfg.allow_key, reject_key: cfg.reject_key, insertion_interval_ms: insertEvery, run_limit_ms: Number.isFinite(stopAt) ? stopAt : null }, ts);
    },
    frame(t, ts) {
      if (st.ended) return;
      if (t - t0 >= stopAt) { finish('flanker_subtask_end', 'run_limit', ts); return; }
      graph.advance((t - lastT) / 1000);
      lastT = t;
      if (t >= nextInsert && (cfg.num_trials === 0 || inserted < cfg.num_trials)) {
        graph.enqueue(flankerCluster(cfg, env.rng, ++inserted));
        nextInsert = t + insertEvery;
      }
      if (st.current && t - st.current.t >= cfg.response_window_ms) close(ts);
      if (!st.current && t - lastPrompt >= insertEvery) {
        const tr = graph.atMarker();
        if (tr) {
          st.presented += 1;
          Object.assign(tr, { n: st.presented, onset: ts, t, responded: false });
          st.current = tr;
          lastPrompt = t;
          prompt.classList.add('soc-show'); // drawn in this frame
          env.activate(win.index);
          status.textContent = 'Decision…';
          env.emit(win, 'flanker_present', { ...trialFields(tr), deadline_t_ms: env.tMs(ts) + cfg.response_window_ms }, ts);
        }
      }
      graph.draw(g2, WIDTH, HEIGHT, st.current ? st.current.id : null);
    },
    key(k, ev) {
      if (k !== cfg.allow_key && k !== cfg.reject_key) return false;
      const said = k === cfg.reject_key ? 'reject' : 'allow';
      const tr = st.current;
      if (tr && !tr.responded) {
        tr.responded = true;
        const correct = (said === 'reject') === tr.should_reject;
        const rt = ev.timeStamp - tr.onset;
        st.responded += 1;
        st[correct ? 'correct' : 'incorrect'] += 1;
        st.rts.push(rt);
        env.emit(win, 'flanker_response', { ...trialFields(tr), response: said, response_key: k, correct, rt_ms: rt }, ev.timeStamp);
        if (cfg.show_feedback) status.textContent = correct ? 'Correct' : 'Incorrect';
        prompt.classList.remove('soc-show');
        st.current = null;
        return true;
      }
      const last = st.lastClosed;
      if (!tr && last && ev.timeStamp - last.at <= LATE_GRACE_MS) {
        // A key just after the window closed belongs to that trial, recorded as late.
        st.lastClosed = null;
        st.late += 1;
        const correct = (said === 'reject') === last.tr.should_reject;
        env.emit(win, 'flanker_late_response', { ...trialFields(last.tr), response: said, response_key: k, correct, rt_ms: ev.timeStamp - last.tr.onset, lateness_ms: ev.timeStamp - last.tr.onset - cfg.response_window_ms }, ev.timeStamp);
        return true;
      }
      return false;
    },
    end(reason, ts) { finish('flanker_subtask_forced_end', reason, ts); },
    summary() {
      return { presented: st.presented, responded: st.responded, correct: st.correct, incorrect: st.incorrect, omissions: st.omissions, late_responses: st.late, accuracy: st.presented ? st.correct / st.presented : null, mean_rt_ms: mean(st.rts) };
    },
  };
}
