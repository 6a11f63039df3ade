// Gabor display: a canvas whose backing store has one pixel per device pixel, patches and masks
// prepared before the trial (so a phase change only blits), and the scene of each phase: fixation
// cross or cue diamond, placeholder / value rings, patches, masks, patch borders, feedback text.

import { maskPixels, patchPixels } from './gabor-geometry.js';

const clamp = (x, lo, hi) => Math.min(hi, Math.max(lo, x));

function parseColor(c, fallback) {
  const s = String(c ?? '').trim();
  let m = /^#([0-9a-f]{3})$/i.exec(s);
  if (m) return m[1].split('').map((h) => parseInt(h + h, 16));
  m = /^#([0-9a-f]{6})$/i.exec(s);
  if (m) return [0, 2, 4].map((i) => parseInt(m[1].slice(i, i + 2), 16));
  m = /^rgba?\(\s*(\d+)\s*,\s*(\d+)\s*,\s*(\d+)/i.exec(s);
  if (m) return [m[1], m[2], m[3]].map((v) => clamp(Number(v), 0, 255));
  return fallback;
}
export const rgb = (c, fb = [102, 102, 102]) => `rgb(${parseColor(c, fb).join(',')})`;
export const rgba = (c, a, fb = [255, 255, 255]) => `rgba(${parseColor(c, fb).join(',')},${clamp(Number(a), 0, 1)})`;

// Canvas size as the reference: 2:1, up to 1120 CSS px wide and 80 % of the window height. The
// backing store is an integer number of device pixels and the CSS size is exactly that / dpr,
// so nothing is resampled.
export function makeCanvas(host, dpr) {
  const canvas = document.createElement('canvas');
  canvas.className = 'cf-canvas';
  canvas.dataset.role = 'gabor';
  const vw = Math.max(1, window.innerWidth || 1);
  const vh = Math.max(1, window.innerHeight || 1);
  let w = Math.min(1120, Math.floor(vw * 0.96));
  let h = Math.floor(w / 2);
  if (h > Math.floor(vh * 0.8)) { h = Math.floor(vh * 0.8); w = h * 2; }
  w = clamp(w, 520, 2000);
  h = clamp(h, 260, 1400);
  canvas.width = Math.round(w * dpr);
  canvas.height = Math.round(h * dpr);
  canvas.style.width = `${canvas.width / dpr}px`;
  canvas.style.height = `${canvas.height / dpr}px`;
  host.append(canvas);
  return canvas;
}

function imageCanvas(size, data) {
  const c = document.createElement('canvas');
  c.width = size;
  c.height = size;
  c.getContext('2d').putImageData(new ImageData(data, size, size), 0, 0);
  return c;
}

// g: the trial's geometry (device px); look: colours and flags from the trial's parameters.
export function makeScene(canvas, g, look, rng) {
  const ctx = canvas.getContext('2d', { alpha: false });
  ctx.imageSmoothingEnabled = false;
  const dpr = g.dpr;
  const size = g.diameterDev;
  const patches = {
    left: imageCanvas(size, patchPixels(size, { ...g.patch, orientationDeg: g.leftAngle })),
    right: imageCanvas(size, patchPixels(size, { ...g.patch, orientationDeg: g.rightAngle })),
  };
  const masks = { left: imageCanvas(size, maskPixels(size, Math.max(1, Math.round(dpr)), rng)), right: imageCanvas(size, maskPixels(size, Math.max(1, Math.round(dpr)), rng)) };
  const W = canvas.width / dpr;
  const H = canvas.height / dpr;
  const cy = Math.floor(H / 2);
  const centers = { left: g.centersCss.left, right: g.centersCss.right };
  const fx = Math.floor(W / 2) + g.fixationOffset.x;
  const fy = cy + g.fixationOffset.y;
  const rCss = size / dpr / 2;

  const blit = (img, side) => {
    ctx.save();
    ctx.setTransform(1, 0, 0, 1, 0, 0); // device pixels: the patch is copied 1:1
    ctx.drawImage(img, Math.round(centers[side] * dpr - size / 2), Math.round(cy * dpr - size / 2));
    ctx.restore();
  };
  const border = (side) => {
    if (!look.borderEnabled || !(look.borderWidth > 0) || !(look.borderOpacity > 0)) return;
    ctx.strokeStyle = rgba(look.borderColor, look.borderOpacity);
    ctx.lineWidth = look.borderWidth;
    ctx.beginPath();
    ctx.arc(centers[side], cy, rCss - 1, 0, Math.PI * 2);
    ctx.stroke();
  };
  const ring = (side, color) => {
    const width = Math.max(5, Math.round(2 * rCss * 0.055));
    const r0 = Math.floor(rCss) - 1;
    ctx.fillStyle = rgb(color);
    ctx.beginPath();
    ctx.arc(centers[side], cy, r0 + width / 2, 0, Math.PI * 2);
    ctx.arc(centers[side], cy, Math.max(0, r0 - width / 2), 0, Math.PI * 2, true);
    ctx.fill();
  };
  const cross = (color, half, width) => {
    ctx.strokeStyle = color;
    ctx.lineWidth = width;
    ctx.beginPath();
    ctx.moveTo(fx - half, fy); ctx.lineTo(fx + half, fy);
    ctx.moveTo(fx, fy - half); ctx.lineTo(fx, fy + half);
    ctx.stroke();
  };
  const diamond = (cue, withFixation) => {
    const h = 32;
    const path = () => { ctx.beginPath(); ctx.moveTo(fx, fy - h); ctx.lineTo(fx + h, fy); ctx.lineTo(fx, fy + h); ctx.lineTo(fx - h, fy); ctx.closePath(); };
    ctx.save();
    path();
    ctx.clip();
    ctx.fillStyle = rgb(look.cueBackground);
    ctx.fillRect(fx - h, fy - h, 2 * h, 2 * h);
    ctx.fillStyle = rgb(look.cueIndicator);
    if (cue === 'left') ctx.fillRect(fx - h, fy - h, h, 2 * h);
    if (cue === 'right') ctx.fillRect(fx, fy - h, h, 2 * h);
    if (cue === 'both') ctx.fillRect(fx - h, fy - h, 2 * h, 2 * h);
    ctx.restore();
    ctx.strokeStyle = rgb(look.cueBackground);
    ctx.lineWidth = 2.5;
    path();
    ctx.stroke();
    if (withFixation) cross(rgb(look.cueFixation), 8, 2);
  };

  // s: {fixation, diamond: null|'fixation'|'cue', rings: 'none'|'neutral'|'value', stimulus, mask, text}
  return function draw(s) {
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.fillStyle = rgb(look.background, [11, 11, 11]);
    ctx.fillRect(0, 0, W, H);
    if (s.diamond) diamond(s.diamond === 'cue' ? g.spatialCue : 'none', s.fixation);
    else if (s.fixation) cross(rgb(s.fixationColor ?? look.fixationColor, [255, 255, 255]), look.fixationHalf, look.fixationWidth);
    for (const side of ['left', 'right']) {
      if (s.stimulus) { blit(patches[side], side); border(side); }
      if (s.mask) { blit(masks[side], side); border(side); }
      if (s.rings === 'neutral') ring(side, look.placeholderColor);
      if (s.rings === 'value') ring(side, look.valueColors[side]);
    }
    if (s.text) {
      ctx.fillStyle = 'rgba(11,11,11,0.72)';
      ctx.fillRect(0, 0, W, H);
      ctx.font = `bold ${Math.round(clamp(H * 0.1, 28, 72))}px system-ui, sans-serif`;
      ctx.fillStyle = s.textColor ?? '#ffffff';
      ctx.textAlign = 'center';
      ctx.textBaseline = 'middle';
      ctx.fillText(s.text, Math.floor(W / 2), cy);
    }
    canvas.dataset.phase = s.phase;
  };
}
