// MOT motion, continuous-image (CIP) expansion and masks, mouse-tracking settings: the pure
// parts, driven with made-up frame clocks; plus the authored MOT/CIP/structural configs through
// the schema, the compiler and the Builder's import/export.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT, loadSchema } from './helpers.mjs';
import { makeRng } from '../../resources/interpreter/prng.js';
import { compileConfig } from '../../resources/interpreter/compiler.js';
import { validateConfig } from '../../resources/interpreter/validate.js';
import {
  arenaGeometry, cueFlashOn, motSettings, objectAt, parseObjectNumbers, pickTargets, placeObjects, scoreSelection, stepObjects,
} from '../../resources/interpreter/components/mot-motion.js';
import { categoryOf, cipMedia, cipOrder, parseList } from '../../resources/interpreter/cip-sequence.js';
import {
  addNoise, averageImages, blockShuffle, cellMix, normalizeMaskType, phaseScramble, transitionSchedule,
} from '../../resources/interpreter/cip-masks.js';
import { mouseTrackingSettings, sampleDue } from '../../resources/interpreter/mouse-tracking.js';
import * as builder from '../../resources/builder/model.js';

const AUTHORED = path.join(ROOT, 'tests', 'fixtures', 'compat', 'configs-authored');
const authored = (name) => JSON.parse(fs.readFileSync(path.join(AUTHORED, `${name}.json`), 'utf8'));
const base = (timeline, extra = {}) => ({ experiment_type: 'trial-based', timeline, ...extra });
const clone = (objects) => objects.map((o) => ({ ...o }));

// Runs the motion for `seconds` on a frame clock of `hz`.
function simulate(objects, s, g, hz, seconds, seed = 1) {
  const rng = makeRng(seed);
  const frame = 1000 / hz;
  const n = Math.round((seconds * 1000) / frame);
  for (let i = 0; i < n; i++) stepObjects(objects, s, g, frame, rng);
  return objects;
}

// ---- MOT motion -------------------------------------------------------------------------

test('MOT: linear motion with wall bounces ends in the same place at 30, 60 and 144 Hz', () => {
  const s = motSettings({ num_objects: 8, speed_px_per_s: 400, arena_width_px: 300, arena_height_px: 200 });
  const g = arenaGeometry(s);
  const start = placeObjects(s, g, makeRng(5));
  const runs = [30, 60, 144].map((hz) => simulate(clone(start), s, g, hz, 3));
  for (const other of runs.slice(1)) {
    other.forEach((o, i) => {
      assert.ok(Math.abs(o.x - runs[0][i].x) < 1e-6 && Math.abs(o.y - runs[0][i].y) < 1e-6, `object ${i}: ${o.x},${o.y} vs ${runs[0][i].x},${runs[0][i].y}`);
    });
  }
  // 3 s at 400 px/s bounces several times; each object kept its speed and stayed inside.
  for (const o of runs[0]) {
    assert.ok(Math.abs(Math.hypot(o.vx, o.vy) - o.speed) < 1e-9);
    assert.ok(o.x >= s.radius - 1e-9 && o.x <= s.width - s.radius + 1e-9 && o.y >= s.radius - 1e-9 && o.y <= s.height - s.radius + 1e-9);
  }
});

test('MOT: away from the walls an object covers speed x time, whatever the frame clock', () => {
  const s = motSettings({ num_objects: 1, speed_px_per_s: 150, arena_width_px: 100000, arena_height_px: 100000 });
  const g = arenaGeometry(s);
  for (const hz of [30, 60, 120, 144, 240]) {
    const [o] = [{ x: 50000, y: 50000, vx: 150 * Math.cos(1), vy: 150 * Math.sin(1), speed: 150, direction: 1 }];
    simulate([o], s, g, hz, 2);
    assert.ok(Math.abs(Math.hypot(o.x - 50000, o.y - 50000) - 300) < 1e-6, `${hz} Hz`);
  }
  // An uneven clock (dropped frames, a 250 ms stall) covers the same distance.
  const o = { x: 50000, y: 50000, vx: 150, vy: 0, speed: 150, direction: 0 };
  for (const dt of [16.7, 33.3, 250, 8.3, 16.7, 675]) stepObjects([o], s, g, dt, makeRng(1));
  assert.ok(Math.abs(o.x - 50000 - 150) < 1e-9);
});

