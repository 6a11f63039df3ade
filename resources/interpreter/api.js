// The v1 contract client. Relative URLs only, so the Interpreter works against any server that
// serves it at /interpreter/ and the API at /api/v1/ (the embedded one or the central one).

export const API_BASE = '../api/v1/';

function csrfToken() {
  const cookie = typeof document !== 'undefined' ? document.cookie || '' : '';
  const m = /(?:^|;\s*)csrftoken=([^;]+)/.exec(cookie);
  return m ? decodeURIComponent(m[1]) : null;
}

export class ApiError extends Error {
  constructor(status, body, retryAfter = null) {
    super(`HTTP ${status}: ${body && (body.error || body.detail) ? (body.error || body.detail) : JSON.stringify(body)}`);
    this.status = status;
    this.body = body;
    this.retryAfter = retryAfter; // seconds the server asked us to wait (Retry-After), or null
  }
}

// Retry-After in seconds (the server sends whole seconds; an HTTP date is not used by it).
function retryAfterSeconds(res) {
  const raw = res.headers && typeof res.headers.get === 'function' ? res.headers.get('Retry-After') : null;
  const n = raw === null ? NaN : Number(raw);
  return Number.isFinite(n) && n >= 0 ? n : null;
}

export async function postJson(path, body, { keepalive = false } = {}) {
  const headers = { 'Content-Type': 'application/json', Accept: 'application/json' };
  const token = csrfToken();
  if (token) headers['X-CSRFToken'] = token;
  const res = await fetch(API_BASE + path, {
    method: 'POST', credentials: 'same-origin', headers, body: JSON.stringify(body), keepalive,
  });
  let data = null;
  try { data = await res.json(); } catch { data = null; }
  if (!res.ok) throw new ApiError(res.status, data, retryAfterSeconds(res));
  return { status: res.status, data };
}

export const startRun = (studySlug, participantId) => postJson('runs/start', {
  study_slug: studySlug, ...(participantId ? { participant_external_id: participantId } : {}),
});

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Exponential backoff with jitter, capped; attempt 0 -> ~0.5 s.
export function backoffMs(attempt, base = 500, cap = 30000) {
  const exp = Math.min(cap, base * 2 ** attempt);
  return exp / 2 + Math.random() * exp / 2;
}
