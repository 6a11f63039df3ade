// Continuing a kiosk run after its page died (issue #17). Pure logic, no DOM: the runtime
// calls it, node tests exercise it (tests/js/resume.test.mjs).
//
// While a run is live in the desktop app (runs/start answered `resume_snapshots: true`), the
// page sends a *resume snapshot* before and after each trial (`runs/resume-snapshot`): the run seed, the
// index of the timeline item about to run and of the next trial row, and the runtime's
// adaptive state (staircases, QUEST, rewards, PVT repeats, learning criteria: everything
// components keep in `run.state`). The app holds only
// the newest one per run, in memory (cogflow_desktop/services/resume_snapshots.py). After a
// crash the kiosk reloads the Interpreter with ?recover=1&resume=<run>&grant=<one-time>;
// the page hands over the sealed buffer, reads the snapshot back, compiles the same config with
// the same seed (the schedule is a pure function of both, see compiler.js), skips the items
// already run, and records on into the same run with the next trial index. Recorded trials are
// never read back: the snapshot says where the run stands (though adaptive state holds what
// its procedures keep of earlier answers, as the live page does).

import { fromResumeRecord, hasResumeRecord } from './adaptive.js';

export const SNAPSHOT_FORMAT = 'cogflow-resume-v1';
const REPLAY = '$replay'; // a procedure (QUEST, staircase, Gabor adaptive) as its replay record

// The state as plain data: adaptive procedures become their replay records (adaptive.js).
export function stateToData(value, depth = 0) {
  if (depth > 32) return value;
  if (hasResumeRecord(value)) return { [REPLAY]: value.resumeRecord() };
  if (Array.isArray(value)) return value.map((v) => stateToData(v, depth + 1));
  if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    const out = {};
    for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = stateToData(v, depth + 1);
    return out;
  }
  return value;
}

// The inverse: replay records become live procedures again, in the state they had.
export function stateFromData(value, depth = 0) {
  if (depth > 32 || !value || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => stateFromData(v, depth + 1));
  if (Object.keys(value).length === 1 && value[REPLAY]) {
    const rebuilt = fromResumeRecord(value[REPLAY]);
    if (!rebuilt) throw new Error('This run cannot be continued: an adaptive procedure of it is of an unknown kind.');
    return rebuilt;
  }
  const out = {};
  for (const [k, v] of Object.entries(value)) out[k] = stateFromData(v, depth + 1);
  return out;
}

// Is this JSON that reads back as exactly the same value (no functions, class instances,
// NaN, undefined array items)? Component state must be, or the run cannot continue exactly.
export function plainData(value, depth = 0) {
  if (depth > 32) return false;
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return true;
  if (typeof value === 'number') return Number.isFinite(value);
  if (Array.isArray(value)) return value.every((v) => plainData(v, depth + 1));
  if (typeof value === 'object') {
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) return false;
    // An undefined member is dropped by JSON and reads back as undefined all the same.
    return Object.values(value).every((v) => v === undefined || plainData(v, depth + 1));
  }
  return false;
}

const EYE_TRACKING = 'the eye tracker\'s calibration lived in the page that stopped';
const DRT_RUNNING = 'a detection-response task was running, and its timing cannot be picked up again';

// One pass over the state: a plain-data copy of it (fresh objects and arrays; procedures as
// replay records), or why it cannot be saved.
export function captureState(state) {
  const data = stateToData(state || {});
  for (const [key, value] of Object.entries(data)) {
    if (!plainData(value)) return { data: null, reason: `the state of "${key}" cannot be saved outside the page` };
  }
  return { data, reason: null };
}

// One sentence saying why the run cannot continue exactly from here, or null when it can.
export function notResumableReason({ state, drtActive = false, eyeTracking = false }) {
  if (eyeTracking) return EYE_TRACKING;
  if (drtActive) return DRT_RUNNING;
  return captureState(state).reason;
}

