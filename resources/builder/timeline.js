// The timeline as an ARIA tree: the study row, then every item with its nesting level.
// Keyboard: arrows move the selection; Alt+arrows move the item (up/down, into the loop or
// group above, out of its loop or group); Delete removes; Ctrl+D duplicates; Enter edits.
// Mouse: click selects, drag and drop reorders (drop on the middle of a loop/group to nest).

import { el, clear } from './dom.js';
import { walk, isContainer, itemLabel, blockComponentType } from './model.js';
import { icon } from './icons.js';
import { iconFor } from './families.js';

const DRAG_TYPE = 'application/x-cogflow-path';
const NEW_TYPE = 'application/x-cogflow-new';

export const pathKey = (path) => (path ? path.join('.') : 'study');
const parseKey = (key) => (key === 'study' ? null : key.split('.').map(Number));

export function renderTimeline(tree, { state, schema, errorCount, onSelect, onAction }) {
  const focused = tree.contains(document.activeElement);
  const rows = [{ path: null, item: null }, ...walk(state.config)];
  const selectedKey = pathKey(state.selected);
  const built = rows.map(({ path, item }) => buildRow(path, item, { state, schema, errorCount, selectedKey }));
  // Same rows as on screen: patch them in place, so a drag that is starting (or the focused
  // row) is not torn out of the document by a re-render.
  const existing = rowsOf(tree);
  const same = existing.length === built.length && existing.every((r, i) => r.dataset.path === built[i].dataset.path);
  if (same) {
    existing.forEach((r, i) => patchRow(r, built[i]));
  } else {
    clear(tree);
    tree.append(...built);
  }
  const empty = tree.querySelector('.empty');
  if (state.config.timeline.length === 0 && !empty) {
    tree.append(el('p', { class: 'empty' }, 'The timeline is empty. Add components from the library.'));
  } else if (state.config.timeline.length > 0 && empty) empty.remove();
  const current = tree.querySelector('[aria-selected="true"]');
  if (focused && current && document.activeElement !== current) current.focus();
  bindOnce(tree, onSelect, onAction);
}

function buildRow(path, item, { state, schema, errorCount, selectedKey }) {
  const key = pathKey(path);
  const level = path ? path.length + 1 : 1;
  const text = path ? itemLabel(item, schema) : `Study: ${state.study.study_name || 'untitled'}`;
  const count = errorCount(key);
  const row = el('div', {
    role: 'treeitem',
    class: `row${path ? '' : ' study-row'}${isContainer(item) ? ' container' : ''}${count ? ' has-errors' : ''}`,
    'aria-level': String(level),
    'aria-selected': String(key === selectedKey),
    'data-path': key,
    tabindex: key === selectedKey ? '0' : '-1',
    draggable: path ? 'true' : 'false',
  },
  path ? el('span', { class: 'grip', 'aria-hidden': 'true' }, '⠿') : null,
  path ? icon(iconFor(item?.type === 'block' ? blockComponentType(item) || 'block' : item?.type), { size: 16 }) : null,
  el('span', { class: 'label' }, text),
  count ? el('span', { class: 'badge', title: `${count} problem${count > 1 ? 's' : ''}` }, `⚠ ${count}`) : null);
  // A CSSOM property, not a style attribute: the page's CSP allows no inline styles.
  row.style.setProperty('--level', String(level - 1));
  if (count) row.setAttribute('aria-description', `${count} problem${count > 1 ? 's' : ''}`);
  if (isContainer(item)) row.setAttribute('aria-expanded', 'true');
  return row;
}

function patchRow(row, fresh) {
  row.style.setProperty('--level', fresh.style.getPropertyValue('--level'));
  for (const name of ['class', 'aria-level', 'aria-selected', 'tabindex', 'draggable', 'aria-description', 'aria-expanded']) {
    const v = fresh.getAttribute(name);
    if (v === null) row.removeAttribute(name);
    else if (row.getAttribute(name) !== v) row.setAttribute(name, v);
  }
  if (row.innerHTML !== fresh.innerHTML) row.replaceChildren(...fresh.childNodes);
}

function rowsOf(tree) {
  return [...tree.querySelectorAll('[role="treeitem"]')];
}

