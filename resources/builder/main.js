// The Builder app: wires the model, the timeline tree, the inspector, validation, drafts,
// preview, import/export, media and publishing together. All state lives in `app.state`;
// every change goes through one of the edit functions below, which keep undo, the draft, the
// validation messages and the views in step.

import * as m from './model.js';
import { el, clear, debounce } from './dom.js';
import { renderTimeline, makeDraggableNew, pathKey } from './timeline.js';
import { renderStudyInspector, renderItemInspector } from './inspector.js';
import { loadDraft, saveDraft } from './drafts.js';
import { Preview } from './preview.js';
import { createIo } from './io.js';
import { validateConfig } from '../interpreter/validate.js';

const $ = (id) => document.getElementById(id);
const UNDO_LIMIT = 200;
const COALESCE_MS = 1200;

const app = {
  state: { ...m.emptyStudy(), selected: null },
  undo: [],
  redo: [],
  lastEdit: { key: null, at: 0 },
  validation: { errors: [], warnings: [] },
  grouped: { byItem: new Map(), byConfig: new Map() },
  showStudyErrors: false,
  serverStudyErrors: {}, // the server's own field errors from the last publish
  inspector: null,
  onStudyChange: null,
};
let schema = null;
let preview = null;

// ---- status line ----------------------------------------------------------------------------

function setStatus(kind, text, link) {
  const box = $('status');
  clear(box);
  box.className = `status ${kind}`;
  box.append(el('span', {}, text));
  if (link) box.append(' ', el('a', { href: link.href, target: '_blank', rel: 'noopener' }, link.text));
  box.hidden = false;
}

// ---- undo and edits -------------------------------------------------------------------------

const snapshot = () => ({ study: app.state.study, config: app.state.config, selected: app.state.selected });

function pushUndo(coalesceKey) {
  const now = Date.now();
  if (coalesceKey && app.lastEdit.key === coalesceKey && now - app.lastEdit.at < COALESCE_MS) {
    app.lastEdit.at = now;
    return;
  }
  app.lastEdit = { key: coalesceKey, at: now };
  app.undo.push(snapshot());
  if (app.undo.length > UNDO_LIMIT) app.undo.shift();
  app.redo = [];
}

function restore(from, to) {
  const snap = from.pop();
  if (!snap) return;
  to.push(snapshot());
  Object.assign(app.state, snap);
  app.lastEdit = { key: null, at: 0 };
  changed({ inspector: true });
  setStatus('info', from === app.undo ? 'Undone.' : 'Redone.');
}

app.editConfig = (fn, opts = {}) => {
  pushUndo(opts.rerender ? null : 'config');
  app.state.config = fn(app.state.config);
  changed({ inspector: !!opts.rerender });
};

app.replaceItem = (path, next, opts = {}) => {
  pushUndo(opts.rerender ? null : `item:${pathKey(path)}`);
  app.state.config = m.replaceItem(app.state.config, path, next);
  changed({ inspector: !!opts.rerender });
};

app.setStudy = ({ name, slug, config_version_label, runtime_mode }) => {
  pushUndo('study');
  app.serverStudyErrors = {};
  let s = app.state.study;
  if (name !== undefined) s = m.setStudyName(s, name);
  if (slug !== undefined) s = m.setStudySlug(s, slug);
  if (config_version_label !== undefined) s = { ...s, config_version_label };
  if (runtime_mode !== undefined) s = { ...s, runtime_mode };
  app.state.study = s;
  if (app.onStudyChange) app.onStudyChange(s);
  changed({});
};

function structural(fn, message) {
  let result;
  try {
    result = fn(app.state.config);
  } catch (err) {
    setStatus('error', err.message);
    return;
  }
  if (result.config === app.state.config) return;
  pushUndo(null);
  app.state.config = result.config;
  if (result.path !== undefined) app.state.selected = result.path;
  changed({ inspector: true });
  if (message) setStatus('info', message);
}

