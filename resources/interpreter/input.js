// Waiting for responses. Every wait takes an AbortSignal so a trial can stop listening the
// moment it ends (or the experimenter aborts), and resolves with the event's own timeStamp.
// While the run is paused, key presses and clicks are ignored (the participant is not
// answering), and keys are logged per trial so the recorder can add `response_code`.

import { matchKey, normalizeChoices, normalizeKey } from './keys.js';

const NO_SCROLL = new Set(['space', 'arrowleft', 'arrowright', 'arrowup', 'arrowdown', 'pageup', 'pagedown', 'home', 'end']);

const input = { paused: false, log: null };

export function setInputPaused(paused) { input.paused = Boolean(paused); }
export function inputPaused() { return input.paused; }

// Starts a fresh per-trial log of the keys that answered a wait: [{key, code, timeStamp}].
export function startKeyLog() {
  input.log = [];
  return input.log;
}

export function waitForKey(choices, signal) {
  // An empty list allows no key (not every key, as an absent `choices` would).
  const allowed = Array.isArray(choices) && !choices.length ? 'NO_KEYS' : normalizeChoices(choices);
  return new Promise((resolve) => {
    if (allowed === 'NO_KEYS' || (signal && signal.aborted)) return;
    const onKey = (e) => {
      if (e.repeat || e.ctrlKey || e.metaKey || e.altKey) return;
      if (NO_SCROLL.has(normalizeKey(e.key))) e.preventDefault();
      if (input.paused) return;
      const key = matchKey(allowed, e);
      if (key === null) return;
      document.removeEventListener('keydown', onKey);
      const code = e.code || null;
      if (input.log) input.log.push({ key, code, timeStamp: e.timeStamp });
      resolve({ kind: 'key', key, code, timeStamp: e.timeStamp });
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
      if (input.paused) return;
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