test('MOT: direction noise spreads headings equally per second at 30 and 144 Hz', () => {
  for (const p of [{ motion_type: 'curved', curve_strength: 1 }, { direction_jitter_deg_per_frame: 5 }]) {
    const s = motSettings({ num_objects: 1, speed_px_per_s: 100, arena_width_px: 1e7, arena_height_px: 1e7, ...p });
    const g = arenaGeometry(s);
    const spread = (hz) => {
      const rng = makeRng(`spread${hz}`);
      const turns = [];
      for (let k = 0; k < 1500; k++) {
        const o = { x: 5e6, y: 5e6, vx: 100, vy: 0, speed: 100, direction: 0 };
        for (let i = 0; i < hz; i++) stepObjects([o], s, g, 1000 / hz, rng);
        turns.push(Math.atan2(o.vy, o.vx));
        assert.ok(Math.abs(Math.hypot(o.vx, o.vy) - 100) < 1e-6, 'turning keeps the speed');
      }
      return turns.reduce((a, t) => a + t * t, 0) / turns.length;
    };
    const ratio = spread(30) / spread(144);
    assert.ok(ratio > 0.85 && ratio < 1.18, `${JSON.stringify(p)}: variance ratio ${ratio}`);
  }
});

test('MOT: circular aperture keeps objects inside; wrap re-enters on the other side', () => {
  const s = motSettings({ num_objects: 10, speed_px_per_s: 500, aperture_shape: 'circle', arena_width_px: 400, arena_height_px: 300 });
  const g = arenaGeometry(s);
  const objs = placeObjects(s, g, makeRng(2));
  for (let i = 0; i < 600; i++) {
    stepObjects(objs, s, g, 16.7, makeRng(i));
    for (const o of objs) assert.ok(Math.hypot(o.x - g.cx, o.y - g.cy) <= g.maxCentre + 1e-6);
  }
  const w = motSettings({ num_objects: 1, boundary_behavior: 'wrap', arena_width_px: 200, arena_height_px: 200, object_radius_px: 10 });
  const o = { x: 205, y: 100, vx: 100, vy: 0, speed: 100 };
  stepObjects([o], w, arenaGeometry(w), 100, makeRng(1));
  assert.ok(Math.abs(o.x - (215 - 220)) < 1e-9, `wrapped to ${o.x}`);
});

test('MOT: objects pass over each other (no object collisions, as in the reference)', () => {
  const s = motSettings({ num_objects: 2, arena_width_px: 1000, arena_height_px: 1000 });
  const g = arenaGeometry(s);
  const a = { x: 400, y: 500, vx: 100, vy: 0, speed: 100 };
  const b = { x: 600, y: 500, vx: -100, vy: 0, speed: 100 };
  stepObjects([a, b], s, g, 2000, makeRng(1));
  assert.ok(Math.abs(a.x - 600) < 1e-9 && Math.abs(b.x - 400) < 1e-9);
});

test('MOT: placement keeps the minimum separation, speeds vary by at most the variability', () => {
  const s = motSettings({ num_objects: 8, min_separation_px: 80, speed_px_per_s: 200, speed_variability: 0.25 });
  const objs = placeObjects(s, arenaGeometry(s), makeRng(9));
  for (let i = 0; i < objs.length; i++) {
    for (let j = 0; j < i; j++) assert.ok(Math.hypot(objs[i].x - objs[j].x, objs[i].y - objs[j].y) >= 80);
    assert.ok(objs[i].speed >= 150 && objs[i].speed <= 250);
  }
  assert.ok(new Set(objs.map((o) => o.speed)).size > 1);
});