const saveSoon = debounce(() => {
  const ok = saveDraft(app.state);
  $('draft-state').textContent = ok ? `Draft saved ${new Date().toLocaleTimeString()}` : 'Draft could not be saved (browser storage is full or blocked); export the study to a file.';
}, 400);
const validateSoon = debounce(() => runValidation(), 300);

function changed({ inspector = false }) {
  saveSoon();
  validateSoon();
  drawTimeline();
  if (inspector) drawInspector();
  drawHeader();
}

// ---- views ----------------------------------------------------------------------------------

function errorCount(key) {
  if (key === 'study') {
    let n = 0;
    for (const list of app.grouped.byConfig.values()) n += list.length;
    if (app.showStudyErrors) n += Object.keys(m.studyErrors(app.state.study)).length;
    return n;
  }
  return (app.grouped.byItem.get(key) ?? []).length;
}

function drawTimeline() {
  renderTimeline($('tree'), { state: app.state, schema, errorCount, onSelect: select, onAction });
  const sel = app.state.selected;
  const item = sel ? m.getItem(app.state.config, sel) : null;
  for (const b of document.querySelectorAll('#tree-actions button')) {
    const need = b.dataset.need;
    b.disabled = !sel || (need === 'container' && !m.isContainer(item)) || (need === 'nested' && sel.length < 2);
  }
}

function drawInspector() {
  const root = $('inspector');
  const sel = app.state.selected;
  if (sel && !m.getItem(app.state.config, sel)) app.state.selected = null;
  app.onStudyChange = null;
  app.inspector = app.state.selected
    ? renderItemInspector(root, { app, schema, path: app.state.selected })
    : renderStudyInspector(root, { app, schema });
  showErrorsInInspector();
}

function drawHeader() {
  const s = app.state.study;
  $('study-summary').textContent = s.study_slug ? `${s.study_slug} · ${s.config_version_label || 'no label'}` : 'Not yet named';
  $('undo').disabled = app.undo.length === 0;
  $('redo').disabled = app.redo.length === 0;
}

function showErrorsInInspector() {
  if (!app.inspector) return;
  if (app.state.selected) app.inspector.showErrors(app.grouped.byItem.get(pathKey(app.state.selected)) ?? []);
  else app.inspector.showErrors(app.grouped, app.showStudyErrors);
}

function select(path, { focusTree = false } = {}) {
  app.state.selected = path;
  drawTimeline();
  drawInspector();
  if (focusTree) $('tree').querySelector('[aria-selected="true"]')?.focus();
  saveSoon();
}

// ---- validation -----------------------------------------------------------------------------

function runValidation() {
  const result = validateConfig(m.exportConfig(app.state.config), schema);
  app.validation = result;
  app.grouped = m.groupErrors(result.errors);
  drawTimeline();
  showErrorsInInspector();
  drawProblems();
  return result;
}

function drawProblems() {
  const list = $('problem-list');
  clear(list);
  const studyErrs = app.showStudyErrors ? Object.entries(m.studyErrors(app.state.study)) : [];
  const total = app.validation.errors.length + studyErrs.length;
  $('problems-title').textContent = total ? `Problems (${total})` : 'No problems found';
  const add = (text, path, field, cls = 'error') => {
    const b = el('button', { type: 'button', class: `link ${cls}` }, text);
    b.addEventListener('click', () => { select(path); app.inspector?.focusField(field); });
    list.append(el('li', {}, b));
  };
  for (const [field, msg] of studyErrs) add(`Study › ${field}: ${msg}`, null, field);
  for (const e of app.validation.errors) {
    const where = m.locateError(e.path);
    if (where.scope === 'item') {
      const item = m.getItem(app.state.config, where.path);
      add(`${m.itemLabel(item, schema)} › ${where.field || 'item'}${where.sub.length ? `.${where.sub.join('.')}` : ''}: ${e.message}`, where.path, where.field);
    } else {
      add(`Study › ${where.field}${where.sub.length ? `.${where.sub.join('.')}` : ''}: ${e.message}`, null, where.field);
    }
  }
  for (const w of [...m.studyNotes(app.state.config), ...app.validation.warnings]) {
    const where = m.locateError(w.path);
    add(`Note: ${w.message}`, where.scope === 'item' ? where.path : null, where.field, 'warning');
  }
}

