// continuous-image-presentation: one image of a stream. Each trial is: transition mask -> image
// (transition_duration_ms, in frames, through cip_transition_frames steps), the image with the
// response window (image_duration_ms, in frames; a response ends it early, as in the reference),
// transition image -> mask. The trial ends on its last drawn frame and the mask stays up, so the
// next image's transition starts on the very next frame. Responses: category keys or buttons
// (categorization), or go / match / non-match (n-back), timed by the event's timeStamp.

import { childController, waitForKey, waitForPointer } from '../input.js';
import { loadImage } from '../cip-media.js';
import { transitionSchedule } from '../cip-masks.js';
import { escapeHtml } from './common.js';
import { drawLayer, drawSprite, drawStep, imageLayer, openStream, streamFor } from './cip-stage.js';
import { elapsed, everyFrame, framesSince, phaseOver, round } from './frames.js';

const keyLabel = (k) => (k === 'space' ? 'space' : k);

function responseSetup(p) {
  if (p.cip_response_paradigm === 'categorization') {
    const cats = p.cip_categories ?? [];
    return {
      keys: cats.map((c) => c.key),
      prompt: `Categorize: ${cats.map((c) => `${keyLabel(c.key)} = ${c.label}`).join(' | ')}`,
      buttons: p.cip_show_category_buttons ? cats.map((c) => ({ key: c.key, label: c.label })) : [],
    };
  }
  const twoAfc = p.nback_response_paradigm === '2afc';
  const keys = twoAfc ? [p.match_key, p.nonmatch_key] : [p.go_key];
  const mouse = p.nback_response_device === 'mouse' && p.show_buttons;
  return {
    keys,
    prompt: mouse ? (twoAfc ? 'N-back: click Match / No match' : 'N-back: click Go for matches')
      : (twoAfc ? `N-back: ${keyLabel(p.match_key)} = match, ${keyLabel(p.nonmatch_key)} = no match` : `N-back: ${keyLabel(p.go_key)} = go (matches)`),
    buttons: !mouse ? [] : twoAfc ? [{ key: p.match_key, label: 'Match' }, { key: p.nonmatch_key, label: 'No match' }] : [{ key: p.go_key, label: 'Go' }],
  };
}

function score(p, response) {
  if (p.cip_response_paradigm === 'categorization') {
    const cat = response ? (p.cip_categories ?? []).find((c) => c.key === response.key) ?? null : null;
    const target = p.cip_target_category_index;
    return { category: cat, correct: target === null || target === undefined ? null : !!cat && cat.index === target };
  }
  if (!response) return { category: null, correct: p.nback_response_paradigm === 'go_nogo' && !p.nback_is_match };
  return { category: null, correct: response.key === p.correct_response };
}

