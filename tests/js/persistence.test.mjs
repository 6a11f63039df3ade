import { test, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { ApiError, backoffMs } from '../../resources/interpreter/api.js';
import { CheckpointQueue, recoverPending, submitWithRetry } from '../../resources/interpreter/persistence.js';

// A minimal Web Storage stand-in.
class MemoryStorage {
  constructor() { this.m = new Map(); }
  get length() { return this.m.size; }
  key(i) { return [...this.m.keys()][i] ?? null; }
  getItem(k) { return this.m.has(k) ? this.m.get(k) : null; }
  setItem(k, v) { this.m.set(k, String(v)); }
  removeItem(k) { this.m.delete(k); }
}

beforeEach(() => { globalThis.localStorage = new MemoryStorage(); });

const row = (i) => ({ trial_index: i, component_type: 'flanker-trial', rt_ms: 400, response: 'f', correct: true, stimulus_onset_ms: 10, ended_reason: 'response' });
const settle = () => new Promise((r) => setImmediate(r));
async function drain(q) { for (let i = 0; i < 200 && (q.pending.length || q.sending); i++) await settle(); }

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

test('failed checkpoints are retried with growing backoff and nothing is lost', async () => {
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
  assert.ok(localStorage.getItem('cogflow.pending.run-2'), 'unacknowledged rows are kept locally');
  await drain(q);
  assert.deepEqual(stored, [0, 1]);
  assert.deepEqual(waits, [100, 200, 400]);
  assert.equal(localStorage.length, 0);
});

test('a terminal run stops the queue', async () => {
  let calls = 0;
  const post = async () => { calls += 1; return { status: 200, data: { stored: false, reason: 'run_already_terminal' } }; };
  const q = new CheckpointQueue('run-3', () => ({}), { post, wait: async () => {}, backoff: () => 0 });
  q.add(row(0), 1);
  await drain(q);
  q.add(row(1), 2);
  await drain(q);
  assert.equal(calls, 1);
  assert.equal(q.stopped, true);
});

test('rows left by a dead page are handed over on the next start', async () => {
  const dead = new CheckpointQueue('run-4', () => ({}), { post: async () => { throw new TypeError('network down'); }, wait: () => new Promise(() => {}), backoff: () => 0 });
  dead.add(row(0), 1);
  dead.add(row(1), 2);
  await settle();
  const bodies = [];
  const done = await recoverPending({ post: async (path, body) => { bodies.push([path, body]); return { status: 200, data: { stored: true } }; } });
  assert.deepEqual(done, ['run-4']);
  assert.equal(bodies[0][0], 'results/checkpoint');
  assert.equal(bodies[0][1].run_session_id, 'run-4');
  assert.deepEqual(bodies[0][1].trials.map((t) => t.trial_index), [0, 1]);
  assert.equal(localStorage.length, 0);
  // Still failing: kept for the next try.
  const again = new CheckpointQueue('run-5', () => ({}), { post: async () => { throw new TypeError('down'); }, wait: () => new Promise(() => {}), backoff: () => 0 });
  again.add(row(0), 1);
  await settle();
  assert.deepEqual(await recoverPending({ post: async () => { throw new TypeError('still down'); } }), []);
  assert.ok(localStorage.getItem('cogflow.pending.run-5'));
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

test('backoff grows exponentially and is capped', () => {
  for (let a = 0; a < 12; a++) {
    const ms = backoffMs(a, 500, 30000);
    const exp = Math.min(30000, 500 * 2 ** a);
    assert.ok(ms >= exp / 2 && ms <= exp, `${a}: ${ms}`);
  }
});
