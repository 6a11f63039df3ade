// Eye tracking with WebGazer (vendored at ../vendor/webgazer/, GPL-3.0-or-later), run-wide:
// a camera check before the run, the tracker that samples gaze at the configured rate into
// sealed rows, and the refusal shown when the machine has no camera.
//
// Nothing is fetched from elsewhere: WebGazer is loaded from /vendor/, its face models (which it
// would download from a model hub) are answered from /vendor/webgazer-models/ (see
// scripts/vendor_webgazer_models.py), and any other fetch to another origin is refused here, on
// top of the page's CSP and the desktop app's request interceptor.

import { GazeSampler, eyeTrackingSettings } from './eye-tracking-config.js';

const CHUNK_MS = 5000; // a sample row is checkpointed every 5 s of the run

export function cameraMessage() {
  return 'This study records where you look with the camera (eye tracking), but no camera was found on this computer, so it cannot run here. Please tell the experimenter.';
}

// null when the config needs no camera or a camera is there; else the sentence to show.
export async function eyeTrackingPreflight(config) {
  if (!eyeTrackingSettings(config).enabled) return null;
  const md = globalThis.navigator && navigator.mediaDevices;
  if (!md || typeof md.enumerateDevices !== 'function') return cameraMessage();
  try {
    const devices = await md.enumerateDevices();
    return devices.some((d) => d.kind === 'videoinput') ? null : cameraMessage();
  } catch {
    return cameraMessage();
  }
}

// Model hub folders WebGazer 3.4.0 asks for -> the vendored copies.
const MODEL_DIRS = {
  'https://tfhub.dev/tensorflow/tfjs-model/blazeface/1/default/1/': 'blazeface/',
  'https://tfhub.dev/mediapipe/tfjs-model/facemesh/1/default/1/': 'facemesh/',
  'https://tfhub.dev/mediapipe/tfjs-model/iris/1/default/2/': 'iris/',
};

export function localModelUrl(url, base) {
  const bare = String(url).split('?')[0];
  for (const [hub, dir] of Object.entries(MODEL_DIRS)) {
    if (bare.startsWith(hub)) return new URL(`../vendor/webgazer-models/${dir}${bare.slice(hub.length)}`, base).href;
  }
  return null;
}

function sameOrigin(url) {
  try { return new URL(url, location.href).origin === location.origin; } catch { return false; }
}

// Refuses every fetch to another origin (WebGazer's model downloads) with a clear error.
function guardFetch(blocked) {
  if (window.fetch.cogflowGuarded) return;
  const inner = window.fetch.bind(window);
  const guarded = (input, init) => {
    const url = typeof input === 'string' ? input : input && input.url;
    const local = url ? localModelUrl(url, import.meta.url) : null;
    if (local) return inner(local, { credentials: 'same-origin' });
    if (url && !sameOrigin(url)) {
      blocked.push(String(url));
      return Promise.reject(new TypeError(`CogFlow does not load anything from outside the app (${url}).`));
    }
    return inner(input, init);
  };
  guarded.cogflowGuarded = true;
  window.fetch = guarded;
}

function loadWebGazer() {
  if (window.webgazer) return Promise.resolve(window.webgazer);
  return new Promise((resolve, reject) => {
    const s = document.createElement('script');
    s.src = new URL('../vendor/webgazer/webgazer.js', import.meta.url).href;
    s.onload = () => (window.webgazer ? resolve(window.webgazer) : reject(new Error('WebGazer did not load')));
    s.onerror = () => reject(new Error('WebGazer could not be loaded from /vendor/webgazer/'));
    document.head.appendChild(s);
  });
}

export class EyeTracker {
  constructor(run, settings) {
    this.run = run;
    this.settings = settings;
    this.sampler = new GazeSampler(settings.sample_interval_ms);
    this.latest = null;
    this.blocked = [];
    this.errors = [];
    this.running = false;
    this.chunkStart = null;
    this.rows = 0;
  }

  rel(ts) { return ts - this.run.t0; }

  // Call from a key/click handler (a user gesture): opens the camera and starts WebGazer.
  async start() {
    guardFetch(this.blocked);
    const stream = await navigator.mediaDevices.getUserMedia({ video: true });
    this.stream = stream;
    const wg = await loadWebGazer();
    this.wg = wg;
    try { wg.setStaticVideo(stream); } catch { /* older builds open the camera themselves */ }
    wg.showVideoPreview(this.settings.show_video).showPredictionPoints(false).applyKalmanFilter(true);
    wg.saveDataAcrossSessions(false);
    wg.setGazeListener((data) => {
      if (data && Number.isFinite(data.x) && Number.isFinite(data.y)) this.latest = { x: data.x, y: data.y, t_ms: this.rel(performance.now()) };
    });
    window.addEventListener('unhandledrejection', (e) => { this.errors.push(String(e.reason && e.reason.message ? e.reason.message : e.reason)); });
    await wg.begin();
    this.running = true;
    const tick = (ts) => {
      if (!this.running) return;
      const t = this.rel(ts);
      if (this.chunkStart === null) this.chunkStart = t;
      this.sampler.tick(t, this.latest, window.innerWidth, window.innerHeight);
      if (t - this.chunkStart >= CHUNK_MS) this.flush(t);
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
    return { camera: stream.getVideoTracks().map((tr) => tr.label).join(', ') || null };
  }

  // WebGazer learns from where the participant looked when confirming a dot.
  recordCalibration(x, y) {
    if (!this.wg) return false;
    for (let i = 0; i < 5; i++) this.wg.recordScreenPosition(x, y, 'click');
    return true;
  }

  // Checkpoints the samples taken so far as one sealed row.
  flush(tEnd) {
    const samples = this.sampler.take();
    const start = this.chunkStart;
    this.chunkStart = tEnd;
    if (!samples.length) return;
    const row = this.run.baseRow('eye-tracking-samples');
    Object.assign(row, {
      ended_reason: 'duration', trial_start_ms: this.run.t0 + start, trial_end_ms: this.run.t0 + tEnd,
      eye_tracking_provider: 'webgazer', gaze_sample_interval_ms: this.settings.sample_interval_ms,
      gaze_samples_valid: samples.filter((s) => s.valid).length, gaze_samples: samples,
    });
    this.rows += 1;
    this.run.push(row);
  }

  stop() {
    if (!this.running) return null;
    this.running = false;
    this.flush(this.rel(performance.now()));
    try { this.wg.clearGazeListener(); this.wg.end(); } catch { /* already ended */ }
    for (const tr of this.stream ? this.stream.getTracks() : []) tr.stop();
    return { gaze_samples_total: this.sampler.count, gaze_samples_valid_total: this.sampler.valid, sample_rows: this.rows, blocked_requests: this.blocked.length, tracker_errors: this.errors.slice(0, 5).join(' | ') || null };
  }
}
