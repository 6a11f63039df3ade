// Continuous image presentation (CIP): a block (or a single CIP item) becomes one trial per
// image of a stream mask -> image -> mask -> next image. Pure: the compiler calls cipSpecs().
//
// As in the reference CogFlow compiler: the images are `cip_image_urls` (else
// `cip_asset_filenames`, served from the app's media store); `cip_images_per_block` (else the
// block length) sets how many trials; `no_repeats` shows each image at most once in a shuffled
// order (so never more trials than images), `repeat_to_fill` repeats shuffled passes; a
// filename tagged cat1/category_2/... gives the image's target category; the n-back paradigm
// compares each image with the one n positions back. Unlike the reference, the top-level
// `continuous_image_settings` are defaults for every CIP block, and `cip_choice_keys` fill in
// category keys that are not set one by one.

import { normalizeKey } from './keys.js';
import { sampleBlockParams, windowEntries } from './sampling.js';

export const CIP_TYPE = 'continuous-image-presentation';
// Values that are whole lists by nature: never picked from per trial.
export const CIP_LIST_KEYS = new Set(['cip_image_urls', 'cip_asset_filenames', 'cip_mask_to_image_sprite_urls', 'cip_image_to_mask_sprite_urls', 'cip_choice_keys']);
const SETTINGS_ALIASES = {
  mask_type: 'cip_mask_type', image_duration_ms: 'cip_image_duration_ms', transition_duration_ms: 'cip_transition_duration_ms',
  transition_frames: 'cip_transition_frames', choice_keys: 'cip_choice_keys',
};
const ITEM_KEYS = new Set(['type', 'component_type', 'block_component_type', 'length', 'block_length', 'parameter_values',
  'parameter_windows', 'seed', 'sampling_mode', 'name', 'label', 'items', 'data', 'id', 'description', 'notes',
  'miniblock_structure', 'block_sizing_mode', 'sizing_mode', 'block_duration_seconds', 'duration_seconds']);
const DEFAULT_CATEGORY_KEYS = ['f', 'j', '1', '2', '3', '4', '5'];

const int = (v, d) => (Number.isFinite(Number.parseInt(v, 10)) ? Number.parseInt(v, 10) : d);
const blank = (v) => v === undefined || v === null || v === '' || v === 'inherit';

// `continuous_image_settings` use short names (mask_type, ...); CIP blocks use cip_ names (the
// short ones are read anywhere).
export function cipDefaults(settings) {
  const out = {};
  for (const [k, v] of Object.entries(settings && typeof settings === 'object' ? settings : {})) {
    if (!blank(v)) out[SETTINGS_ALIASES[k] ?? k] = v;
  }
  return out;
}

// A list as an array or as comma/newline separated text. A line starting with "data:" is one
// entry (data URLs contain commas).
export function parseList(v) {
  if (Array.isArray(v)) return v.map((x) => String(x ?? '').trim()).filter(Boolean);
  if (blank(v)) return [];
  return String(v).split(/\r?\n/).flatMap((line) => {
    const t = line.trim();
    if (!t) return [];
    if (/^data:/i.test(t)) return [t];
    return t.split(',').map((x) => x.trim()).filter(Boolean);
  });
}

// "cat1", "cat_2", "category-3" in a file name -> 1..count (null when untagged or a data: URL).
export function categoryOf(name, count) {
  const s = String(name ?? '');
  if (!s || /^data:/i.test(s)) return null;
  const m = /(?:^|[^a-z0-9])cat(?:egory)?[_\-\s]*([1-9])(?:[^0-9]|$)/i.exec(s);
  return m ? Math.min(count, Number(m[1])) : null;
}

// The block's (or item's) own values under their cip_ names: its keys, then parameter_values.
function ownValues(item) {
  const out = {};
  for (const [k, v] of Object.entries(item)) if (!ITEM_KEYS.has(k) && !k.startsWith('_')) out[SETTINGS_ALIASES[k] ?? k] = v;
  const values = item.parameter_values && typeof item.parameter_values === 'object' ? item.parameter_values : {};
  for (const [k, v] of Object.entries(values)) if (k !== 'miniblock_structure') out[SETTINGS_ALIASES[k] ?? k] = v;
  return out;
}

