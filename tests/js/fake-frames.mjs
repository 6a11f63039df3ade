// A fake display for node tests: requestAnimationFrame callbacks run only when the test calls
// frame(), with timestamps of an ideal refresh (default 60 Hz) coarsened to the browser's
// 0.1 ms timer resolution. After the callbacks, every promise continuation runs and the frame
// closes (the timing layer closes a frame on the next task when there is no ResizeObserver).
// `document` is an EventTarget, so key waits work; a tiny element records what was drawn.

export function installFakeDisplay({ frameMs = 1000 / 60, resolution = 0.1, t0 = 1_000_000 } = {}) {
  let callbacks = [];
  let n = 0;
  globalThis.requestAnimationFrame = (cb) => { callbacks.push(cb); return callbacks.length; };
  globalThis.cancelAnimationFrame = () => {};
  const doc = new EventTarget();
  doc.visibilityState = 'visible';
  doc.hasFocus = () => true;
  globalThis.document = doc;
  const env = {
    frameMs,
    now: null,
    stampOf: (i) => Math.round(Math.floor((t0 + i * frameMs) / resolution + 1e-9)) * resolution,
    // One frame: all queued callbacks with this frame's timestamp, then continuations, then close.
    async frame() {
      const ts = env.stampOf(n);
      n += 1;
      env.now = ts;
      const due = callbacks;
      callbacks = [];
      for (const cb of due) {
        cb(ts);
        await new Promise((r) => setImmediate(r));
      }
      await new Promise((r) => setTimeout(r, 0));
      return ts;
    },
    async frames(k) { for (let i = 0; i < k; i++) await env.frame(); },
    // Steps frames until `done()` is true (at most `limit` frames).
    async until(done, limit = 100000) {
      for (let i = 0; i < limit && !done(); i++) await env.frame();
      if (!done()) throw new Error('fake display: condition not reached');
    },
    key(key, code) {
      const e = new Event('keydown');
      Object.assign(e, { key, code, repeat: false, ctrlKey: false, metaKey: false, altKey: false });
      doc.dispatchEvent(e);
    },
  };
  return env;
}

// An element stand-in for components that write innerHTML and hide parts of it.
export function fakeElement(log = []) {
  const el = {
    log,
    _html: '',
    firstElementChild: null,
    get innerHTML() { return this._html; },
    set innerHTML(v) {
      this._html = v;
      log.push({ what: v ? 'draw' : 'clear', html: v });
      this.firstElementChild = v ? fakeChild(log) : null;
    },
  };
  return el;
}

function fakeChild(log) {
  const child = {
    textContent: '',
    classList: { add: (c) => log.push({ what: `add ${c}` }) },
    querySelector: () => child,
    set innerHTML(v) { log.push({ what: 'child', html: v }); },
  };
  child.firstElementChild = child;
  return child;
}
