// The stage of a continuous-image stream: one canvas that stays up from trial to trial (the last
// mask frame of one image is on screen until the next image's transition starts), the block's
// mask, and the drawing of transition steps (generated dissolve, or the config's sprite sheets).

import { loadImage } from '../cip-media.js';
import { averageImages, buildMask, cellMix, normalizeMaskType } from '../cip-masks.js';

const WORK_SIDE = 256; // masks are computed at most this size, then scaled to the stage
let current = null;

// The stream a trial continues: same block (and loop iteration) of the same run.
export function streamFor(id, run) {
  return current && current.id === id && current.run === run ? current : null;
}

function fitContain(c, img, w, h, bg) {
  c.fillStyle = bg;
  c.fillRect(0, 0, w, h);
  if (!img) return;
  const s = Math.min(w / img.naturalWidth, h / img.naturalHeight);
  const dw = img.naturalWidth * s;
  const dh = img.naturalHeight * s;
  c.drawImage(img, (w - dw) / 2, (h - dh) / 2, dw, dh);
}

const pow2Below = (n) => { let p = 8; while (p * 2 <= n) p *= 2; return p; };

// The mask from the average of the block's images (read back from a canvas).
function makeMask(images, p, size, rng, bg) {
  const type = normalizeMaskType(p.mask_type);
  const k = Math.min(1, WORK_SIDE / Math.max(size.w, size.h));
  let w = Math.max(8, Math.round(size.w * k));
  let h = Math.max(8, Math.round(size.h * k));
  if (type === 'advanced_transform') { w = pow2Below(w); h = pow2Below(h); } // the FFT needs powers of two
  const work = document.createElement('canvas');
  work.width = w;
  work.height = h;
  const wc = work.getContext('2d', { willReadFrequently: true });
  let average;
  let note = null;
  try {
    average = averageImages(images.map((img) => { fitContain(wc, img, w, h, bg); return wc.getImageData(0, 0, w, h); }));
  } catch (err) { // cross-origin images cannot be read back
    note = `the images could not be read back (${err.name}); the mask is noise on the background colour`;
    fitContain(wc, null, w, h, bg);
    average = wc.getImageData(0, 0, w, h);
  }
  const block = Math.max(1, Math.round((p.mask_block_size * w) / size.naturalW));
  const mask = buildMask(average, { type, noiseAmp: p.mask_noise_amp, blockSize: block }, rng);
  wc.putImageData(new ImageData(mask.data, w, h), 0, 0);
  return { canvas: work, type, note };
}

// A new stream (the first trial of a block): stage sized by the first image, mask, cell order.
export async function openStream(el, p, rng, run) {
  const images = (await Promise.all(p.mask_source_urls.map((u) => loadImage(u)))).filter(Boolean);
  const first = (await loadImage(p.image_url)) ?? images[0] ?? null;
  const nw = first ? first.naturalWidth : 400;
  const nh = first ? first.naturalHeight : 300;
  const scale = Math.min((0.9 * window.innerWidth) / nw, (0.7 * window.innerHeight) / nh, 1);
  const size = { w: Math.max(1, Math.floor(nw * scale)), h: Math.max(1, Math.floor(nh * scale)), naturalW: nw };
  const bg = getComputedStyle(el).backgroundColor || '#1e1e1e';
  const mask = makeMask(images.length ? images : [first].filter(Boolean), p, size, rng, bg);
  const root = document.createElement('div');
  root.className = 'cf-stage';
  root.dataset.role = 'cip';
  root.innerHTML = `<div style="display:flex;flex-direction:column;align-items:center;gap:12px">
    <canvas class="cf-canvas" data-role="cip-canvas"></canvas>
    <div class="cf-prompt" data-role="cip-prompt" style="margin-top:0"></div>
    <div class="cf-buttons" data-role="cip-controls" style="margin-top:0"></div></div>`;
  const canvas = root.querySelector('canvas');
  const dpr = window.devicePixelRatio || 1;
  canvas.width = Math.round(size.w * dpr);
  canvas.height = Math.round(size.h * dpr);
  canvas.style.width = `${size.w}px`;
  canvas.style.height = `${size.h}px`;
  const c = canvas.getContext('2d');
  c.setTransform(dpr, 0, 0, dpr, 0, 0);
  const cell = Math.max(2, (p.mask_block_size * size.w) / nw);
  const cols = Math.ceil(size.w / cell);
  const rows = Math.ceil(size.h / cell);
  const order = rng.shuffle(Array.from({ length: cols * rows }, (_, i) => i));
  const ranks = new Float32Array(cols * rows);
  order.forEach((cellIndex, i) => { ranks[cellIndex] = order.length > 1 ? i / (order.length - 1) : 1; });
  el.innerHTML = '';
  el.appendChild(root);
  current = {
    id: p.stream_id, run, root, canvas, c, dpr, w: size.w, h: size.h, bg, mask: mask.canvas, maskType: mask.type, maskNote: mask.note,
    cells: { size: cell, cols, rows, ranks },
    prompt: root.querySelector('[data-role="cip-prompt"]'), controls: root.querySelector('[data-role="cip-controls"]'),
  };
  return current;
}