export function makeSnapshot({
  runSessionId, configVersionId = null, configVersionLabel = null, studySlug = null, sealPublicKey = null, runSeed, specIndex, nextTrialIndex, pvtExtra = false,
  state, startedAt = null, interruptions = [], reason = null, drtActive = false, eyeTracking = false,
}) {
  let why = reason ?? (eyeTracking ? EYE_TRACKING : drtActive ? DRT_RUNNING : null);
  let data = null;
  if (why === null) ({ data, reason: why } = captureState(state));
  const snap = {
    format: SNAPSHOT_FORMAT, run_session_id: runSessionId, study_slug: studySlug,
    config_version_id: configVersionId, config_version_label: configVersionLabel,
    // The install's public sealing key (not a secret): the resumed page seals its buffer to it.
    seal_public_key: sealPublicKey,
    run_seed: runSeed, spec_index: specIndex, next_trial_index: nextTrialIndex, pvt_extra: Boolean(pvtExtra),
    started_at: startedAt, interruptions, resumable: why === null, not_resumable_reason: why,
  };
  if (why === null) snap.state = data;
  return snap;
}

// Where the resumed page starts, from a snapshot the app handed back; throws an Error with one
// sentence when the snapshot does not fit this run (the page then says so; nothing is written).
export function planResume(snapshot, { runSessionId, specCount, storedTrials, configVersionId = null }) {
  const fail = (why) => { throw new Error(`This run cannot be continued: ${why}.`); };
  if (!snapshot || snapshot.format !== SNAPSHOT_FORMAT) fail('the app holds no usable record of where it stood');
  if (snapshot.run_session_id !== runSessionId) fail('the record of where it stood belongs to another run');
  if (!snapshot.resumable) fail(snapshot.not_resumable_reason || 'it was at a point it cannot continue from');
  if (configVersionId !== null && snapshot.config_version_id !== null && snapshot.config_version_id !== configVersionId) {
    fail('its study was published again since it started');
  }
  const { spec_index: specIndex, next_trial_index: next } = snapshot;
  // specIndex === specCount: every item had run, the page died while saving the result.
  if (!Number.isInteger(specIndex) || specIndex < 0 || specIndex > specCount) fail('its place in the timeline is outside this study');
  if (!Number.isInteger(next) || next < 0) fail('its next trial number is not valid');
  if (Number.isInteger(storedTrials) && storedTrials > next) fail('more trials are stored than the record of where it stood knows of');
  return {
    runSeed: snapshot.run_seed,
    specIndex,
    firstTrialIndex: next,
    pvtExtra: Boolean(snapshot.pvt_extra),
    state: stateFromData(structuredClone(snapshot.state ?? {})),
    startedAt: snapshot.started_at ?? null,
    // What Run needs of runs/start's answer, for the same run.
    start: {
      run_session_id: snapshot.run_session_id, study_slug: snapshot.study_slug ?? null,
      config_version_id: snapshot.config_version_id ?? null, config_version_label: snapshot.config_version_label ?? null,
      seal_public_key: snapshot.seal_public_key ?? null, resume_snapshots: true,
    },
    // Rows the dead page made but that never reached the app (neither acknowledged nor kept
    // sealed): their indices stay unused, and the interruption says how many.
    lostTrials: Number.isInteger(storedTrials) ? next - storedTrials : null,
    interruptions: Array.isArray(snapshot.interruptions) ? snapshot.interruptions.slice() : [],
  };
}

// Sends the newest snapshot, one request at a time: one that arrives while another is under way
// replaces any waiting one (only the newest matters). A refusal (403: not the app's page; 404:
// no such route on a central server) stops it for good; other failures only skip that one.
// The post (and its JSON encoding) starts in a later task, off the trial's start.
export class SnapshotSender {
  constructor(post) {
    this.post = post;
    this.waiting = null;
    this.busy = false;
    this.stopped = false;
    this.scheduled = false;
    this.sent = 0;
  }

  send(body) {
    if (this.stopped) return;
    this.waiting = body;
    if (this.busy || this.scheduled) return;
    this.scheduled = true;
    setTimeout(() => { this.scheduled = false; this.pump(); }, 0);
  }

  get idle() { return !this.busy && !this.scheduled; }

  async pump() {
    this.busy = true;
    try {
      while (this.waiting && !this.stopped) {
        const body = this.waiting;
        this.waiting = null;
        try {
          await this.post('runs/resume-snapshot', body);
          this.sent += 1;
        } catch (err) {
          if (err && (err.status === 403 || err.status === 404 || err.status === 405)) this.stopped = true;
        }
      }
    } finally {
      this.busy = false;
    }
  }

  stop() { this.stopped = true; this.waiting = null; }
}