test('MOT: settings, targets, hit test, scoring, cue flashing, typed numbers', () => {
  assert.equal(motSettings({ dot_size_px: 30 }).radius, 15);
  assert.equal(motSettings({}).radius, 22);
  assert.equal(motSettings({ num_objects: 3, num_targets: 9 }).num_targets, 3);
  assert.equal(motSettings({ probe_mode: 'nonsense' }).probe_mode, 'click');
  const t = pickTargets(8, 3, makeRng(1));
  assert.equal(new Set(t).size, 3);
  assert.ok(t.every((i) => i >= 0 && i < 8));
  const objs = [{ x: 10, y: 10 }, { x: 30, y: 10 }];
  assert.equal(objectAt(objs, 18, 10, 22), 0);
  assert.equal(objectAt(objs, 22, 10, 22), 1);
  assert.equal(objectAt(objs, 100, 100, 22), -1);
  assert.deepEqual(scoreSelection([1, 2, 5], [1, 5, 6]), { num_correct: 2, num_false_alarms: 1, num_missed: 1 });
  assert.equal(cueFlashOn(0, 3), true);
  assert.equal(cueFlashOn(170, 3), false);
  assert.equal(cueFlashOn(340, 3), true);
  assert.deepEqual(parseObjectNumbers('2, 5 7;2 99 x', 8), [1, 4, 6]);
});

// ---- CIP expansion ----------------------------------------------------------------------

test('CIP: the authored block expands as the reference does (no_repeats caps at the image count)', () => {
  const ts = compileConfig(authored('cip'), { runSeed: 3 }).trials.filter((t) => t.component_type === 'continuous-image-presentation');
  assert.equal(ts.length, 2, 'length 3 but only 2 images without repeats');
  assert.deepEqual(ts.map((t) => t.params.source_index).sort(), [0, 1]);
  const p = ts[0].params;
  assert.equal(p.image_duration_ms, 750);
  assert.equal(p.transition_duration_ms, 250);
  assert.equal(p.transition_frames, 8);
  assert.equal(p.mask_type, 'noise');
  assert.deepEqual(p.cip_categories.map((c) => [c.index, c.key]), [[1, 'f'], [2, 'j']]);
  assert.equal(p.cip_target_category_index, null, 'data: URLs carry no category tag');
  assert.ok(ts.every((t) => t.params.stream_id === p.stream_id && t.params.mask_source_urls.length === 2));
  assert.deepEqual(ts.map((t) => t.meta.block_trial_index), [0, 1]);
});

test('CIP: repeat_to_fill gives exactly the count in shuffled passes; images_per_block wins over length', () => {
  const order = cipOrder(4, 10, true, makeRng(1));
  assert.equal(order.length, 10);
  assert.deepEqual([...order.slice(0, 4)].sort(), [0, 1, 2, 3]);
  assert.deepEqual([...order.slice(4, 8)].sort(), [0, 1, 2, 3]);
  const block = { type: 'block', component_type: 'continuous-image-presentation', length: 2,
    parameter_values: { cip_image_urls: 'a_cat1.png, b_cat2.png\nc.png', cip_images_per_block: 7, cip_repeat_mode: 'repeat_to_fill' } };
  const ts = compileConfig(base([block]), { runSeed: 1 }).trials;
  assert.equal(ts.length, 7);
  const byUrl = Object.fromEntries(ts.map((t) => [t.params.image_url, t.params]));
  assert.equal(byUrl['a_cat1.png'].cip_target_category_index, 1);
  assert.equal(byUrl['a_cat1.png'].correct_response, 'f');
  assert.equal(byUrl['b_cat2.png'].correct_response, 'j');
  assert.equal(byUrl['c.png'].correct_response, null);
});

