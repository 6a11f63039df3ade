// Images of continuous image presentation: loaded and decoded once (shared by the check before
// the run and the trials), and checked before the first trial, so a study whose images cannot
// be loaded is refused with their names instead of showing blank frames to a participant.

import { mediaUrl } from './components/common.js';
import { cipMedia } from './cip-sequence.js';
import * as ui from './ui.js';

const LOAD_TIMEOUT_MS = 25000;
const PARALLEL = 6;
const cache = new Map();

// The decoded image, or null when it cannot be loaded (cached either way).
export function loadImage(url) {
  const src = mediaUrl(url);
  if (!cache.has(src)) {
    cache.set(src, new Promise((resolve) => {
      const img = new Image();
      const timer = setTimeout(() => resolve(null), LOAD_TIMEOUT_MS);
      img.onload = () => img.decode().catch(() => {}).then(() => { clearTimeout(timer); resolve(img.naturalWidth > 0 ? img : null); });
      img.onerror = () => { clearTimeout(timer); resolve(null); };
      img.src = src;
    }));
  }
  return cache.get(src);
}

async function loadAll(urls) {
  const out = new Array(urls.length);
  let next = 0;
  const worker = async () => {
    while (next < urls.length) {
      const i = next++;
      out[i] = await loadImage(urls[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL, urls.length) }, worker));
  return out;
}

const shortName = (url) => {
  const s = String(url);
  return s.startsWith('data:') ? `${s.slice(0, 40)}…` : s;
};

// [{path, message}] for every CIP block whose images are missing or cannot be loaded.
export async function findMissingMedia(config) {
  const problems = [];
  for (const { path, images, sprites } of cipMedia(config)) {
    if (!images.length) {
      problems.push({ path, message: 'This continuous-image block has no images: cip_image_urls and cip_asset_filenames are both empty.' });
      continue;
    }
    const all = [...new Set([...images, ...sprites])];
    const loaded = await loadAll(all);
    const missing = all.filter((_, i) => !loaded[i]);
    if (missing.length) {
      const names = missing.slice(0, 8).map(shortName).join(', ');
      const more = missing.length > 8 ? ` and ${missing.length - 8} more` : '';
      problems.push({ path, message: `${missing.length} of the ${all.length} images of this continuous-image block could not be loaded: ${names}${more}.` });
    }
  }
  return problems;
}

export function showMissingMedia(root, problems, where) {
  const items = problems.map((p) => `<li><code>${ui.escapeHtml(p.path)}</code> ${ui.escapeHtml(p.message)}</li>`).join('');
  ui.showMessage(root, {
    kind: 'error', title: 'Images of this study could not be loaded',
    html: `<p>Before the first trial the Interpreter loaded every image of ${where ? `<b>${ui.escapeHtml(where)}</b>` : 'the study'} and some are missing. No trial was shown. Add the images to the study (or fix their addresses) in the Builder and publish it again.</p><ul class="cf-errors">${items}</ul>`,
  });
}