// Every value the trials share, from settings defaults, the item's own keys and its values.
export function cipSource(item, config) {
  const src = { ...cipDefaults(config.continuous_image_settings) };
  for (const [k, v] of Object.entries(ownValues(item))) if (!blank(v)) src[k] = v;
  return src;
}

export function cipImages(src) {
  const urls = parseList(src.cip_image_urls);
  const files = parseList(src.cip_asset_filenames);
  return urls.length ? urls.map((url, i) => ({ url, filename: files[i] ?? '' })) : files.map((f) => ({ url: f, filename: f }));
}

function categoriesOf(src) {
  const count = Math.min(7, Math.max(2, int(src.cip_category_count, 2)));
  const choiceKeys = parseList(src.cip_choice_keys);
  const out = [];
  const used = new Set();
  for (let i = 1; i <= count; i++) {
    const key = normalizeKey(src[`cip_category_${i}_key`] ?? choiceKeys[i - 1] ?? DEFAULT_CATEGORY_KEYS[i - 1]);
    if (!key || used.has(key)) continue;
    used.add(key);
    out.push({ index: i, label: String(src[`cip_category_${i}_label`] ?? `Category ${i}`).trim() || `Category ${i}`, key });
  }
  return out;
}

function nbackOf(src, defaults) {
  const pick = (k, d) => (!blank(src[`nback_${k}`]) ? src[`nback_${k}`] : (!blank(defaults[k]) ? defaults[k] : d));
  const device = String(pick('response_device', 'keyboard')).toLowerCase();
  return {
    n: Math.max(1, int(pick('n', 2), 2)),
    paradigm: String(pick('response_paradigm', 'go_nogo')).toLowerCase() === '2afc' ? '2afc' : 'go_nogo',
    device: device === 'mouse' ? 'mouse' : 'keyboard',
    go_key: normalizeKey(pick('go_key', 'space')), match_key: normalizeKey(pick('match_key', 'j')), nonmatch_key: normalizeKey(pick('nonmatch_key', 'f')),
    show_buttons: pick('show_buttons', false) === true, show_feedback: pick('show_feedback', false) === true,
    feedback_duration_ms: Math.max(0, int(pick('feedback_duration_ms', 250), 250)),
  };
}

// Which source images the stream shows, in order.
export function cipOrder(count, n, repeatToFill, rng) {
  const base = Array.from({ length: count }, (_, i) => i);
  if (!count || n <= 0) return [];
  if (!repeatToFill) return rng.shuffle(base).slice(0, Math.min(n, count));
  const out = [];
  while (out.length < n) out.push(...rng.shuffle(base).slice(0, n - out.length));
  return out;
}

// Sprite sheets may be listed per source image or per generated trial.
function spriteFor(list, sourceIndex, position, sources, trials) {
  if (!list.length) return null;
  if (list.length === 1) return list[0];
  if (list.length === sources) return list[sourceIndex] ?? null;
  if (list.length === trials) return list[position] ?? null;
  return list[position] ?? list[sourceIndex] ?? null;
}