test('CIP: lists, category tags, keys from choice keys, settings defaults, per-trial windows', () => {
  const data = "data:image/svg+xml;utf8,<svg width='2' height='2'></svg>";
  assert.deepEqual(parseList(`${data}\n a.png, b.png `), [data, 'a.png', 'b.png']);
  assert.deepEqual(parseList(['x', ' ', 'y']), ['x', 'y']);
  assert.equal(categoryOf('img_cat3.png', 7), 3);
  assert.equal(categoryOf('/media/category-2/x.png', 7), 2);
  assert.equal(categoryOf('concat1.png', 7), null);
  assert.equal(categoryOf('cat9.png', 3), 3);
  const config = base([{ type: 'block', component_type: 'continuous-image-presentation', length: 40, seed: 4,
    parameter_values: { cip_image_urls: ['a.png', 'b.png'], cip_category_count: 3, cip_choice_keys: 'a,l', cip_category_3_key: 'space', cip_category_2_label: 'Animals', cip_repeat_mode: 'repeat_to_fill' },
    parameter_windows: { cip_image_duration_ms: { min: 400, max: 800 } } }],
  { continuous_image_settings: { mask_type: 'pure_noise', transition_duration_ms: 100, image_duration_ms: 999 } });
  const ts = compileConfig(config, { runSeed: 1 }).trials;
  assert.deepEqual(ts[0].params.cip_categories, [{ index: 1, label: 'Category 1', key: 'a' }, { index: 2, label: 'Animals', key: 'l' }, { index: 3, label: 'Category 3', key: 'space' }]);
  assert.equal(ts[0].params.mask_type, 'pure_noise', 'continuous_image_settings are defaults');
  assert.equal(ts[0].params.transition_duration_ms, 100);
  const durations = ts.map((t) => t.params.image_duration_ms);
  assert.ok(durations.every((d) => Number.isInteger(d) && d >= 400 && d <= 800), 'the window wins over the settings default');
  assert.ok(new Set(durations).size > 5, 'sampled per trial');
  const once = compileConfig({ ...config, timeline: [{ ...config.timeline[0], sampling_mode: 'per-block' }] }, { runSeed: 1 }).trials;
  assert.equal(new Set(once.map((t) => t.params.image_duration_ms)).size, 1, 'per-block: drawn once');
  assert.equal(builder.taskComponent(loadSchema(), 'continuous-image'), 'continuous-image-presentation');
  assert.equal(builder.taskComponent(loadSchema(), 'mot'), 'mot-trial');
});

test('CIP: the n-back paradigm scores repeats n back; each loop iteration is its own stream', () => {
  const block = { type: 'block', component_type: 'continuous-image-presentation', length: 30, seed: 2,
    parameter_values: { cip_image_urls: ['x.png', 'y.png'], cip_repeat_mode: 'repeat_to_fill', cip_response_paradigm: 'nback', nback_n: 1, nback_response_paradigm: '2afc' } };
  const ts = compileConfig(base([{ type: 'loop', iterations: 2, items: [block] }]), { runSeed: 1 }).trials;
  assert.equal(ts.length, 60);
  const first = ts.slice(0, 30).map((t) => t.params);
  first.forEach((p, i) => {
    assert.equal(p.nback_is_match, i >= 1 && p.nback_token === first[i - 1].nback_token);
    assert.equal(p.correct_response, p.nback_is_match ? 'j' : 'f');
  });
  assert.ok(first.some((p) => p.nback_is_match) && first.some((p) => !p.nback_is_match));
  assert.notEqual(ts[0].params.stream_id, ts[30].params.stream_id);
  const go = compileConfig(base([{ ...block, parameter_values: { ...block.parameter_values, nback_response_paradigm: 'go_nogo' } }]), { runSeed: 1 }).trials;
  assert.ok(go.every((t) => t.params.correct_response === (t.params.nback_is_match ? 'space' : null)));
});

