// Masks and transitions for continuous image presentation, on plain RGBA pixel buffers
// ({width, height, data: Uint8ClampedArray}) so node tests can check them. The reference
// CogFlow Builder bakes these into sprite sheets before export; this Interpreter builds them at
// run time from the block's own images (sprite sheets given in the config are still played):
//   pure_noise          the average of the block's images plus per-pixel noise (+-cip_mask_noise_amp)
//   noise_and_shuffle   that, then cut into cip_mask_block_size squares shown in shuffled places
//   advanced_transform  the average's luminance with its Fourier phases randomised (phase scramble)
// Legacy names as in the reference: noise -> noise_and_shuffle, sprite/blank -> pure_noise.

const clamp255 = (x) => (x < 0 ? 0 : x > 255 ? 255 : x);

export function normalizeMaskType(t) {
  const s = String(t ?? '').trim().toLowerCase().replace(/\s+/g, '_');
  if (s === 'pure_noise' || s === 'noise_and_shuffle' || s === 'advanced_transform') return s;
  if (s === 'sprite' || s === 'blank') return 'pure_noise';
  return 'noise_and_shuffle';
}

export function averageImages(images) {
  const { width, height } = images[0];
  const sums = new Float64Array(width * height * 4);
  for (const im of images) for (let i = 0; i < sums.length; i++) sums[i] += im.data[i];
  const data = new Uint8ClampedArray(sums.length);
  for (let i = 0; i < data.length; i += 4) {
    data[i] = Math.round(sums[i] / images.length);
    data[i + 1] = Math.round(sums[i + 1] / images.length);
    data[i + 2] = Math.round(sums[i + 2] / images.length);
    data[i + 3] = 255;
  }
  return { width, height, data };
}

// The same noise value on R, G and B of a pixel (luminance noise).
export function addNoise(img, amp, rng) {
  const a = Math.max(0, Math.min(128, Math.floor(Number(amp) || 0)));
  const data = new Uint8ClampedArray(img.data);
  for (let i = 0; i < data.length; i += 4) {
    const n = (rng() * 2 - 1) * a;
    data[i] = clamp255(Math.round(data[i] + n));
    data[i + 1] = clamp255(Math.round(data[i + 1] + n));
    data[i + 2] = clamp255(Math.round(data[i + 2] + n));
    data[i + 3] = 255;
  }
  return { width: img.width, height: img.height, data };
}

// Square blocks filled with their mean colour, then moved to shuffled places.
export function blockShuffle(img, blockSize, rng) {
  const { width: w, height: h } = img;
  const b = Math.max(1, Math.floor(blockSize));
  const bx = Math.ceil(w / b);
  const by = Math.ceil(h / b);
  const colours = [];
  for (let y0 = 0; y0 < h; y0 += b) {
    for (let x0 = 0; x0 < w; x0 += b) {
      const sum = [0, 0, 0];
      let n = 0;
      for (let y = y0; y < Math.min(h, y0 + b); y++) {
        for (let x = x0; x < Math.min(w, x0 + b); x++) {
          const i = (y * w + x) * 4;
          sum[0] += img.data[i]; sum[1] += img.data[i + 1]; sum[2] += img.data[i + 2]; n += 1;
        }
      }
      colours.push(sum.map((s) => Math.round(s / n)));
    }
  }
  const perm = rng.shuffle(colours.map((_, i) => i));
  const data = new Uint8ClampedArray(w * h * 4);
  for (let k = 0; k < bx * by; k++) {
    const c = colours[perm[k]];
    const x0 = (k % bx) * b;
    const y0 = Math.floor(k / bx) * b;
    for (let y = y0; y < Math.min(h, y0 + b); y++) {
      for (let x = x0; x < Math.min(w, x0 + b); x++) {
        const i = (y * w + x) * 4;
        data[i] = c[0]; data[i + 1] = c[1]; data[i + 2] = c[2]; data[i + 3] = 255;
      }
    }
  }
  return { width: w, height: h, data };
}

// In-place iterative radix-2 FFT of one complex row.
function fft(re, im, inverse) {
  const n = re.length;
  for (let i = 1, j = 0; i < n; i++) {
    let bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) { [re[i], re[j]] = [re[j], re[i]]; [im[i], im[j]] = [im[j], im[i]]; }
  }
  for (let len = 2; len <= n; len <<= 1) {
    const ang = ((inverse ? 2 : -2) * Math.PI) / len;
    for (let i = 0; i < n; i += len) {
      for (let k = 0; k < len / 2; k++) {
        const wr = Math.cos(ang * k);
        const wi = Math.sin(ang * k);
        const a = i + k;
        const b = a + len / 2;
        const vr = re[b] * wr - im[b] * wi;
        const vi = re[b] * wi + im[b] * wr;
        re[b] = re[a] - vr; im[b] = im[a] - vi;
        re[a] += vr; im[a] += vi;
      }
    }
  }
  if (inverse) for (let i = 0; i < n; i++) { re[i] /= n; im[i] /= n; }
}

