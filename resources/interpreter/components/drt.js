// Detection response task: a background stimulus (corner dot or screen border) that runs across
// the trials between detection-response-task-start and -stop. ISO 17488-style: onset-to-onset
// interval drawn from [min_iti_ms, max_iti_ms], stimulus on for stimulus_duration_ms or until the
// response, a hit is one response within [min_rt_ms, max_rt_ms]. Onsets are frame-locked (no
// CSS fade), RTs use the key event's timeStamp, presses between stimuli are counted as false
// alarms, and the DRT key is consumed so the task underneath never sees it.

import { normalizeKey } from '../keys.js';
import { num } from './common.js';

const LOCATIONS = {
  'top-left': 'top:16px;left:16px', 'top-right': 'top:16px;right:16px',
  'bottom-left': 'bottom:16px;left:16px', 'bottom-right': 'bottom:16px;right:16px',
  'top-center': 'top:16px;left:50%', 'bottom-center': 'bottom:16px;left:50%',
};

export function drtSettings(p) {
  return {
    segment_label: p.segment_label ?? null,
    response_key: normalizeKey(p.response_key || 'space'),
    min_iti_ms: num(p.min_iti_ms, 3000), max_iti_ms: num(p.max_iti_ms, 5000),
    stimulus_duration_ms: num(p.stimulus_duration_ms, 1000),
    min_rt_ms: num(p.min_rt_ms, 100), max_rt_ms: num(p.max_rt_ms, 2500),
    display_mode: p.drt_display_mode === 'screen_border' ? 'screen_border' : 'corner_dot',
    stimulus_type: p.stimulus_type === 'square' ? 'square' : 'circle',
    stimulus_color: p.stimulus_color || '#ff0000',
    location: LOCATIONS[p.location] ? p.location : 'top-right',
    size_px: num(p.size_px, 18),
  };
}

export class DrtEngine {
  constructor(run) {
    this.run = run;
    this.active = null;
    this.segments = 0;
  }

  start(p, rng) {
    if (this.active) this.stop('restarted');
    const s = drtSettings(p);
    const el = document.createElement('div');
    el.className = 'cf-drt';
    el.dataset.role = 'drt-stimulus';
    el.style.cssText = s.display_mode === 'screen_border'
      ? `position:fixed;inset:0;border:${s.size_px}px solid ${s.stimulus_color};display:none;z-index:1000;pointer-events:none`
      : `position:fixed;${LOCATIONS[s.location]};width:${s.size_px}px;height:${s.size_px}px;background:${s.stimulus_color};border-radius:${s.stimulus_type === 'circle' ? '50%' : '0'};display:none;z-index:1000;pointer-events:none`;
    document.body.appendChild(el);
    const a = { s, el, rng, trialNo: 0, nextOnset: null, current: null, falseAlarms: 0, segment: ++this.segments, running: true };
    a.onKey = (e) => {
      if (e.repeat || normalizeKey(e.key) !== s.response_key) return;
      e.stopImmediatePropagation();
      e.preventDefault();
      this.response(e.timeStamp);
    };
    window.addEventListener('keydown', a.onKey, true);
    const frame = this.run.timer.frameMs;
    const tick = (ts) => {
      if (!a.running) return;
      if (a.nextOnset === null) a.nextOnset = ts + rng.uniform(s.min_iti_ms, s.max_iti_ms);
      const cur = a.current;
      if (cur && cur.visible && ts - cur.onset >= s.stimulus_duration_ms - frame / 2) { el.style.display = 'none'; cur.visible = false; cur.offset = ts; }
      if (cur && ts - cur.onset >= s.max_rt_ms) { this.finalize(cur); a.current = null; }
      if (!a.current && ts >= a.nextOnset - frame / 2) {
        el.style.display = 'block'; // painted in this frame: ts is the onset
        a.trialNo += 1;
        a.current = { onset: ts, offset: null, visible: true, responses: [], trialNo: a.trialNo, falseAlarms: a.falseAlarms };
        a.falseAlarms = 0;
        a.nextOnset = Math.max(ts + rng.uniform(s.min_iti_ms, s.max_iti_ms), ts + s.max_rt_ms + frame);
      }
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
    this.active = a;
    return s;
  }

  response(ts) {
    const a = this.active;
    if (!a) return;
    const cur = a.current;
    if (cur && ts >= cur.onset) {
      cur.responses.push(ts);
      if (cur.visible) { a.el.style.display = 'none'; cur.visible = false; cur.offset = ts; }
    } else {
      a.falseAlarms += 1;
    }
  }

  finalize(cur, truncated = false) {
    const s = this.active.s;
    const first = cur.responses.length ? cur.responses[0] - cur.onset : null;
    const row = this.run.baseRow('drt-stimulus');
    Object.assign(row, {
      stimulus_onset_ms: cur.onset, stimulus_offset_ms: cur.offset, rt_ms: first,
      response: first === null ? null : s.response_key,
      correct: first !== null && first >= s.min_rt_ms && first <= s.max_rt_ms,
      ended_reason: first === null ? 'timeout' : 'response',
      drt_segment_label: s.segment_label, drt_segment: this.active.segment, drt_trial_number: cur.trialNo,
      drt_response_count: cur.responses.length, drt_false_alarms: cur.falseAlarms, drt_window_truncated: truncated,
      trial_start_ms: cur.onset, trial_end_ms: performance.now(),
    });
    this.run.push(row);
  }

  stop() {
    const a = this.active;
    if (!a) return null;
    a.running = false;
    if (a.current) this.finalize(a.current, true);
    window.removeEventListener('keydown', a.onKey, true);
    a.el.remove();
    this.active = null;
    return { stimuli: a.trialNo, trailing_false_alarms: a.falseAlarms };
  }
}

export async function runStart(el, p, ctx) {
  const s = ctx.run.drt.start(p, ctx.rng);
  return { ended_reason: 'duration', drt_event: 'start', drt_segment_label: s.segment_label, drt_settings: s };
}

export async function runStop(el, p, ctx) {
  const label = ctx.run.drt.active ? ctx.run.drt.active.s.segment_label : null;
  const info = ctx.run.drt.stop();
  return { ended_reason: 'duration', drt_event: 'stop', drt_segment_label: label, drt_was_running: info !== null, ...(info || {}) };
}
