// Mouse tracking: where the pointer was at every display frame of every trial (and where it was
// pressed), stored on the trial's own row. It is a run-level data-collection setting, as in the
// reference Builder: `data_collection["mouse-tracking"]` (true or an object),
// `data_collection.mouse_tracking.enabled`, or a `mouse-tracking` item anywhere in the timeline
// (the item is a setting, not a trial; its fields win). Fields: track_movement (default true),
// track_clicks (default true), sampling_rate (Hz; samples are still taken on frames, at most
// this often; absent or 0 = every frame).

const MOUSE_ITEM = 'mouse-tracking';
const on = (v) => v === true || (v && typeof v === 'object' && v.enabled !== false);

function findItems(items, out = []) {
  if (!Array.isArray(items)) return out;
  for (const item of items) {
    if (!item || typeof item !== 'object') continue;
    if (item.type === MOUSE_ITEM) out.push(item);
    if (Array.isArray(item.items)) findItems(item.items, out);
  }
  return out;
}

// null when the config does not ask for mouse tracking.
export function mouseTrackingSettings(config) {
  const dc = (config && config.data_collection) || {};
  const flags = [dc['mouse-tracking'], dc.mouse_tracking].filter((v) => v !== undefined && v !== null);
  const items = findItems(config && config.timeline).filter((i) => i.enabled !== false);
  if (!items.length && !flags.some(on)) return null;
  const merged = Object.assign({}, ...flags.filter((f) => typeof f === 'object'), ...items);
  const rate = Number(merged.sampling_rate);
  return {
    track_movement: merged.track_movement !== false,
    track_clicks: merged.track_clicks !== false,
    sampling_rate_hz: Number.isFinite(rate) && rate > 0 ? rate : null,
  };
}

// Should the frame at `ts` be sampled, the last sample having been taken at `last`?
export function sampleDue(last, ts, rateHz, frameMs) {
  if (last === null || !rateHz) return true;
  return ts - last >= 1000 / rateHz - frameMs / 2;
}

const pointer = { x: null, y: null, buttons: 0 }; // the last known position, kept across trials
let listening = false;

function listenOnce() {
  if (listening || typeof window === 'undefined') return;
  listening = true;
  const note = (e) => { pointer.x = e.clientX; pointer.y = e.clientY; pointer.buttons = e.buttons; };
  for (const t of ['pointermove', 'pointerdown', 'pointerup']) window.addEventListener(t, note, { capture: true, passive: true });
}

const r1 = (x) => Math.round(x * 10) / 10;

// Samples one trial: the pointer position on every frame, and every press.
class TrialRecorder {
  constructor(s, ctx) {
    this.s = s;
    this.ctx = ctx;
    this.samples = [];
    this.clicks = [];
    this.running = true;
    this.last = null;
    this.start = performance.now();
    listenOnce();
    this.ac = new AbortController();
    if (ctx.signal) ctx.signal.addEventListener('abort', () => this.ac.abort(), { once: true });
    if (s.track_movement) {
      // On the run's frame clock: no samples while the run is paused.
      ctx.timer.every((ts) => {
        if (!this.running) return false;
        // Frames of this trial only (a late callback may belong to a frame begun before it).
        if (ts >= this.start && pointer.x !== null && sampleDue(this.last, ts, s.sampling_rate_hz, ctx.timer.frameMs)) {
          this.samples.push({ t_ms: ctx.run.rel(ts), x: r1(pointer.x), y: r1(pointer.y), buttons: pointer.buttons });
          this.last = ts;
        }
        return true;
      }, this.ac.signal);
    }
    if (s.track_clicks) {
      window.addEventListener('pointerdown', (e) => {
        this.clicks.push({ t_ms: ctx.run.rel(e.timeStamp), x: r1(e.clientX), y: r1(e.clientY), button: e.button });
      }, { capture: true, passive: true, signal: this.ac.signal });
    }
  }

  stop() {
    this.running = false;
    this.ac.abort();
  }

  finish() {
    this.stop();
    const out = { mouse_viewport_width: window.innerWidth, mouse_viewport_height: window.innerHeight };
    if (this.s.track_movement) out.mouse_samples = this.samples;
    if (this.s.track_clicks) out.mouse_clicks = this.clicks;
    return out;
  }
}

const settingsCache = new WeakMap();
const wrapped = new WeakMap();

// The component module, recording the mouse around its trial when the run asks for it.
export function withMouseTracking(mod) {
  if (!wrapped.has(mod)) {
    wrapped.set(mod, {
      ...mod,
      async run(el, p, ctx) {
        if (!ctx.config || typeof ctx.config !== 'object') return mod.run(el, p, ctx);
        if (!settingsCache.has(ctx.config)) settingsCache.set(ctx.config, mouseTrackingSettings(ctx.config));
        const s = settingsCache.get(ctx.config);
        if (!s) return mod.run(el, p, ctx);
        const rec = new TrialRecorder(s, ctx);
        try {
          const data = await mod.run(el, p, ctx);
          return { ...data, ...rec.finish() };
        } finally {
          rec.stop();
        }
      },
    });
  }
  return wrapped.get(mod);
}
