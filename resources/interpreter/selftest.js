// Timing self-test (/interpreter/selftest): measures the refresh rate as a run does, then
// flashes a patch for N frames, again and again, with the same frame clock the Interpreter
// uses, and reports planned vs delivered frames per flash. A photodiode square in the corner is
// white exactly while the patch is up. URL parameters prefill the form: frames, flashes, gap;
// autostart=1 starts at once. Results are in window.cogflowSelftest for scripts.

import { FrameTimer, measureRefresh, sharedClock } from './timing.js';

const $ = (role) => document.querySelector(`[data-role="${role}"]`);
const params = new URLSearchParams(location.search);
const form = $('form');
const state = { state: 'loading', refresh: null, flashes: [], summary: null, settings: null };
window.cogflowSelftest = state;

function setState(s) {
  state.state = s;
  document.body.dataset.selftestState = s;
}

const int = (v, d, lo, hi) => {
  const n = Math.round(Number(v));
  return Number.isFinite(n) ? Math.min(hi, Math.max(lo, n)) : d;
};

for (const name of ['frames', 'flashes', 'gap']) if (params.has(name)) form.elements[name].value = params.get(name);

function showRefresh(r) {
  const ci = r.refresh_hz_ci95 ? ` (95 % interval ${r.refresh_hz_ci95[0].toFixed(3)}–${r.refresh_hz_ci95[1].toFixed(3)} Hz)` : '';
  $('refresh').textContent = `Refresh rate ${r.refresh_hz.toFixed(2)} Hz${ci}, one frame = ${r.frame_ms.toFixed(3)} ms, frame-to-frame SD ${r.frame_ms_sd.toFixed(2)} ms, measured over ${r.frames_measured} frames.`;
  $('warnings').innerHTML = '';
  for (const w of r.warnings) {
    const li = document.createElement('li');
    li.textContent = w;
    $('warnings').appendChild(li);
  }
}

async function flashAll(clock, timer, { frames, flashes, gap }) {
  const patch = $('patch');
  const diode = $('photodiode');
  const rows = $('results').tBodies[0];
  rows.innerHTML = '';
  state.flashes = [];
  document.body.classList.add('st-flashing');
  let prev = await clock.next();
  prev = await timer.until(prev, gap * timer.frameMs); // the panel is gone before the first flash
  for (let i = 0; i < flashes; i++) {
    const dropped0 = clock.stats.dropped;
    const onset = await timer.show(() => { patch.hidden = false; diode.classList.add('st-on'); });
    const tick0 = clock.frameNo;
    const offset = await timer.until(onset, frames * timer.frameMs);
    patch.hidden = true;
    diode.classList.remove('st-on');
    const f = {
      flash: i + 1, planned_frames: frames,
      delivered_frames: Math.round((offset - onset) / timer.frameMs),
      shown_ms: Math.round((offset - onset) * 100) / 100,
      frame_callbacks: clock.frameNo - tick0,
      dropped_frames: clock.stats.dropped - dropped0,
    };
    state.flashes.push(f);
    const tr = rows.insertRow();
    for (const v of [f.flash, f.planned_frames, f.delivered_frames, f.shown_ms.toFixed(2), f.frame_callbacks, f.dropped_frames]) tr.insertCell().textContent = String(v);
    prev = await timer.until(offset, gap * timer.frameMs);
  }
  document.body.classList.remove('st-flashing');
}

function summarise({ frames }, refresh) {
  const n = state.flashes.length;
  const exact = state.flashes.filter((f) => f.delivered_frames === frames).length;
  const within = state.flashes.filter((f) => Math.abs(f.delivered_frames - frames) <= 1).length;
  state.summary = { flashes: n, planned_frames: frames, exact, within_one_frame: within, share_exact: n ? exact / n : null, refresh_hz: refresh.refresh_hz };
  const s = $('summary');
  s.textContent = `${exact} of ${n} flashes lasted exactly ${frames} frame${frames === 1 ? '' : 's'} (${(frames * refresh.frame_ms).toFixed(1)} ms at ${refresh.refresh_hz.toFixed(2)} Hz); ${within} of ${n} within one frame.`;
  s.className = `st-summary ${exact === n ? 'st-ok' : 'st-bad'}`;
  $('results').hidden = false;
}

let busy = false;
async function start() {
  if (busy) return;
  busy = true;
  const settings = {
    frames: int(form.elements.frames.value, 3, 1, 600),
    flashes: int(form.elements.flashes.value, 20, 1, 1000),
    gap: int(form.elements.gap.value, 30, 1, 600),
  };
  state.settings = settings;
  const clock = sharedClock();
  setState('measuring');
  $('refresh').textContent = 'Measuring the display refresh rate…';
  const refresh = await measureRefresh(90, clock);
  state.refresh = refresh;
  showRefresh(refresh);
  const timer = new FrameTimer(refresh.frame_ms, clock);
  clock.resetStats();
  setState('flashing');
  await flashAll(clock, timer, settings);
  summarise(settings, refresh);
  setState('done');
  busy = false;
}

form.addEventListener('submit', (e) => { e.preventDefault(); start(); });
setState('ready');
$('refresh').textContent = 'Press Start to measure the refresh rate and flash the patch.';
if (params.get('autostart') === '1') start();
