import { test, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { ApiError, backoffMs } from '../../resources/interpreter/api.js';
import { CheckpointQueue, recoverPending, submitWithRetry } from '../../resources/interpreter/persistence.js';
import { fromBase64, toBase64, truncateText, wellFormed } from '../../resources/interpreter/sealing.js';

// A minimal Web Storage stand-in.
class MemoryStorage {
  constructor() { this.m = new Map(); }
  get length() { return this.m.size; }
  key(i) { return [...this.m.keys()][i] ?? null; }
  getItem(k) { return this.m.has(k) ? this.m.get(k) : null; }
  setItem(k, v) { this.m.set(k, String(v)); }
  removeItem(k) { this.m.delete(k); }
  dump() { return [...this.m.values()].join(''); }
}

beforeEach(() => { globalThis.localStorage = new MemoryStorage(); });

const row = (i, extra = {}) => ({ trial_index: i, component_type: 'flanker-trial', rt_ms: 400, response: 'f', correct: true, stimulus_onset_ms: 10, ended_reason: 'response', ...extra });
const settle = () => new Promise((r) => setImmediate(r));
async function drain(q) { for (let i = 0; i < 200 && (q.pending.length || q.sending); i++) await settle(); }
async function sealedSettled(q) { if (q.sealed) await q.sealed.chain; }

// The install key pair a server would have (X25519), for the sealing tests.
async function installKeys() {
  const pair = await crypto.subtle.generateKey({ name: 'X25519' }, true, ['deriveBits']);
  const pub = new Uint8Array(await crypto.subtle.exportKey('raw', pair.publicKey));
  return { pair, pub, b64: toBase64(pub) };
}

// Open what the page sealed, as the server's envelopes.unseal / decrypt would.
async function unseal(pair, pub, blob, aad) {
  const eph = blob.subarray(1, 33);
  const ephKey = await crypto.subtle.importKey('raw', eph, { name: 'X25519' }, false, []);
  const shared = await crypto.subtle.deriveBits({ name: 'X25519', public: ephKey }, pair.privateKey, 256);
  const hk = await crypto.subtle.importKey('raw', shared, 'HKDF', false, ['deriveKey']);
  const salt = new Uint8Array([...eph, ...pub]);
  const key = await crypto.subtle.deriveKey({ name: 'HKDF', hash: 'SHA-256', salt, info: new TextEncoder().encode('cogflow-desktop seal v1') }, hk, { name: 'AES-GCM', length: 256 }, false, ['decrypt']);
  return new Uint8Array(await crypto.subtle.decrypt({ name: 'AES-GCM', iv: blob.subarray(33, 45), additionalData: new TextEncoder().encode(aad) }, key, blob.subarray(45)));
}

async function decrypt(raw, blob, aad) {
  const key = await crypto.subtle.importKey('raw', raw, 'AES-GCM', false, ['decrypt']);
  return new Uint8Array(await crypto.subtle.decrypt({ name: 'AES-GCM', iv: blob.subarray(1, 13), additionalData: new TextEncoder().encode(aad) }, key, blob.subarray(13)));
}

test('rows are posted in order without blocking add(), batching what piled up', async () => {
  const posts = [];
  let release;
  const gate = new Promise((r) => { release = r; });
  const post = async (path, body) => { posts.push(body); if (posts.length === 1) await gate; return { status: 200, data: { stored: true } }; };
  const q = new CheckpointQueue('run-1', () => ({ partial: true }), { post, wait: async () => {}, backoff: () => 0 });
  const t0 = performance.now();
  for (let i = 0; i < 5; i++) q.add(row(i), i + 1);
  assert.ok(performance.now() - t0 < 50, 'add() does not wait for the network');
  release();
  await drain(q);
  assert.deepEqual(posts.flatMap((b) => b.trials.map((t) => t.trial_index)), [0, 1, 2, 3, 4]);
  assert.equal(posts.length, 2, 'first row alone, the four that queued meanwhile in one batch');
  assert.deepEqual(posts.map((b) => b.checkpoint_index), [0, 1]);
  assert.equal(posts[1].trial_count, 5);
  assert.equal(posts[1].checkpoint_label, 'trial-4');
  assert.equal(localStorage.length, 0, 'nothing left locally once acknowledged');
});

test('failed checkpoints are retried with growing backoff, in memory only without a key', async () => {
  let calls = 0;
  const waits = [];
  const stored = [];
  const post = async (path, body) => {
    calls += 1;
    if (calls <= 3) throw new ApiError(503, { error: 'busy' });
    stored.push(...body.trials.map((t) => t.trial_index));
    return { status: 200, data: { stored: true } };
  };
  const q = new CheckpointQueue('run-2', () => ({}), { post, wait: async (ms) => { waits.push(ms); }, backoff: (a) => 100 * 2 ** a });
  q.add(row(0), 1);
  q.add(row(1), 2);
  assert.equal(localStorage.length, 0, 'no sealing key (e.g. a central server): memory only');
  await drain(q);
  assert.deepEqual(stored, [0, 1]);
  assert.deepEqual(waits, [100, 200, 400]);
});

test('unacknowledged rows are kept locally only sealed to the install key', async () => {
  const { pair, pub, b64 } = await installKeys();
  const q = new CheckpointQueue('run-s', () => ({}), { post: async () => { throw new TypeError('network down'); }, wait: () => new Promise(() => {}), backoff: () => 0, sealTo: b64 });
  q.add(row(0, { response: 'SECRET-RESPONSE-0' }), 1);
  q.add(row(1, { response: 'SECRET-RESPONSE-1' }), 2);
  await sealedSettled(q);
  const stored = JSON.parse(localStorage.getItem('cogflow.sealed.run-s'));
  assert.ok(!localStorage.dump().includes('SECRET-RESPONSE'), 'no plaintext in storage');
  assert.deepEqual(Object.keys(stored.trials).sort(), ['0', '1']);
  // The install private key opens it, exactly as the server's envelope format says.
  const raw = await unseal(pair, pub, fromBase64(stored.sealed_key), 'cogflow:page-key:run-s');
  const plain = JSON.parse(new TextDecoder().decode(await decrypt(raw, fromBase64(stored.trials['1']), 'cogflow:trial:run-s:1')));
  assert.equal(plain.response, 'SECRET-RESPONSE-1');
  // The trial's associated data names its row: it does not open as another one.
  await assert.rejects(decrypt(raw, fromBase64(stored.trials['1']), 'cogflow:trial:run-s:0'));
  assert.match(stored.key_fingerprint, /^[0-9a-f]{64}$/);
});

test('acknowledged rows leave the sealed copy; a finished run clears it', async () => {
  const { b64 } = await installKeys();
  let down = true;
  const q = new CheckpointQueue('run-a', () => ({}), { post: async () => { if (down) throw new TypeError('down'); return { status: 200, data: { stored: true } }; }, wait: async () => { await settle(); down = false; }, backoff: () => 0, sealTo: b64 });
  q.add(row(0), 1);
  q.add(row(1), 2);
  await drain(q);
  await sealedSettled(q);
  assert.equal(localStorage.getItem('cogflow.sealed.run-a'), null);
  await q.keepPayload({ status: 'completed' });
  assert.ok(localStorage.getItem('cogflow.sealed.run-a'), 'the final payload is kept while submitting');
  q.stop({ clear: true });
  await sealedSettled(q);
  assert.equal(localStorage.length, 0);
});

test('sealed buffers left by a dead page go to results/recover, still sealed', async () => {
  const { b64 } = await installKeys();
  const dead = new CheckpointQueue('run-4', () => ({}), { post: async () => { throw new TypeError('network down'); }, wait: () => new Promise(() => {}), backoff: () => 0, sealTo: b64 });
  dead.add(row(0), 1);
  dead.add(row(1), 2);
  await sealedSettled(dead);
  const bodies = [];
  const done = await recoverPending({ post: async (path, body) => { bodies.push([path, body]); return { status: 200, data: { stored: true } }; } });
  assert.deepEqual(done, ['run-4']);
  assert.equal(bodies[0][0], 'results/recover');
  assert.equal(bodies[0][1].run_session_id, 'run-4');
  assert.deepEqual(bodies[0][1].trials.map((t) => t.trial_index), [0, 1]);
  assert.ok(bodies[0][1].trials.every((t) => typeof t.ciphertext === 'string' && !t.response));
  assert.equal(localStorage.length, 0);
  // Still unreachable: kept for the next try; a run the server does not know: dropped.
  const again = new CheckpointQueue('run-5', () => ({}), { post: async () => { throw new TypeError('down'); }, wait: () => new Promise(() => {}), backoff: () => 0, sealTo: b64 });
  again.add(row(0), 1);
  await sealedSettled(again);
  assert.deepEqual(await recoverPending({ post: async () => { throw new TypeError('still down'); } }), []);
  assert.ok(localStorage.getItem('cogflow.sealed.run-5'));
  assert.deepEqual(await recoverPending({ post: async () => { throw new ApiError(404, { error: 'gone' }); } }), []);
  assert.equal(localStorage.length, 0);
});

test('plaintext copies an earlier version left are handed over and deleted', async () => {
  localStorage.setItem('cogflow.pending.old-run', JSON.stringify({ run_session_id: 'old-run', trial_count: 1, trials: [row(0)] }));
  const bodies = [];
  await recoverPending({ post: async (path, body) => { bodies.push([path, body]); return { status: 200, data: {} }; } });
  assert.equal(bodies[0][0], 'results/checkpoint');
  assert.equal(localStorage.length, 0);
});

test('submit retries until acknowledged and reports a conflict without retrying', async () => {
  let n = 0;
  const retries = [];
  const res = await submitWithRetry({ run_session_id: 'r' }, {
    post: async () => { n += 1; if (n < 3) throw new ApiError(500, { error: 'x' }); return { status: 201, data: { stored: true } }; },
    wait: async () => {}, onRetry: (err, attempt) => retries.push(attempt),
  });
  assert.equal(res.ok, true);
  assert.equal(res.status, 201);
  assert.deepEqual(retries, [0, 1]);
  const conflict = await submitWithRetry({}, { post: async () => { throw new ApiError(409, { error: 'different' }); }, wait: async () => { throw new Error('must not wait'); } });
  assert.equal(conflict.conflict, true);
});

test('submit gives up on an answer that will not change, keeps retrying while unreachable', async () => {
  // The same 400 again and again: a few tries, then given up (the caller keeps the data sealed).
  let calls = 0;
  const bad = await submitWithRetry({}, { post: async () => { calls += 1; throw new ApiError(400, { error: 'refused' }); }, wait: async () => {} });
  assert.equal(bad.gaveUp, true);
  assert.equal(calls, 3);
  // The same 500 for longer than giveUpAfterMs: given up too (time is the caller's clock).
  let now = 0;
  const stuck = await submitWithRetry({}, { post: async () => { throw new ApiError(500, { error: 'broken' }); }, wait: async (ms) => { now += ms; }, now: () => now, giveUpAfterMs: 120000 });
  assert.equal(stuck.gaveUp, true);
  assert.ok(now >= 120000 && now < 240000, String(now));
  // Unreachable (the server is down) or throttled: never given up; it gets through later.
  let tries = 0;
  const later = await submitWithRetry({}, { post: async () => { tries += 1; if (tries < 40) throw (tries % 2 ? new TypeError('Failed to fetch') : new ApiError(429, {})); return { status: 201, data: {} }; }, wait: async () => {}, now: () => 0 });
  assert.equal(later.ok, true);
});

test('text the server cannot store is made well-formed; truncation keeps surrogate pairs', () => {
  const broken = { ['k\uD800']: ['ok \uD83D\uDE00', 'half \uD83D'], n: 1 };
  assert.deepEqual(wellFormed(broken), { ['k\uFFFD']: ['ok \uD83D\uDE00', 'half \uFFFD'], n: 1 });
  const s = 'ab\uD83D\uDE00cd';
  assert.equal(truncateText(s, 3), 'ab', 'never ends inside a surrogate pair');
  assert.equal(truncateText(s, 4), 'ab\uD83D\uDE00');
  assert.equal(truncateText(s, 100), s);
  const sent = [];
  const q = new CheckpointQueue('run-w', () => ({ note: 'x\uDC00' }), { post: async (path, body) => { sent.push(body); return new Promise(() => {}); } });
  q.add(row(0, { response: 'cut \uD83D' }), 1);
  assert.equal(sent[0].trials[0].response, 'cut \uFFFD');
  assert.deepEqual(sent[0].result_payload, { note: 'x\uFFFD' });
});

test('backoff grows exponentially and is capped', () => {
  for (let a = 0; a < 12; a++) {
    const ms = backoffMs(a, 500, 30000);
    const exp = Math.min(30000, 500 * 2 ** a);
    assert.ok(ms >= exp / 2 && ms <= exp, `${a}: ${ms}`);
  }
});