// Listeners are bound once per tree element; they read the latest callbacks from it.
function bindOnce(tree, onSelect, onAction) {
  tree._cogflow = { onSelect, onAction };
  if (tree._bound) return;
  tree._bound = true;
  const cb = () => tree._cogflow;

  tree.addEventListener('click', (e) => {
    const row = e.target.closest('[role="treeitem"]');
    if (row) cb().onSelect(parseKey(row.dataset.path), { focusTree: true });
  });
  // Focus follows selection and selection follows focus (roving tabindex).
  tree.addEventListener('focusin', (e) => {
    const row = e.target.closest('[role="treeitem"]');
    if (row && row.getAttribute('aria-selected') !== 'true') cb().onSelect(parseKey(row.dataset.path), { focusTree: true });
  });
  tree.addEventListener('dblclick', (e) => {
    const row = e.target.closest('[role="treeitem"]');
    if (row) cb().onAction('edit');
  });
  tree.addEventListener('keydown', (e) => {
    const rows = rowsOf(tree);
    const i = rows.findIndex((r) => r.getAttribute('aria-selected') === 'true');
    const go = (j) => {
      e.preventDefault();
      const r = rows[Math.max(0, Math.min(rows.length - 1, j))];
      if (r) cb().onSelect(parseKey(r.dataset.path), { focusTree: true });
    };
    const act = (name) => { e.preventDefault(); cb().onAction(name); };
    const ctrl = e.ctrlKey || e.metaKey;
    if (e.altKey && e.key === 'ArrowUp') act('up');
    else if (e.altKey && e.key === 'ArrowDown') act('down');
    else if (e.altKey && e.key === 'ArrowRight') act('into');
    else if (e.altKey && e.key === 'ArrowLeft') act('out');
    else if (e.key === 'ArrowDown') go(i + 1);
    else if (e.key === 'ArrowUp') go(i - 1);
    else if (e.key === 'Home') go(0);
    else if (e.key === 'End') go(rows.length - 1);
    else if (e.key === 'Delete' || (e.key === 'Backspace' && !ctrl)) act('delete');
    else if (ctrl && (e.key === 'd' || e.key === 'D')) act('duplicate');
    else if (e.key === 'Enter' || e.key === 'F2') act('edit');
  });

  let marker = null;
  const clearMarker = () => {
    if (marker) marker.classList.remove('drop-before', 'drop-after', 'drop-inside');
    marker = null;
  };
  const dropTarget = (e) => {
    const row = e.target.closest('[role="treeitem"]');
    if (!row || row.dataset.path === 'study') return { row: rowsOf(tree)[0], where: 'after' };
    const box = row.getBoundingClientRect();
    const y = (e.clientY - box.top) / box.height;
    if (row.classList.contains('container') && y > 0.3 && y < 0.7) return { row, where: 'inside' };
    return { row, where: y < 0.5 ? 'before' : 'after' };
  };
  tree.addEventListener('dragstart', (e) => {
    const row = e.target.closest('[role="treeitem"]');
    if (!row || row.dataset.path === 'study') return;
    e.dataTransfer.setData(DRAG_TYPE, row.dataset.path);
    e.dataTransfer.effectAllowed = 'move';
  });
  tree.addEventListener('dragover', (e) => {
    const types = [...e.dataTransfer.types];
    if (!types.includes(DRAG_TYPE) && !types.includes(NEW_TYPE)) return;
    e.preventDefault();
    const { row, where } = dropTarget(e);
    clearMarker();
    marker = row;
    row.classList.add(`drop-${where}`);
  });
  tree.addEventListener('dragleave', (e) => { if (!tree.contains(e.relatedTarget)) clearMarker(); });
  tree.addEventListener('drop', (e) => {
    e.preventDefault();
    clearMarker();
    const { row, where } = dropTarget(e);
    const target = parseKey(row.dataset.path);
    let toParent;
    let index;
    if (target === null) { toParent = []; index = 0; }
    else if (where === 'inside') { toParent = target; index = 0; }
    else { toParent = target.slice(0, -1); index = target[target.length - 1] + (where === 'after' ? 1 : 0); }
    const from = e.dataTransfer.getData(DRAG_TYPE);
    const type = e.dataTransfer.getData(NEW_TYPE);
    if (from) cb().onAction('drop', { from: parseKey(from), toParent, index });
    else if (type) cb().onAction('drop-new', { type, toParent, index });
  });
}

/** Library entries can be dragged onto the timeline too. */
export function makeDraggableNew(button, type) {
  button.draggable = true;
  button.addEventListener('dragstart', (e) => {
    e.dataTransfer.setData(NEW_TYPE, type);
    e.dataTransfer.effectAllowed = 'copy';
  });
}
