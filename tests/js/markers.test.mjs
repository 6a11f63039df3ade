import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MarkerLink, START_PROBES, wantsHardware } from '../../resources/interpreter/markers.js';

const OFFSET_S = 5000; // the fake host's LSL clock is the page clock plus this
const settle = async (n = 20) => { for (let i = 0; i < n; i++) await new Promise((r) => setTimeout(r, 0)); };

// A host that answers as cogflow_desktop/hardware/host.py does, and fails on request.
function fakeHost({ enabled = true, failMarkers = 0 } = {}) {
  const requests = [];
  let pushed = 0;
  let failures = failMarkers;
  let lastSeq = -1;
  const host = {
    kind: 'fake',
    requests,
    pushedSeqs: [],
    async request(msg) {
      requests.push(msg);
      if (msg.op === 'hello') return { enabled, lsl: enabled, triggers: false, stream_name: 'CogFlow-x', source_id: 'cogflow-abc-x', reasons: enabled ? [] : ['LSL markers are turned off on this computer.'] };
      if (msg.op === 'clock' && !msg.samples) return { lsl_s: performance.now() / 1000 + OFFSET_S };
      if (msg.op === 'clock') {
        const best = msg.samples.reduce((a, b) => (b.page_received_ms - b.page_sent_ms < a.page_received_ms - a.page_sent_ms ? b : a));
        return { estimate: { offset_s: best.lsl_s - (best.page_sent_ms + best.page_received_ms) / 2000, uncertainty_s: 0.0004 } };
      }
      if (msg.op === 'markers') {
        if (failures > 0) { failures -= 1; throw new Error('HTTP 503'); }
        for (const m of msg.markers) if (m.seq > lastSeq) { lastSeq = m.seq; pushed += 1; host.pushedSeqs.push(m.seq); }
        return { pushed: msg.markers.length, total: pushed };
      }
      if (msg.op === 'summary') return { markers_pushed: pushed, clock: { syncs: [] }, reasons: [] };
      throw new Error(`unexpected ${msg.op}`);
    },
  };
  return host;
}

const fastSchedule = { schedule: (fn) => setTimeout(fn, 0), cancel: (id) => clearTimeout(id) };

test('wantsHardware: only a config that turns lsl or triggers on', () => {
  assert.equal(wantsHardware({ lsl: { enabled: true } }), true);
  assert.equal(wantsHardware({ triggers: { enabled: true, codes: {} } }), true);
  assert.equal(wantsHardware({ lsl: { enabled: 'yes' } }), false);
  assert.equal(wantsHardware({}), false);
  assert.equal(wantsHardware(null), false);
});

test('connect: hello, then a clock burst; events are stamped on the LSL clock', async () => {
  const host = fakeHost();
  const link = await new MarkerLink(host, 'run-1', fastSchedule).connect();
  assert.ok(link.enabled && link.lslOn);
  const probes = host.requests.filter((r) => r.op === 'clock' && !r.samples);
  assert.ok(probes.length >= START_PROBES);
  const burst = host.requests.find((r) => r.op === 'clock' && r.samples);
  assert.equal(burst.samples.length, probes.length);
  assert.ok(Math.abs(link.estimate.offset_s - OFFSET_S) < 0.01);
  assert.equal(link.toLsl(1234.5), 1.2345 + link.estimate.offset_s);
});

test('emit never sends on the spot; batches go in order; a failed batch is retried', async () => {
  const host = fakeHost({ failMarkers: 2 });
  const link = await new MarkerLink(host, 'run-1', fastSchedule).connect();
  const before = host.requests.length;
  link.t0 = 100;
  const lsl = link.emit('onset', 150.25, { trial_index: 0, component_type: 'flanker-trial', rt_ms: 1 / 3, response: { a: 1 } });
  assert.equal(host.requests.length, before, 'nothing sent inside emit()');
  assert.equal(lsl, link.toLsl(150.25));
  for (let i = 1; i < 5; i++) link.emit('offset', 150 + i);
  await link.drained();
  assert.deepEqual(host.pushedSeqs, [0, 1, 2, 3, 4]);
  const sent = host.requests.filter((r) => r.op === 'markers');
  assert.equal(sent.length, 3, 'two failures, then the same batch again');
  const first = sent[2].markers[0];
  assert.equal(first.data.t_ms, 50.25, 'rows clock: ms since the run start');
  assert.equal(first.data.rt_ms, 0.333, 'ms fields rounded to µs');
  assert.equal('response' in first.data, false, 'objects stay in the rows');
  assert.equal(link.acknowledged, 5);
  assert.equal(link.failed, 0);
});

