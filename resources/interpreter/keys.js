// Key names: one normal form for config values and KeyboardEvent.key, so 'space', ' ',
// 'Space', 'ArrowLeft' and 'arrowleft' compare equal on every platform.

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

export function keyAllowed(choices, key) {
  if (choices === 'ALL_KEYS') return true;
  if (choices === 'NO_KEYS') return false;
  return choices.includes(normalizeKey(key));
}
