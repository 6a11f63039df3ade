// The asset library: the images a study uses (every /media/ URL in its config) and those
// added from this browser before, shown as thumbnails to reuse in any image field. Files are
// stored by the server's media endpoint (POST /api/v1/media, content-addressed), so the same
// image used by ten items is one file. Only images: no component of this version plays sound.

import { el, clear } from './dom.js';

const MEDIA_RE = /^\/media\/[0-9a-f]{64}\.(png|jpe?g|gif|webp)$/i;
const RECENT_KEY = 'cogflow.builder.assets.v1';
const RECENT_MAX = 200;

/** Every /media/ URL in a config, with how often it is used: [{url, uses}]. Pure. */
export function collectAssets(config) {
  const uses = new Map();
  const visit = (v) => {
    if (typeof v === 'string') { if (MEDIA_RE.test(v.trim())) uses.set(v.trim(), (uses.get(v.trim()) ?? 0) + 1); }
    else if (Array.isArray(v)) v.forEach(visit);
    else if (v && typeof v === 'object') Object.values(v).forEach(visit);
  };
  visit(config);
  return [...uses].map(([url, n]) => ({ url, uses: n }));
}

export function loadRecent(storage = globalThis.localStorage) {
  try {
    const list = JSON.parse(storage.getItem(RECENT_KEY) ?? '[]');
    return Array.isArray(list) ? list.filter((a) => a && MEDIA_RE.test(a.url ?? '')) : [];
  } catch { return []; }
}

export function rememberAssets(added, storage = globalThis.localStorage) {
  const byUrl = new Map(loadRecent(storage).map((a) => [a.url, a]));
  for (const a of added) byUrl.set(a.url, { url: a.url, name: a.name ?? byUrl.get(a.url)?.name ?? '' });
  try { storage.setItem(RECENT_KEY, JSON.stringify([...byUrl.values()].slice(-RECENT_MAX))); } catch { /* storage full: the study keeps its URLs anyway */ }
}

/** The asset dialog. `pick` (optional) is called with the chosen URLs; without it the dialog
 * only shows the library. `upload()` adds files from disk and resolves to [{url, name}]. */
export function openAssets({ config, pick, multiple = false, upload }) {
  const dialog = document.getElementById('asset-dialog');
  const grid = document.getElementById('asset-grid');
  const title = document.getElementById('asset-title');
  title.textContent = pick ? (multiple ? 'Choose images' : 'Choose an image') : 'Images of this study';
  const chosen = new Set();
  const draw = () => {
    clear(grid);
    const inStudy = collectAssets(config);
    const names = new Map(loadRecent().map((a) => [a.url, a.name]));
    const all = [...inStudy, ...loadRecent().filter((a) => !inStudy.some((s) => s.url === a.url)).map((a) => ({ url: a.url, uses: 0 }))];
    if (!all.length) grid.append(el('p', { class: 'empty' }, 'No images yet. Add images from this computer; they are stored once and can be used by any item.'));
    for (const a of all) {
      const name = names.get(a.url) || a.url.split('/').pop().slice(0, 12);
      const b = el('button', { type: 'button', class: 'asset', 'aria-pressed': 'false', title: a.url, 'aria-label': `${name}${a.uses ? `, used ${a.uses} time(s) in this study` : ', not used in this study'}` },
        el('img', { src: a.url, alt: '', loading: 'lazy' }), el('span', { class: 'asset-name' }, name),
        el('span', { class: 'asset-uses' }, a.uses ? `used ${a.uses}×` : 'not used'));
      b.addEventListener('click', () => {
        if (!pick) return;
        if (!multiple) { dialog.close(); pick([a.url]); return; }
        if (chosen.has(a.url)) chosen.delete(a.url); else chosen.add(a.url);
        b.setAttribute('aria-pressed', String(chosen.has(a.url)));
      });
      grid.append(b);
    }
  };
  const add = document.getElementById('asset-add');
  const use = document.getElementById('asset-use');
  use.hidden = !(pick && multiple);
  add.onclick = async () => {
    const added = await upload();
    if (added.length) rememberAssets(added);
    draw();
  };
  use.onclick = () => { dialog.close(); if (chosen.size) pick([...chosen]); };
  draw();
  dialog.showModal();
}