test('a finished row gets markers for what was not marked live, and its lsl_onset_time', async () => {
  const host = fakeHost();
  const link = await new MarkerLink(host, 'run-1', fastSchedule).connect();
  const run = { t0: 0, rows: [], runSeed: 1, start: { study_slug: 'x' } };
  link.runStart(run);
  const trial = { start: 10, spec: { component_type: 'flanker-trial', meta: { block_index: 0, label: 'main' } } };
  const mark = link.trialStart(run, trial);
  const onsetLsl = mark('onset', 20);
  const row = { trial_index: 0, stimulus_onset_ms: 20, stimulus_offset_ms: 120, rt_ms: 300.5, response: 'f' };
  link.rowRecorded(run, trial, row);
  assert.equal(row.lsl_onset_time, onsetLsl, 'the live onset marker is the row\'s onset');
  await link.drained();
  const markers = host.requests.filter((r) => r.op === 'markers').flatMap((r) => r.markers);
  assert.deepEqual(markers.map((m) => [m.event, m.live]), [
    ['run_start', true], ['block_start', true], ['onset', true], ['offset', false], ['response', false],
  ]);
  const response = markers[4];
  assert.equal(response.page_ms, 320.5);
  assert.equal(response.data.response, 'f');
  assert.equal(response.data.label, 'main');
  const info = await link.close(run, 'completed');
  const last = host.requests.filter((r) => r.op === 'markers').flatMap((r) => r.markers).slice(-2);
  assert.deepEqual(last.map((m) => m.event), ['block_end', 'run_end']);
  assert.equal(info.markers_pushed, 7);
  assert.equal(info.markers_sent, 7);
  assert.equal(host.requests.at(-1).op, 'summary');
  assert.equal(host.requests.at(-1).end, true);
});

test('host says no: nothing is sent, and the reasons are kept for the record', async () => {
  const host = fakeHost({ enabled: false });
  const link = await new MarkerLink(host, 'run-1', fastSchedule).connect();
  assert.equal(link.enabled, false);
  assert.equal(link.emit('onset', 1), null);
  await settle();
  assert.deepEqual(host.requests.map((r) => r.op), ['hello']);
  assert.deepEqual(link.info().reasons, ['LSL markers are turned off on this computer.']);
});

test('a host that does not answer: the run goes on with a reason', async () => {
  const link = await new MarkerLink({ kind: 'http', request: async () => { throw new Error('HTTP 404: not on'); } }, 'run-1', fastSchedule).connect();
  assert.equal(link.enabled, false);
  assert.match(link.reasons[0], /did not answer: HTTP 404: not on/);
});

test('support.js honours lsl and triggers, and says when a code could never be sent', async () => {
  const { findUnsupported } = await import('../../resources/interpreter/support.js');
  const base = { experiment_type: 'trial-based', timeline: [] };
  assert.deepEqual(findUnsupported({ ...base, lsl: { enabled: true, stream_name: 'EEG' }, triggers: { enabled: true, codes: { 'flanker-trial': 1, 'drt-stimulus': 2, response: 3 } } }), []);
  const refused = findUnsupported({ ...base, lsl: { enabled: true, rate: 100 }, triggers: { enabled: true, codes: { flanker: 1 } } });
  assert.deepEqual(refused.map((x) => x.message), [
    'Setting "lsl.rate" is not used by this version.',
    'Setting "triggers.codes.flanker": this version has no component type "flanker", so its code would never be sent.',
  ]);
  assert.deepEqual(refused.map((x) => x.path), ['/lsl/rate', '/triggers/codes/flanker']);
});