/** Full check before preview and publish; false (with messages at their fields) if not ready. */
function ready(what, { needStudy }) {
  validateSoon.flush();
  if (needStudy) app.showStudyErrors = true;
  const result = runValidation();
  const studyErrs = needStudy ? Object.keys(m.studyErrors(app.state.study)).length : 0;
  const n = result.errors.length + studyErrs;
  if (n === 0) return true;
  setStatus('error', `Fix the ${n} problem${n > 1 ? 's' : ''} listed under the timeline before ${what}.`);
  $('problems').querySelector('button.link')?.focus();
  return false;
}

// ---- timeline actions -----------------------------------------------------------------------

function addItem(type, where) {
  const sel = app.state.selected;
  const at = where ?? m.insertionPoint(app.state.config, sel);
  const item = m.newItem(schema, app.state.config, type, m.taskComponent(schema, app.state.config.task_type));
  structural((c) => m.insertItem(c, at.parentPath, at.index, item), `Added ${m.itemLabel(item, schema)}.`);
}

function onAction(name, args) {
  const sel = app.state.selected;
  if (name === 'drop') return structural((c) => m.moveItem(c, args.from, args.toParent, args.index), 'Moved.');
  if (name === 'drop-new') return addItem(args.type, { parentPath: args.toParent, index: args.index });
  if (name === 'edit') {
    $('inspector').querySelector('input,select,textarea')?.focus();
    return undefined;
  }
  if (!sel) return undefined;
  const label = m.itemLabel(m.getItem(app.state.config, sel), schema);
  const ops = {
    up: () => structural((c) => m.moveBy(c, sel, -1)),
    down: () => structural((c) => m.moveBy(c, sel, +1)),
    into: () => structural((c) => m.moveIntoPrevious(c, sel), `Moved ${label} into the loop or group above.`),
    out: () => structural((c) => m.moveOut(c, sel), `Moved ${label} out of its loop or group.`),
    duplicate: () => structural((c) => m.duplicateItem(c, sel), `Duplicated ${label}.`),
    delete: () => {
      const siblings = sel.length > 1 ? m.getItem(app.state.config, sel.slice(0, -1)).items : app.state.config.timeline;
      const last = sel[sel.length - 1];
      const nextSel = siblings.length > 1 ? [...sel.slice(0, -1), Math.min(last, siblings.length - 2)] : (sel.length > 1 ? sel.slice(0, -1) : null);
      structural((c) => ({ config: m.removeItem(c, sel), path: nextSel }), `Deleted ${label}. Undo with Ctrl+Z.`);
    },
    'wrap-loop': () => structural((c) => m.wrapItems(c, sel, 'loop'), `Put ${label} in a new loop.`),
    'wrap-group': () => structural((c) => m.wrapItems(c, sel, 'randomize-group'), `Put ${label} in a new randomized group.`),
    unwrap: () => structural((c) => m.unwrapItem(c, sel), 'Removed the loop or group; its items stay.'),
  };
  ops[name]?.();
  $('tree').querySelector('[aria-selected="true"]')?.focus();
  return undefined;
}

// ---- loading a study ------------------------------------------------------------------------

function loadStudy(study, config, message) {
  pushUndo(null);
  app.state = { study, config, selected: null };
  app.showStudyErrors = false;
  changed({ inspector: true });
  validateSoon.flush();
  setStatus('success', message);
}

// ---- start-up -------------------------------------------------------------------------------

Object.assign(app, { setStatus, loadStudy, ready, saveSoon, drawHeader, select });
const io = createIo(app);
app.pickImages = io.pickImages;

