// The HTML editor for instructions and other HTML fields: the textarea (the source of truth),
// a small toolbar that wraps the selection in tags, and a live preview. The preview renders the
// researcher's HTML in a sandboxed frame with no script permission, so markup from an imported
// config can neither run code nor reach the Builder's page; the frame takes the page's CSP.

import { el } from './dom.js';

const TOOLS = [
  ['Heading', 'H', '<h2>', '</h2>'],
  ['Paragraph', '¶', '<p>', '</p>'],
  ['Bold', 'B', '<b>', '</b>'],
  ['Italic', 'I', '<i>', '</i>'],
  ['Key name', 'Key', '<kbd>', '</kbd>'],
  ['Line break', '↵', '<br>', ''],
];

// Colours of the Interpreter's default (dark) theme, so the preview looks like the run.
const PREVIEW_STYLE = 'body{margin:0;padding:12px;background:#1e1e1e;color:#eee;font:16px/1.45 system-ui,sans-serif;text-align:center}'
  + 'h1,h2{margin:.3em 0}kbd{border:1px solid #888;border-radius:3px;padding:0 4px;font-family:inherit}img{max-width:100%}';

/** The preview document for a piece of HTML (plain-text newlines kept, as the Interpreter does). */
export function previewDocument(html) {
  const body = /<[a-z][\s\S]*>/i.test(html) ? html : String(html).replace(/[&<>]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;' }[c])).replace(/\n/g, '<br>');
  return `<!doctype html><html><head><meta charset="utf-8"><style>${PREVIEW_STYLE}</style></head><body>${body}</body></html>`;
}

export function htmlEditor(textarea, { label }) {
  textarea.rows = 6;
  textarea.classList.add('code');
  const frame = el('iframe', { class: 'html-preview', title: `Preview of ${label}`, sandbox: '', tabindex: '-1' });
  const toolbar = el('div', { class: 'html-tools', role: 'toolbar', 'aria-label': 'HTML formatting' });
  for (const [name, text, open, close] of TOOLS) {
    const b = el('button', { type: 'button', class: 'small', title: name, 'aria-label': name }, text);
    b.addEventListener('click', () => {
      const { selectionStart: a, selectionEnd: z, value } = textarea;
      textarea.value = `${value.slice(0, a)}${open}${value.slice(a, z)}${close}${value.slice(z)}`;
      textarea.focus();
      textarea.setSelectionRange(a + open.length, z + open.length);
      textarea.dispatchEvent(new Event('input', { bubbles: true }));
    });
    toolbar.append(b);
  }
  const toggle = el('button', { type: 'button', class: 'small', 'aria-pressed': 'true', 'aria-label': 'Show the HTML preview' }, 'Preview');
  toolbar.append(el('span', { class: 'grow' }), toggle);
  let timer = null;
  const draw = () => { frame.srcdoc = previewDocument(textarea.value || textarea.placeholder.replace(/^default /, '')); };
  textarea.addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(draw, 150); });
  toggle.addEventListener('click', () => {
    const on = toggle.getAttribute('aria-pressed') !== 'true';
    toggle.setAttribute('aria-pressed', String(on));
    frame.hidden = !on;
    if (on) draw();
  });
  draw();
  return el('div', { class: 'html-editor' }, toolbar, el('div', { class: 'html-panes' }, textarea, frame));
}
