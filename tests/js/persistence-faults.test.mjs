// Storage faults seen by the page: a full disk (507) or a database another program holds (503
// with Retry-After) pause recording; rows stay queued and sealed, the queue asks again once per
// Retry-After (no spinning), and the pause is published for the experimenter only.
import { test, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { ApiError } from '../../resources/interpreter/api.js';
import { CheckpointQueue, storagePause, submitWithRetry } from '../../resources/interpreter/persistence.js';
import { toBase64 } from '../../resources/interpreter/sealing.js';

class MemoryStorage {
  constructor() { this.m = new Map(); }
  get length() { return this.m.size; }
  key(i) { return [...this.m.keys()][i] ?? null; }
  getItem(k) { return this.m.has(k) ? this.m.get(k) : null; }
  setItem(k, v) { this.m.set(k, String(v)); }
  removeItem(k) { this.m.delete(k); }
  dump() { return [...this.m.values()].join(''); }
}

beforeEach(() => { globalThis.localStorage = new MemoryStorage(); delete globalThis.cogflowRecording; });

const row = (i) => ({ trial_index: i, component_type: 'flanker-trial', rt_ms: 400, response: 'secret-answer', correct: true });
const settle = () => new Promise((r) => setImmediate(r));
const FULL = 'The disk that holds the data folder is full, so this was not stored; it will be stored when sent again once some space is free.';

async function sealKey() {
  const pair = await crypto.subtle.generateKey({ name: 'X25519' }, true, ['deriveBits']);
  return toBase64(new Uint8Array(await crypto.subtle.exportKey('raw', pair.publicKey)));
}

test('a 507 pauses recording: rows kept sealed, one attempt per Retry-After, resumed when space is back', async () => {
  let diskFull = true;
  const attempts = [];
  const stored = [];
  const waits = [];
  let waited; // resolves the queue's current wait, i.e. "Retry-After seconds later"
  const post = async (path, body) => {
    attempts.push(body.trials.map((t) => t.trial_index));
    if (diskFull) throw new ApiError(507, { detail: FULL }, 30);
    stored.push(...body.trials.map((t) => t.trial_index));
    return { status: 200, data: { stored: true } };
  };
  const wait = (ms) => { waits.push(ms); return new Promise((r) => { waited = r; }); };
  const states = [];
  const q = new CheckpointQueue('run-full', () => ({}), { post, wait, backoff: () => 1, sealTo: await sealKey(), onState: (s) => states.push(s) });
  q.add(row(0), 1);
  for (let i = 0; i < 20; i++) await settle();
  // The participant goes on: three more trials while the disk is full.
  for (let i = 1; i <= 3; i++) q.add(row(i), i + 1);
  for (let i = 0; i < 20; i++) await settle();

  assert.equal(attempts.length, 1, 'no retry while waiting: one attempt, then Retry-After');
  assert.deepEqual(waits, [30000], 'waits what the server asked, not a growing backoff');
  assert.equal(q.failures, 0, 'a pause is not a failure to back off from');
  assert.deepEqual(q.pending.map((r) => r.trial_index), [0, 1, 2, 3], 'nothing dropped');
  await q.sealed.chain;
  assert.ok(localStorage.length > 0, 'a sealed copy is kept while the server cannot store');
  assert.ok(!localStorage.dump().includes('secret-answer'), 'the local copy is sealed, never plaintext');
  assert.equal(globalThis.cogflowRecording.state, 'paused');
  assert.equal(globalThis.cogflowRecording.reason, 'disk_full');
  assert.equal(globalThis.cogflowRecording.detail, FULL);
  assert.ok(states.some((s) => s.paused && s.reason === 'disk_full'));

  waited(); // 30 s later, still full: one more attempt, one more wait
  for (let i = 0; i < 20; i++) await settle();
  assert.equal(attempts.length, 2);
  assert.deepEqual(waits, [30000, 30000]);

  diskFull = false; // the experimenter freed space
  waited();
  for (let i = 0; i < 50 && q.pending.length; i++) await settle();
  assert.deepEqual(stored, [0, 1, 2, 3], 'every row stored, in order');
  assert.equal(globalThis.cogflowRecording.state, 'recording');
  assert.equal(globalThis.cogflowRecording.resumed, true);
  await q.sealed.chain;
  assert.equal(localStorage.length, 0, 'the sealed copy goes once acknowledged');
});

test('which failures pause recording', () => {
  assert.equal(storagePause(new ApiError(507, { detail: FULL }, 30)).reason, 'disk_full');
  assert.equal(storagePause(new ApiError(503, { detail: 'locked' }, 5)).reason, 'storage_unavailable');
  assert.equal(storagePause(new ApiError(503, { detail: 'locked' }, 5)).waitMs, 5000);
  assert.equal(storagePause(new ApiError(507, {}, 9999)).waitMs, 60000, 'capped at a minute');
  assert.equal(storagePause(new ApiError(503, { error: 'busy' })), null, 'a 503 without Retry-After is an ordinary failure');
  assert.equal(storagePause(new ApiError(500, {})), null);
  assert.equal(storagePause(new TypeError('Failed to fetch')), null);
});

test('submit waits Retry-After on a full disk and reports the pause until it is stored', async () => {
  let calls = 0;
  const waits = [];
  const res = await submitWithRetry({ run_session_id: 'r' }, {
    post: async () => { calls += 1; if (calls < 3) throw new ApiError(507, { detail: FULL }, 30); return { status: 201, data: {} }; },
    wait: async (ms) => { waits.push(ms); assert.equal(globalThis.cogflowRecording.state, 'paused'); },
  });
  assert.equal(res.ok, true);
  assert.deepEqual(waits, [30000, 30000]);
  assert.equal(globalThis.cogflowRecording.state, 'recording');
});