export async function run(el, p, ctx) {
  let st = streamFor(p.stream_id, ctx.run);
  if (st && !el.contains(st.root)) el.appendChild(st.root); // at once: the mask stays on screen
  const img = await loadImage(p.image_url);
  const sheetIn = p.mask_to_image_sprite_url ? await loadImage(p.mask_to_image_sprite_url) : null;
  const sheetOut = p.image_to_mask_sprite_url ? await loadImage(p.image_to_mask_sprite_url) : null;
  st ??= await openStream(el, p, ctx.rng, ctx.run);
  const layer = imageLayer(st, img);
  const setup = responseSetup(p);
  st.prompt.textContent = setup.prompt;
  st.controls.innerHTML = setup.buttons.map((b) => `<button type="button" class="cf-button" data-cip-key="${escapeHtml(b.key)}">${escapeHtml(b.label)}</button>`).join('');
  const fm = ctx.timer.frameMs;
  const transFrames = ctx.timer.frames(p.transition_duration_ms);
  const imageFrames = ctx.timer.frames(p.image_duration_ms);
  const steps = p.transition_frames;
  const schedule = transitionSchedule(transFrames, steps);
  const drawIn = (k) => (sheetIn ? drawSprite(st, sheetIn, k, steps) : drawStep(st, st.mask, layer, k, steps));
  const drawOut = (k) => (sheetOut ? drawSprite(st, sheetOut, k, steps) : drawStep(st, layer, st.mask, k, steps));

  const ac = childController(ctx.signal);
  const frames = [];
  const counts = { mask_to_image: 0, image: 0, image_to_mask: 0 };
  const log = (ts, phase, step) => { frames.push({ frame: frames.length, t_ms: ctx.run.rel(ts), phase, step }); counts[phase] += 1; };
  let phase = transFrames > 0 ? 'mask_to_image' : 'image';
  let tIn = null;
  let tImg = null;
  let tOut = null;
  let lastStep = -1;
  let response = null;
  let endImageAt = null;
  const onResponse = (key, timeStamp, source) => {
    if (response || phase !== 'image') return;
    response = { key, timeStamp, source };
    const fb = p.cip_response_paradigm === 'nback' && p.show_feedback ? p.feedback_duration_ms : 0;
    if (fb > 0) st.prompt.textContent = key === p.correct_response ? 'Correct' : 'Incorrect';
    endImageAt = { from: timeStamp, ms: fb };
  };
  const listen = () => {
    waitForKey(setup.keys, ac.signal).then((r) => onResponse(r.key, r.timeStamp, 'keyboard'));
    if (setup.buttons.length) {
      waitForPointer(st.controls, (e) => (e.target.closest && e.target.closest('[data-cip-key]') ? e.target.closest('[data-cip-key]').dataset.cipKey : null), ac.signal)
        .then((r) => onResponse(r.value, r.timeStamp, 'button'));
    }
  };
  // A transition frame; true on the transition's last frame.
  const transition = (ts, start, draw, name) => {
    const j = Math.min(transFrames - 1, framesSince(ctx, start, ts));
    if (schedule[j] !== lastStep) { draw(schedule[j]); lastStep = schedule[j]; }
    st.root.dataset.phase = name;
    log(ts, name, schedule[j]);
    return j >= transFrames - 1;
  };

  await everyFrame(ctx, (ts) => {
    if (phase === 'mask_to_image') {
      tIn ??= ts;
      if (framesSince(ctx, tIn, ts) < transFrames) { transition(ts, tIn, drawIn, phase); return true; }
      phase = 'image';
    }
    if (phase === 'image') {
      if (tImg === null && imageFrames > 0) {
        tImg = ts;
        drawLayer(st, layer);
        st.root.dataset.phase = 'image';
        listen();
      }
      const over = (t) => imageFrames === 0
        || (endImageAt !== null ? elapsed(ctx, endImageAt.from, t) >= endImageAt.ms - fm / 2 : phaseOver(ctx, tImg, p.image_duration_ms, t));
      if (!over(ts)) {
        log(ts, 'image', null);
        return !(transFrames === 0 && over(ts + fm)); // without transitions the next image follows at once
      }
      phase = 'image_to_mask';
      ac.abort();
      if (transFrames === 0) return false;
    }
    tOut ??= ts;
    if (tOut === ts) lastStep = -1;
    return !transition(ts, tOut, drawOut, 'image_to_mask');
  }, ctx.signal);
  ac.abort();
  if (ctx.signal.aborted) return {};

  const { category, correct } = score(p, response);
  const nback = p.cip_response_paradigm === 'nback';
  return {
    stimulus_onset_ms: tImg, stimulus_offset_ms: tOut, image_frames_drawn: counts.image, stimulus_duration_ms: p.image_duration_ms,
    transition_in_onset_ms: tIn === null ? null : ctx.run.rel(tIn), transition_in_frames: counts.mask_to_image,
    transition_out_frames: counts.image_to_mask, transition_duration_ms: p.transition_duration_ms, cip_transition_frames: steps,
    rt_ms: response && tImg !== null ? response.timeStamp - tImg : null,
    response: response ? response.key : null, response_key: response ? response.key : null,
    response_source: response ? response.source : null, responded: !!response,
    correct, correct_response: p.correct_response ?? null, ended_reason: response ? 'response' : 'timeout',
    cip_response_paradigm: p.cip_response_paradigm,
    cip_category_index: category ? category.index : null, cip_category_label: category ? category.label : null,
    cip_target_category_index: p.cip_target_category_index ?? null, cip_target_category_label: p.cip_target_category_label ?? null,
    ...(nback ? { nback_n: p.nback_n, nback_is_match: p.nback_is_match, nback_token: p.nback_token, nback_response_paradigm: p.nback_response_paradigm } : {}),
    stimulus_image_url: p.image_url, stimulus_filename: p.asset_filename || null, image_loaded: !!img,
    cip_source_index: p.source_index, stream_position: p.stream_position, stream_length: p.stream_length,
    cip_mask_type: st.maskType, mask_source: sheetIn || sheetOut ? 'sprites' : 'generated', ...(st.maskNote ? { mask_note: st.maskNote } : {}),
    cip_frames: frames, frame_ms: round(fm, 4),
  };
}