function buildLibrary() {
  const list = $('library-list');
  const groups = [['Components', (c) => !c.structural], ['Structure', (c) => c.structural]];
  for (const [title, pick] of groups) {
    list.append(el('h3', {}, title));
    const ul = el('ul');
    for (const c of m.catalogue(schema).filter(pick)) {
      const b = el('button', { type: 'button', class: 'lib', 'data-type': c.type, title: c.description }, c.title);
      b.setAttribute('aria-label', `Add ${c.title}`);
      b.addEventListener('click', () => addItem(c.type));
      makeDraggableNew(b, c.type);
      ul.append(el('li', {}, b));
    }
    list.append(ul);
  }
}

function bindToolbar() {
  $('new').addEventListener('click', () => loadStudy(m.emptyStudy().study, m.emptyStudy().config, 'New study. Ctrl+Z brings back the previous one.'));
  $('open').addEventListener('click', io.openDialog);
  $('open-cancel').addEventListener('click', () => $('open-dialog').close());
  $('import').addEventListener('click', () => { $('import-file').value = ''; $('import-file').click(); });
  $('import-file').addEventListener('change', (e) => { const f = e.target.files[0]; if (f) io.importFile(f); });
  $('export').addEventListener('click', io.exportFile);
  $('validate').addEventListener('click', () => {
    if (ready('previewing or publishing', { needStudy: true })) setStatus('success', 'The study is valid and ready to publish.');
  });
  $('preview').addEventListener('click', () => {
    if (!ready('previewing', { needStudy: false })) return;
    $('preview-panel').hidden = false;
    document.body.classList.add('previewing');
    preview.start(m.exportConfig(app.state.config));
    setStatus('info', 'Preview started beside the editor. Click into it to respond; Ctrl+Shift+Q stops it.');
  });
  $('preview-close').addEventListener('click', () => {
    preview.stop();
    $('preview-panel').hidden = true;
    document.body.classList.remove('previewing');
    $('preview').focus();
  });
  $('publish').addEventListener('click', io.publish);
  $('undo').addEventListener('click', () => restore(app.undo, app.redo));
  $('redo').addEventListener('click', () => restore(app.redo, app.undo));
  for (const b of document.querySelectorAll('#tree-actions button')) {
    b.addEventListener('click', () => onAction(b.dataset.action));
  }
  document.addEventListener('keydown', (e) => {
    const typing = e.target.closest('input, textarea, select');
    const ctrl = e.ctrlKey || e.metaKey;
    if (!ctrl || typing) return;
    if (e.key === 'z' && !e.shiftKey) { e.preventDefault(); restore(app.undo, app.redo); }
    else if ((e.key === 'z' && e.shiftKey) || e.key === 'Z' || e.key === 'y') { e.preventDefault(); restore(app.redo, app.undo); }
  });
  // Closing the window must not lose the last keystrokes.
  window.addEventListener('pagehide', () => saveSoon.flush());
  document.addEventListener('visibilitychange', () => { if (document.hidden) saveSoon.flush(); });
}

async function main() {
  try {
    const res = await fetch('../schema/cogflow-config.schema.json', { credentials: 'same-origin' });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    schema = await res.json();
  } catch (err) {
    setStatus('error', `The Builder could not load the config schema (${err.message}); reload the page.`);
    return;
  }
  preview = new Preview($('preview-frame'));
  buildLibrary();
  bindToolbar();
  const draft = loadDraft();
  if (draft) {
    app.state = { study: { ...m.emptyStudy().study, ...draft.study }, config: draft.config, selected: null };
    if (Array.isArray(draft.selected) && m.getItem(draft.config, draft.selected)) app.state.selected = draft.selected;
    setStatus('info', `Restored your draft${draft.saved_at ? ` from ${new Date(draft.saved_at).toLocaleString()}` : ''}.`);
  }
  drawTimeline();
  drawInspector();
  drawHeader();
  runValidation();
  // The desktop app's "Open in Builder" links here with ?study=<slug>: open it as the
  // "Open published" dialog would (undo brings the draft back).
  const wanted = new URLSearchParams(location.search).get('study');
  if (wanted) await io.openStudy(wanted);
  document.body.dataset.ready = 'true';
}

main();
