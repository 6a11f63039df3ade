// Waiting for responses. Every wait takes an AbortSignal so a trial can stop listening the
// moment it ends (or the experimenter aborts), and resolves with the event's own timeStamp.

import { keyAllowed, normalizeKey } from './keys.js';

const NO_SCROLL = new Set(['space', 'arrowleft', 'arrowright', 'arrowup', 'arrowdown', 'pageup', 'pagedown', 'home', 'end']);

export function waitForKey(choices, signal) {
  return new Promise((resolve) => {
    if (choices === 'NO_KEYS' || (signal && signal.aborted)) return;
    const onKey = (e) => {
      if (e.repeat || e.ctrlKey || e.metaKey || e.altKey) return;
      const key = normalizeKey(e.key);
      if (NO_SCROLL.has(key)) e.preventDefault();
      if (!keyAllowed(choices, e.key)) return;
      document.removeEventListener('keydown', onKey);
      resolve({ kind: 'key', key, timeStamp: e.timeStamp });
    };
    document.addEventListener('keydown', onKey);
    if (signal) signal.addEventListener('abort', () => document.removeEventListener('keydown', onKey), { once: true });
  });
}

// Clicks (or touches) on an element; `pick(event)` maps the event to a response value or null.
export function waitForPointer(target, pick, signal, type = 'pointerdown') {
  return new Promise((resolve) => {
    if (signal && signal.aborted) return;
    const on = (e) => {
      const value = pick(e);
      if (value === null || value === undefined) return;
      target.removeEventListener(type, on);
      resolve({ kind: 'pointer', value, timeStamp: e.timeStamp, x: e.clientX, y: e.clientY });
    };
    target.addEventListener(type, on);
    if (signal) signal.addEventListener('abort', () => target.removeEventListener(type, on), { once: true });
  });
}

// A controller that also aborts when `parent` does.
export function childController(parent) {
  const ac = new AbortController();
  if (parent) {
    if (parent.aborted) ac.abort();
    else parent.addEventListener('abort', () => ac.abort(), { once: true });
  }
  return ac;
}