// The image as the stage shows it (contain-fit on the background), at device pixels.
export function imageLayer(st, img) {
  const cv = document.createElement('canvas');
  cv.width = Math.round(st.w * st.dpr);
  cv.height = Math.round(st.h * st.dpr);
  const c = cv.getContext('2d');
  c.setTransform(st.dpr, 0, 0, st.dpr, 0, 0);
  fitContain(c, img, st.w, st.h, st.bg);
  return cv;
}

function drawCell(st, src, x, y, w, h, alpha) {
  const kx = src.width / st.w;
  const ky = src.height / st.h;
  st.c.globalAlpha = alpha;
  st.c.drawImage(src, x * kx, y * ky, w * kx, h * ky, x, y, w, h);
}

export function drawLayer(st, src) {
  st.c.globalAlpha = 1;
  st.c.imageSmoothingEnabled = src !== st.mask; // noise stays crisp when scaled up
  st.c.drawImage(src, 0, 0, src.width, src.height, 0, 0, st.w, st.h);
}

// Step `step` of `steps` of a dissolve from `from` to `to`: cell by cell in a random order.
export function drawStep(st, from, to, step, steps) {
  const p = steps > 1 ? step / (steps - 1) : 1;
  if (p <= 0) { drawLayer(st, from); return; }
  if (p >= 1) { drawLayer(st, to); return; }
  drawLayer(st, from);
  st.c.imageSmoothingEnabled = to !== st.mask;
  const { size, cols, rows, ranks } = st.cells;
  for (let r = 0; r < rows; r++) {
    for (let q = 0; q < cols; q++) {
      const a = cellMix(p, ranks[r * cols + q], steps);
      if (a > 0) drawCell(st, to, q * size, r * size, Math.min(size, st.w - q * size), Math.min(size, st.h - r * size), a);
    }
  }
  st.c.globalAlpha = 1;
}

// Step `step` of a sprite sheet with `steps` frames side by side (or stacked).
export function drawSprite(st, sheet, step, steps) {
  const sw = sheet.naturalWidth;
  const sh = sheet.naturalHeight;
  const vertical = sw % steps !== 0 && sh % steps === 0;
  const fw = vertical ? sw : Math.floor(sw / steps);
  const fh = vertical ? Math.floor(sh / steps) : sh;
  st.c.globalAlpha = 1;
  st.c.fillStyle = st.bg;
  st.c.fillRect(0, 0, st.w, st.h);
  st.c.drawImage(sheet, vertical ? 0 : step * fw, vertical ? step * fh : 0, fw, fh, 0, 0, st.w, st.h);
}