function fft2d(re, im, w, h, inverse) {
  const rr = new Float64Array(w);
  const ri = new Float64Array(w);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) { rr[x] = re[y * w + x]; ri[x] = im[y * w + x]; }
    fft(rr, ri, inverse);
    for (let x = 0; x < w; x++) { re[y * w + x] = rr[x]; im[y * w + x] = ri[x]; }
  }
  const cr = new Float64Array(h);
  const ci = new Float64Array(h);
  for (let x = 0; x < w; x++) {
    for (let y = 0; y < h; y++) { cr[y] = re[y * w + x]; ci[y] = im[y * w + x]; }
    fft(cr, ci, inverse);
    for (let y = 0; y < h; y++) { re[y * w + x] = cr[y]; im[y * w + x] = ci[y]; }
  }
}

// Grey image with the luminance's amplitude spectrum and random phases. Sides must be powers
// of two (the caller draws the average at such a size); the mean luminance is kept (the
// contrast is reduced if the new phases would overshoot black or white).
export function phaseScramble(img, rng) {
  const { width: w, height: h } = img;
  const re = new Float64Array(w * h);
  const im = new Float64Array(w * h);
  for (let i = 0; i < w * h; i++) re[i] = 0.2126 * img.data[i * 4] + 0.7152 * img.data[i * 4 + 1] + 0.0722 * img.data[i * 4 + 2];
  fft2d(re, im, w, h, false);
  for (let v = 0; v < h; v++) {
    for (let u = 0; u < w; u++) {
      const idx = v * w + u;
      const idx2 = ((h - v) % h) * w + ((w - u) % w);
      if (idx2 < idx) continue; // each conjugate pair once
      const amp = Math.hypot(re[idx], im[idx]);
      if (idx2 === idx) { re[idx] = Math.sign(re[idx]) * amp; im[idx] = 0; continue; } // stays real
      const phi = (rng() * 2 - 1) * Math.PI;
      re[idx] = amp * Math.cos(phi); im[idx] = amp * Math.sin(phi);
      re[idx2] = re[idx]; im[idx2] = -im[idx];
    }
  }
  fft2d(re, im, w, h, true);
  // Random phases can overshoot 0..255: shrink the contrast around the mean until it fits.
  let mean = 0;
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < w * h; i++) { mean += re[i]; lo = Math.min(lo, re[i]); hi = Math.max(hi, re[i]); }
  mean /= w * h;
  const k = Math.min(1, lo < 0 ? mean / (mean - lo) : 1, hi > 255 ? (255 - mean) / (hi - mean) : 1);
  const data = new Uint8ClampedArray(w * h * 4);
  for (let i = 0; i < w * h; i++) {
    const g = clamp255(Math.round(mean + (re[i] - mean) * k));
    data[i * 4] = g; data[i * 4 + 1] = g; data[i * 4 + 2] = g; data[i * 4 + 3] = 255;
  }
  return { width: w, height: h, data };
}

export function buildMask(average, { type, noiseAmp, blockSize }, rng) {
  const t = normalizeMaskType(type);
  if (t === 'advanced_transform') return addNoise(phaseScramble(average, rng), noiseAmp, rng);
  const noisy = addNoise(average, noiseAmp, rng);
  return t === 'pure_noise' ? noisy : blockShuffle(noisy, blockSize, rng);
}

// A transition of `displayFrames` refresh frames through `spriteFrames` steps: the step shown
// on each display frame (first = 0, last = spriteFrames - 1).
export function transitionSchedule(displayFrames, spriteFrames) {
  const d = Math.max(0, Math.floor(displayFrames));
  const f = Math.max(1, Math.floor(spriteFrames));
  if (d === 0) return [];
  if (d === 1) return [f - 1];
  return Array.from({ length: d }, (_, i) => Math.round((i * (f - 1)) / (d - 1)));
}

// How far a mask cell has turned into the image at progress p (0..1): cells go in a random
// order (rank 0..1), each over a window of the transition, eased in and out.
export function cellMix(p, rank, steps) {
  const w = Math.min(0.35, Math.max(0.12, 2 / Math.max(1, steps)));
  const x = (p - rank * (1 - w)) / w;
  const c = x < 0 ? 0 : x > 1 ? 1 : x;
  return c * c * (3 - 2 * c);
}