// Trial specs for a CIP block (isBlock) or a single CIP item.
export function cipSpecs(item, { config, rng, isBlock, streamId, meta }) {
  const src = cipSource(item, config);
  const images = cipImages(src);
  const requested = int(src.cip_images_per_block, 0) > 0 ? int(src.cip_images_per_block, 0)
    : (isBlock ? Math.max(0, Math.floor(Number(item.length ?? item.block_length ?? images.length))) : images.length);
  const order = cipOrder(images.length, requested, String(src.cip_repeat_mode ?? 'no_repeats').toLowerCase() === 'repeat_to_fill', rng);
  const m2i = parseList(src.cip_mask_to_image_sprite_urls);
  const i2m = parseList(src.cip_image_to_mask_sprite_urls);
  const paradigm = String(src.cip_response_paradigm ?? 'categorization').toLowerCase() === 'nback' ? 'nback' : 'categorization';
  const maskUrls = images.map((im) => im.url); // one array shared by every trial of the stream
  // Per trial: a list value is one pick per trial, a {min,max} window one draw (list-valued
  // fields stay whole); what was drawn is recorded under its config name (meta.sampled).
  const values = Object.fromEntries(Object.entries(ownValues(item)).filter(([, v]) => !blank(v)));
  const windows = windowEntries(item.parameter_windows).map(([k, w]) => ({ parameter: SETTINGS_ALIASES[k] ?? k, min: w.min, max: w.max }));
  const token = (i) => images[i].filename || images[i].url;
  const sample = () => {
    const { params, sampled } = sampleBlockParams(values, windows, rng, CIP_LIST_KEYS);
    return { t: { ...src, ...params }, sampled: Object.fromEntries(sampled.map((k) => [k, params[k]])) };
  };
  const perBlock = isBlock && item.sampling_mode === 'per-block' ? sample() : null;
  return order.map((sourceIndex, position) => {
    const draw = isBlock ? (perBlock ?? sample()) : { t: src, sampled: {} };
    const t = draw.t;
    const params = {
      image_url: images[sourceIndex].url, asset_filename: images[sourceIndex].filename, source_index: sourceIndex,
      stream_id: streamId, stream_position: position, stream_length: order.length, mask_source_urls: maskUrls,
      mask_to_image_sprite_url: spriteFor(m2i, sourceIndex, position, images.length, order.length),
      image_to_mask_sprite_url: spriteFor(i2m, sourceIndex, position, images.length, order.length),
      image_duration_ms: Math.max(0, int(t.cip_image_duration_ms, 750)),
      transition_duration_ms: Math.max(0, int(t.cip_transition_duration_ms, 200)),
      transition_frames: Math.max(2, int(t.cip_transition_frames, 8)),
      mask_type: String(t.cip_mask_type ?? 'noise_and_shuffle'), mask_noise_amp: int(t.cip_mask_noise_amp, 24), mask_block_size: Math.max(1, int(t.cip_mask_block_size, 12)),
      cip_response_paradigm: paradigm,
    };
    if (paradigm === 'categorization') {
      const categories = categoriesOf(t);
      const target = categories.find((c) => c.index === categoryOf(token(sourceIndex), categories.length)) ?? null;
      Object.assign(params, {
        cip_categories: categories, cip_show_category_buttons: t.cip_show_category_buttons === true,
        cip_target_category_index: target ? target.index : null, cip_target_category_label: target ? target.label : null,
        correct_response: target ? target.key : null,
      });
    } else {
      const nb = nbackOf(t, config.nback_settings && typeof config.nback_settings === 'object' ? config.nback_settings : {});
      const isMatch = position >= nb.n && token(sourceIndex) === token(order[position - nb.n]);
      Object.assign(params, {
        nback_n: nb.n, nback_token: token(sourceIndex), nback_is_match: isMatch, nback_response_paradigm: nb.paradigm,
        nback_response_device: nb.device, go_key: nb.go_key, match_key: nb.match_key, nonmatch_key: nb.nonmatch_key,
        show_buttons: nb.show_buttons, show_feedback: nb.show_feedback, feedback_duration_ms: nb.feedback_duration_ms,
        correct_response: nb.paradigm === '2afc' ? (isMatch ? nb.match_key : nb.nonmatch_key) : (isMatch ? nb.go_key : null),
      });
    }
    const m = { ...meta, block_trial_index: position, block_length: order.length };
    if (Object.keys(draw.sampled).length) m.sampled = draw.sampled;
    return { component_type: CIP_TYPE, params, meta: m };
  });
}

// Every CIP block or item of a config with its images (path like the validator's, for messages).
export function cipMedia(config) {
  const out = [];
  const walk = (items, path) => {
    if (!Array.isArray(items)) return;
    items.forEach((item, i) => {
      if (!item || typeof item !== 'object') return;
      const p = `${path}/${i}`;
      const isCip = item.type === CIP_TYPE || (item.type === 'block' && (item.component_type ?? item.block_component_type) === CIP_TYPE);
      if (isCip) {
        const src = cipSource(item, config);
        const sprites = [...parseList(src.cip_mask_to_image_sprite_urls), ...parseList(src.cip_image_to_mask_sprite_urls)];
        out.push({ path: p, images: cipImages(src).map((im) => im.url), sprites });
      }
      if (Array.isArray(item.items)) walk(item.items, `${p}/items`);
    });
  };
  walk(config && config.timeline, '/timeline');
  return out;
}
