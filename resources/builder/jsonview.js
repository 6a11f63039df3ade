// The live JSON view: the config exactly as Export writes it (or the selected item), updated as
// the researcher edits, with a copy button. Text only (textContent), never parsed as markup.

import { el, clear } from './dom.js';
import * as m from './model.js';

export function renderJsonView(root, { app, whole }) {
  const sel = app.state.selected;
  const showItem = !whole && sel && m.getItem(app.state.config, sel) !== undefined;
  const value = showItem ? m.getItem(app.state.config, sel) : m.exportConfig(app.state.config);
  const text = `${JSON.stringify(value, null, 2)}\n`;
  const pre = root.querySelector('pre.json-text');
  const scroll = pre ? pre.scrollTop : 0;
  clear(root);
  const wholeBox = el('input', { type: 'checkbox', id: 'json-whole' });
  wholeBox.checked = whole;
  wholeBox.addEventListener('change', () => renderJsonView(root, { app, whole: wholeBox.checked }));
  const copy = el('button', { type: 'button', class: 'small', id: 'json-copy' }, 'Copy');
  const state = el('span', { class: 'muted', role: 'status' });
  copy.addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(text);
      state.textContent = 'Copied.';
    } catch {
      // No clipboard permission (an embedded view): select the text so Ctrl+C copies it.
      const range = document.createRange();
      range.selectNodeContents(out);
      const selection = window.getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
      state.textContent = 'Selected: press Ctrl+C to copy.';
    }
  });
  const out = el('pre', { class: 'json-text', tabindex: '0', 'aria-label': showItem ? 'JSON of the selected item' : 'JSON of the whole study' }, text);
  root.append(
    el('div', { class: 'json-head' },
      el('h2', {}, 'JSON'),
      el('label', { for: 'json-whole' }, wholeBox, ' Whole study'),
      copy, state),
    el('p', { class: 'desc' }, `${showItem ? 'The selected item' : 'The config exactly as Export and Publish write it'}; ${text.length.toLocaleString()} characters.`),
    out);
  out.scrollTop = scroll;
}
