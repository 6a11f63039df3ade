// Detection response task: a background stimulus (corner dot or screen border) that runs across
// the trials between detection-response-task-start and -stop. ISO 17488-style: onset-to-onset
// interval drawn from [min_iti_ms, max_iti_ms], stimulus on for stimulus_duration_ms or until the
// response, a hit is one response within [min_rt_ms, max_rt_ms]. Onsets are frame-locked (no
// CSS fade), RTs use the key event's timeStamp, presses between stimuli are counted as false
// alarms, and the DRT key is consumed so the task underneath never sees it. It runs on the run's
// frame clock: onsets and offsets are frame timestamps (a response hides the stimulus on the
// next frame, which is its offset), and a pause stops it (the stimulus on screen is closed as
// truncated, and the next one is drawn a fresh interval after the resume).

import { matchKey, normalizeKey } from '../keys.js';
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
    const a = { s, el, rng, trialNo: 0, nextOnset: null, current: null, falseAlarms: 0, segment: ++this.segments, running: true, stop: new AbortController() };
    a.onKey = (e) => {
      if (e.repeat || this.run.paused || matchKey([s.response_key], e) === null) return;
      e.stopImmediatePropagation();
      e.preventDefault();
      this.response(e.timeStamp, e.code || null);
    };
    window.addEventListener('keydown', a.onKey, true);
    const timer = this.run.timer;
    this.run.timer.every((ts) => {
      if (!a.running) return false;
      const frame = timer.frameMs;
      if (a.nextOnset === null) a.nextOnset = ts + rng.uniform(s.min_iti_ms, s.max_iti_ms);
      const cur = a.current;
      if (cur && cur.visible && (cur.hideNow || ts - cur.onset >= (timer.frames(s.stimulus_duration_ms) - 0.5) * frame)) {
        el.style.display = 'none'; cur.visible = false; cur.offset = ts;
        this.run.markers?.drtEvent('drt_offset', ts, { drt_segment: a.segment, drt_trial_number: cur.trialNo });
      }
      if (cur && ts - cur.onset >= s.max_rt_ms) { this.finalize(cur); a.current = null; }
      if (!a.current && ts >= a.nextOnset - frame / 2) {
        el.style.display = 'block'; // drawn in this frame: ts is the onset
        a.trialNo += 1;
        a.current = { onset: ts, offset: null, visible: true, hideNow: false, responses: [], codes: [], trialNo: a.trialNo, falseAlarms: a.falseAlarms };
        a.current.lsl = this.run.markers?.drtEvent('drt_onset', ts, { drt_segment: a.segment, drt_trial_number: a.trialNo }) ?? null;
        a.falseAlarms = 0;
        a.nextOnset = Math.max(ts + rng.uniform(s.min_iti_ms, s.max_iti_ms), ts + s.max_rt_ms + frame);
      }
      return true;
    }, a.stop.signal);
    this.active = a;
    this.run.markers?.drtEvent('drt_start', performance.now(), { drt_segment: a.segment, drt_segment_label: s.segment_label });
    return s;
  }

  response(ts, code = null) {
    const a = this.active;
    if (!a) return;
    const cur = a.current;
    this.run.markers?.drtEvent(cur && ts >= cur.onset ? 'drt_response' : 'drt_false_alarm', ts, { drt_segment: a.segment, drt_trial_number: cur ? cur.trialNo : null, rt_ms: cur && ts >= cur.onset ? Math.round((ts - cur.onset) * 1000) / 1000 : null });
    if (cur && ts >= cur.onset) {
      cur.responses.push(ts);
      cur.codes.push(code);
      cur.hideNow = true; // hidden on the next frame, whose timestamp is the offset
    } else {
      a.falseAlarms += 1;
    }
  }

  // A pause closes the stimulus on screen (recorded as truncated and paused) and restarts the
  // interval: the next stimulus comes a fresh min..max interval after the resume.
  pause() {
    const a = this.active;
    if (!a) return;
    a.el.style.display = 'none';
    if (a.current) {
      if (a.current.visible) { a.current.visible = false; a.current.offset = null; }
      this.finalize(a.current, true, true);
      a.current = null;
    }
    a.nextOnset = null;
  }

  resume() {}

  finalize(cur, truncated = false, paused = false) {
    const s = this.active.s;
    const first = cur.responses.length ? cur.responses[0] - cur.onset : null;
    const row = this.run.baseRow('drt-stimulus');
    Object.assign(row, {
      stimulus_onset_ms: cur.onset, stimulus_offset_ms: cur.offset, rt_ms: first, stimulus_duration_ms: s.stimulus_duration_ms,
      stimulus_frames: cur.offset === null ? null : Math.round((cur.offset - cur.onset) / this.run.timer.frameMs),
      response: first === null ? null : s.response_key, response_code: first === null ? null : cur.codes[0],
      correct: first !== null && first >= s.min_rt_ms && first <= s.max_rt_ms,
      ended_reason: first === null ? 'timeout' : 'response',
      drt_segment_label: s.segment_label, drt_segment: this.active.segment, drt_trial_number: cur.trialNo,
      drt_response_count: cur.responses.length, drt_false_alarms: cur.falseAlarms, drt_window_truncated: truncated, drt_paused: paused,
      trial_start_ms: cur.onset, trial_end_ms: performance.now(),
    });
    if (cur.lsl != null && this.run.markers?.lslOn) row.lsl_onset_time = cur.lsl;
    this.run.push(row);
  }

  stop() {
    const a = this.active;
    if (!a) return null;
    a.running = false;
    a.stop.abort();
    if (a.current) this.finalize(a.current, true);
    this.run.markers?.drtEvent('drt_stop', performance.now(), { drt_segment: a.segment, drt_stimuli: a.trialNo });
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
