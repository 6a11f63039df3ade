// Controls that fit the value: a key-capture field ("press the key"), a colour picker beside a
// colour's text, and the grouping of long forms into collapsible sections. The text input stays
// the source of truth, so any value a config holds ("red", "#FFF", "ArrowLeft") is kept as is;
// the helper controls only write when the researcher uses them.

import { el } from './dom.js';

/** The name the Interpreter expects for a pressed key: KeyboardEvent.key, lower-case for
 * single characters, "space" for the space bar (the reference's spelling). */
export function keyName(event) {
  const k = event.key;
  if (k === ' ' || k === 'Spacebar') return 'space';
  if (k.length === 1) return k.toLowerCase();
  return k;
}

export const isKeyField = (key, p) => /(^|_)key$/.test(key) && !/mapping/.test(key)
  && (p.type === 'string' || (Array.isArray(p.type) && p.type.includes('string')));

const HEX = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i;
export const isColorField = (key, p) => /colou?r/i.test(`${key} ${p.title ?? ''}`) && !/name|mode|options/i.test(key);

/** #abc -> #aabbcc; anything that is not a hex colour -> null. */
export function hex6(value) {
  if (typeof value !== 'string' || !HEX.test(value.trim())) return null;
  const v = value.trim().toLowerCase();
  return v.length === 4 ? `#${v[1]}${v[1]}${v[2]}${v[2]}${v[3]}${v[3]}` : v;
}

/** A text field plus a "press a key" button: the next key pressed is written into the field. */
export function keyCapture(input, title) {
  const button = el('button', { type: 'button', class: 'small key-capture', 'aria-label': `Press the key for ${title}` }, 'Press key…');
  let listening = false;
  const stop = () => {
    listening = false;
    button.textContent = 'Press key…';
    button.classList.remove('listening');
    button.removeEventListener('keydown', onKey, true);
  };
  const onKey = (e) => {
    if (!listening) return;
    if (e.key === 'Tab') { stop(); return; } // keep the keyboard route out of the field
    e.preventDefault();
    e.stopPropagation();
    if (e.key !== 'Escape') {
      input.value = keyName(e);
      input.dispatchEvent(new Event('input', { bubbles: true }));
    }
    stop();
  };
  button.addEventListener('click', () => {
    if (listening) { stop(); return; }
    listening = true;
    button.textContent = 'Press the key now (Esc cancels)';
    button.classList.add('listening');
    button.addEventListener('keydown', onKey, true);
  });
  button.addEventListener('blur', () => { if (listening) stop(); });
  return el('div', { class: 'with-button' }, input, button);
}

/** A text field plus a native colour picker, kept in step when the text is a hex colour. */
export function colorPicker(input, title) {
  const picker = el('input', { type: 'color', class: 'swatch', 'aria-label': `Pick the colour for ${title}` });
  const sync = () => {
    const h = hex6(input.value) ?? hex6(input.placeholder.replace(/^default /, ''));
    picker.value = h ?? '#000000';
    picker.classList.toggle('unknown', !h);
  };
  picker.addEventListener('input', () => {
    input.value = picker.value;
    input.dispatchEvent(new Event('input', { bubbles: true }));
  });
  input.addEventListener('input', sync);
  sync();
  return el('div', { class: 'with-button' }, picker, input);
}

// Sections of a long form, in the order shown. A field goes to the first group whose test
// matches its key or title; what matches none stays in the first, "Main" group.
export const FIELD_GROUPS = [
  { id: 'main', label: 'Main', test: () => false },
  { id: 'responses', label: 'Responses', test: (s) => /(^|_)keys?\b|_key_|choices|response|button|mapping|device|paradigm|require/.test(s) },
  { id: 'timing', label: 'Timing', test: (s) => /_ms\b|duration|iti|interval|deadline|delay|timeout|foreperiod|soa|frames?\b|seconds/.test(s) },
  { id: 'appearance', label: 'Appearance', test: (s) => /colou?r|size|font|_px\b|canvas|aperture|width|height|background|theme|shape|border|position|align|fixation|layout|grid/.test(s) },
  { id: 'feedback', label: 'Feedback', test: (s) => /feedback/.test(s) },
];

export function fieldGroupOf(key, prop) {
  const s = `${key} ${(prop.title ?? '').toLowerCase()}`;
  // Feedback first: "feedback_duration_ms" is about feedback more than timing.
  if (FIELD_GROUPS[4].test(s)) return 'feedback';
  return FIELD_GROUPS.slice(1, 4).find((g) => g.test(s))?.id ?? 'main';
}