test('CIP: a single item runs its images; the media list names every CIP block', () => {
  const item = { type: 'continuous-image-presentation', cip_image_urls: ['p.png', 'q.png', 'r.png'] };
  const ts = compileConfig(base([item]), { runSeed: 1 }).trials;
  assert.equal(ts.length, 3);
  const media = cipMedia(base([{ type: 'loop', items: [{ type: 'block', component_type: 'continuous-image-presentation', parameter_values: { cip_image_urls: [] } }, item] }]));
  assert.deepEqual(media.map((m) => [m.path, m.images.length]), [['/timeline/0/items/0', 0], ['/timeline/0/items/1', 3]]);
});

// ---- CIP masks --------------------------------------------------------------------------

const img = (w, h, f) => {
  const data = new Uint8ClampedArray(w * h * 4);
  for (let i = 0; i < w * h; i++) { const [r, g, b] = f(i % w, Math.floor(i / w)); data.set([r, g, b, 255], i * 4); }
  return { width: w, height: h, data };
};

test('CIP masks: average, luminance noise within the amplitude, block shuffle keeps the blocks', () => {
  const a = img(4, 4, () => [0, 100, 200]);
  const b = img(4, 4, () => [100, 200, 0]);
  assert.deepEqual([...averageImages([a, b]).data.slice(0, 4)], [50, 150, 100, 255]);
  const n = addNoise(img(32, 32, () => [128, 128, 128]), 24, makeRng(1));
  for (let i = 0; i < n.data.length; i += 4) {
    assert.ok(Math.abs(n.data[i] - 128) <= 24 && n.data[i] === n.data[i + 1] && n.data[i + 1] === n.data[i + 2] && n.data[i + 3] === 255);
  }
  const src = img(8, 8, (x, y) => [x < 4 ? 10 : 20, y < 4 ? 30 : 40, 0]);
  const sh = blockShuffle(src, 4, makeRng(3));
  const blocks = (im) => [0, 4].flatMap((y) => [0, 4].map((x) => [...im.data.slice((y * 8 + x) * 4, (y * 8 + x) * 4 + 3)].join())).sort();
  assert.deepEqual(blocks(sh), blocks(src));
});

test('CIP masks: phase scrambling keeps the mean luminance and changes the picture', () => {
  const src = img(32, 16, (x, y) => (x < 16 && y < 8 ? [220, 220, 220] : [40, 40, 40]));
  const out = phaseScramble(src, makeRng(7));
  const mean = (im) => { let s = 0; for (let i = 0; i < im.data.length; i += 4) s += im.data[i]; return s / (im.data.length / 4); };
  assert.ok(Math.abs(mean(out) - mean(src)) < 3, `${mean(out)} vs ${mean(src)}`);
  let diff = 0;
  for (let i = 0; i < src.data.length; i += 4) diff += Math.abs(out.data[i] - src.data[i]);
  assert.ok(diff / (32 * 16) > 20);
  const flat = phaseScramble(img(8, 8, () => [77, 77, 77]), makeRng(1));
  assert.ok([...flat.data].every((v, i) => (i % 4 === 3 ? v === 255 : Math.abs(v - 77) <= 1)));
  assert.equal(normalizeMaskType('noise'), 'noise_and_shuffle');
  assert.equal(normalizeMaskType('blank'), 'pure_noise');
  assert.equal(normalizeMaskType('Advanced Transform'), 'advanced_transform');
});

test('CIP transitions: steps spread over the display frames, cells dissolve monotonically', () => {
  const s = transitionSchedule(15, 8);
  assert.equal(s.length, 15);
  assert.equal(s[0], 0);
  assert.equal(s[14], 7);
  assert.deepEqual([...new Set(s)], [0, 1, 2, 3, 4, 5, 6, 7]);
  assert.ok(s.every((k, i) => i === 0 || k >= s[i - 1]));
  assert.deepEqual(transitionSchedule(3, 8), [0, 4, 7]);
  assert.deepEqual(transitionSchedule(1, 8), [7]);
  assert.deepEqual(transitionSchedule(0, 8), []);
  for (const rank of [0, 0.3, 1]) {
    assert.equal(cellMix(0, rank, 8), 0);
    assert.equal(cellMix(1, rank, 8), 1);
    let prev = 0;
    for (let p = 0; p <= 1; p += 0.05) { const m = cellMix(p, rank, 8); assert.ok(m >= prev); prev = m; }
  }
});

