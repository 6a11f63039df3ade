// Key names: one normal form for config values and KeyboardEvent.key, so 'space', ' ',
// 'Space', 'ArrowLeft' and 'arrowleft' compare equal on every platform.
//
// Physical keys: a config key that names a key with a fixed place on the keyboard (the letters
// a-z, the digits 0-9, space, the arrows, enter, escape, tab, backspace) is matched by
// KeyboardEvent.code, the key's position, whatever the keyboard layout types there. So 'f' is
// the key right of D on every keyboard (on a Russian layout it types 'а'), '1' is the top-row
// key left of 2 (on a French AZERTY keyboard it types '&' without Shift) or the keypad's 1, and
// 'z' is the key left of X (labelled Y on a German keyboard). Positions follow the US layout,
// as KeyboardEvent.code does. Any other name (punctuation, 'ä', 'ß', '+') has no fixed place
// and matches by the character typed (KeyboardEvent.key). An event without a usable code (some
// on-screen keyboards and input methods) matches by the character typed.

const ALIASES = {
  ' ': 'space', spacebar: 'space', 'space bar': 'space',
  return: 'enter', esc: 'escape',
  left: 'arrowleft', right: 'arrowright', up: 'arrowup', down: 'arrowdown',
};

export function normalizeKey(key) {
  if (key === null || key === undefined) return null;
  const raw = String(key);
  if (raw === ' ') return 'space';
  const k = raw.trim().toLowerCase();
  if (!k) return null;
  return ALIASES[k] ?? k;
}

const CODE_NAMES = {
  Space: 'space', Enter: 'enter', NumpadEnter: 'enter', Escape: 'escape', Tab: 'tab', Backspace: 'backspace',
  ArrowLeft: 'arrowleft', ArrowRight: 'arrowright', ArrowUp: 'arrowup', ArrowDown: 'arrowdown',
};

// The physical key name of a KeyboardEvent.code ('KeyF' -> 'f', 'Digit1'/'Numpad1' -> '1'), or null.
export function physicalName(code) {
  if (!code) return null;
  const c = String(code);
  let m = /^Key([A-Z])$/.exec(c);
  if (m) return m[1].toLowerCase();
  m = /^(?:Digit|Numpad)([0-9])$/.exec(c);
  if (m) return m[1];
  return CODE_NAMES[c] ?? null;
}

const PHYSICAL = new Set([...'abcdefghijklmnopqrstuvwxyz0123456789', ...new Set(Object.values(CODE_NAMES))]);

// True for a (normalised) config key name that is matched by position.
export function isPhysicalName(name) {
  return PHYSICAL.has(name);
}

// Any `choices` form -> 'ALL_KEYS' | 'NO_KEYS' | [normalised keys].
export function normalizeChoices(choices, fallback = 'ALL_KEYS') {
  if (choices === undefined || choices === null || choices === '') return fallback;
  if (Array.isArray(choices)) {
    const keys = choices.map(normalizeKey).filter(Boolean);
    return keys.length ? keys : fallback;
  }
  if (choices === ' ') return ['space'];
  const s = String(choices).trim();
  const u = s.toUpperCase().replace(/[\s-]/g, '_');
  if (u === 'ALL_KEYS' || u === 'ALLKEYS' || u === 'ALL') return 'ALL_KEYS';
  if (u === 'NO_KEYS' || u === 'NOKEYS' || u === 'NONE') return 'NO_KEYS';
  const keys = s.split(',').map(normalizeKey).filter(Boolean);
  return keys.length ? keys : fallback;
}

// Is a typed key name allowed by `choices` (by the character typed only)?
export function keyAllowed(choices, key) {
  if (choices === 'ALL_KEYS') return true;
  if (choices === 'NO_KEYS') return false;
  return choices.includes(normalizeKey(key));
}

// The config key name a KeyboardEvent answers (`choices` normalised), or null. With ALL_KEYS it
// is the character typed, normalised (the key's position is still recorded as response_code).
export function matchKey(choices, event) {
  if (choices === 'NO_KEYS' || !event) return null;
  const typed = normalizeKey(event.key);
  const code = event.code && event.code !== 'Unidentified' ? String(event.code) : '';
  const phys = physicalName(code);
  if (choices === 'ALL_KEYS') return typed ?? phys;
  if (phys && choices.includes(phys)) return phys;
  if (typed && choices.includes(typed) && (!isPhysicalName(typed) || !code)) return typed;
  return null;
}
