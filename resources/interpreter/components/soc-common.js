// Small helpers shared by the SOC dashboard's sub-task windows. Pure (node-testable).

import { normalizeKey } from '../keys.js';
import { escapeHtml } from '../ui.js';

export { escapeHtml, normalizeKey };

const finite = (v) => v !== null && v !== undefined && v !== '' && Number.isFinite(Number(v));

// A number from the config kept inside [lo, hi]; `d` when missing or not a number.
export function clampNum(v, lo, hi, d) {
  if (!finite(v)) return d;
  return Math.max(lo, Math.min(hi, Number(v)));
}

export function clamp01(v, d) {
  return clampNum(v, 0, 1, d);
}

export function flag(v, d) {
  if (v === undefined || v === null) return d;
  return v === true || v === 'true' || v === 1;
}

// A list from an array or a comma/newline separated string.
export function tokenList(raw) {
  const items = Array.isArray(raw) ? raw : String(raw ?? '').split(/[\n,]+/);
  return items.map((x) => String(x ?? '').trim()).filter(Boolean);
}

// What to call a key on screen: SPACE, F, ...
export function keyLabel(k) {
  const n = normalizeKey(k);
  return n ? n.toUpperCase() : '';
}

// Instruction text with {{NAME}} (or {{name}}) placeholders filled in, values HTML-escaped.
// The instruction HTML itself is authored by the researcher and shown as written.
export function fillPlaceholders(html, values) {
  let out = String(html ?? '');
  for (const [k, v] of Object.entries(values)) {
    const safe = escapeHtml(String(v ?? ''));
    out = out.split(`{{${k}}}`).join(safe).split(`{{${k.toLowerCase()}}}`).join(safe);
  }
  return out;
}

export function randomIp(rng) {
  const a = rng.pick([10, 172, 192]);
  const b = a === 192 ? 168 : rng.int(0, 255);
  return `${a}.${b}.${rng.int(0, 255)}.${rng.int(1, 254)}`;
}

// HH:MM:SS of a wall-clock time (only shown on screen, never used for timing).
export function clockText(date) {
  const p = (n) => String(n).padStart(2, '0');
  return `${p(date.getHours())}:${p(date.getMinutes())}:${p(date.getSeconds())}`;
}

// A repeating task cycle on session time: `due(t)` is true once per `every` ms, from `first`.
export class Every {
  constructor(every, first = 0) { this.every = every; this.next = first; }

  due(t) {
    if (t < this.next) return false;
    this.next += this.every;
    if (this.next <= t) this.next = t + this.every; // never fire a burst after a long stall
    return true;
  }
}