// ---- Mouse tracking ---------------------------------------------------------------------

test('mouse tracking: switched on by an item anywhere or by data_collection, never a trial', () => {
  assert.equal(mouseTrackingSettings(base([{ type: 'flanker-trial' }])), null);
  assert.deepEqual(mouseTrackingSettings(authored('structural')), { track_movement: true, track_clicks: true, sampling_rate_hz: null });
  assert.deepEqual(mouseTrackingSettings(base([{ type: 'loop', items: [{ type: 'mouse-tracking', track_clicks: false, sampling_rate: 30 }] }])),
    { track_movement: true, track_clicks: false, sampling_rate_hz: 30 });
  assert.ok(mouseTrackingSettings(base([], { data_collection: { 'mouse-tracking': true } })));
  assert.ok(mouseTrackingSettings(base([], { data_collection: { mouse_tracking: { enabled: true, sampling_rate: 50 } } })).sampling_rate_hz === 50);
  assert.equal(mouseTrackingSettings(base([], { data_collection: { mouse_tracking: { enabled: false } } })), null);
  assert.equal(mouseTrackingSettings(base([{ type: 'mouse-tracking', enabled: false }])), null);
  const types = compileConfig(authored('structural'), { runSeed: 1 }).trials.map((t) => t.component_type);
  assert.ok(!types.includes('mouse-tracking'));
  assert.ok(!compileConfig(authored('structural'), { runSeed: 1 }).trials.some((t) => t.params.original_type === 'mouse-tracking'));
  assert.deepEqual(validateConfig(base([{ type: 'mouse-tracking' }]), loadSchema()).warnings, []);
});

test('mouse tracking: samples on frames, at most sampling_rate per second', () => {
  const taken = [];
  let last = null;
  for (let f = 0; f < 60; f++) {
    const ts = f * (1000 / 60);
    if (sampleDue(last, ts, 20, 1000 / 60)) { taken.push(f); last = ts; }
  }
  assert.deepEqual(taken.slice(0, 4), [0, 3, 6, 9]);
  assert.equal(taken.length, 20);
  assert.ok(sampleDue(0, 1, null, 16.7));
});

// ---- The authored configs ---------------------------------------------------------------

for (const name of ['mot', 'cip', 'structural']) {
  test(`${name}.json: valid, compiles, and the Builder imports and exports it unchanged`, () => {
    const config = authored(name);
    const r = validateConfig(config, loadSchema());
    assert.equal(r.valid, true, JSON.stringify(r.errors));
    assert.ok(!r.warnings.some((w) => /mot-trial|continuous-image|mouse-tracking/.test(w.message)), JSON.stringify(r.warnings));
    const { trials } = compileConfig(config, { runSeed: 11 });
    assert.ok(trials.length > 0);
    assert.deepEqual(JSON.parse(JSON.stringify(trials)), trials);
    assert.deepEqual(JSON.parse(builder.exportText(builder.parseConfigText(JSON.stringify(config)))), config);
  });
}

test('mot.json: mot_settings are the defaults, the component and the block values win', () => {
  const mot = compileConfig(authored('mot'), { runSeed: 1 }).trials.filter((t) => t.component_type === 'mot-trial');
  assert.equal(mot.length, 3);
  assert.deepEqual(mot.map((t) => [t.params.num_objects, t.params.num_targets, t.params.probe_mode]),
    [[8, 3, 'click'], [8, 4, 'yes_no_recognition'], [8, 4, 'yes_no_recognition']]);
});
