// The Builder app: wires the model, the timeline tree, the inspector, validation, drafts,
// preview, import/export, media and publishing together. All state lives in `app.state`;
// every change goes through one of the edit functions below, which keep undo, the draft, the
// validation messages and the views in step.

import * as m from './model.js';
import { el, clear, debounce } from './dom.js';
import { renderTimeline, pathKey } from './timeline.js';
import { renderLibrary } from './library.js';
import { openStartDialog } from './start.js';
import { renderJsonView } from './jsonview.js';
import { estimateDuration, formatDuration } from './estimate.js';
import { rowsAsTrials } from './table.js';
import { openAssets } from './assets.js';
import { renderStudyInspector, renderItemInspector } from './inspector.js';
import { loadDraft, saveDraft } from './drafts.js';
import { Preview } from './preview.js';
import { createIo } from './io.js';
import { validateConfig } from '../interpreter/validate.js';
import { studyProblems, whatWillNotRun } from './problems.js';
import { fieldLabel } from './families.js';

const $ = (id) => document.getElementById(id);
const UNDO_LIMIT = 200;
const COALESCE_MS = 1200;

const app = {
  state: { ...m.emptyStudy(), selected: null },
  undo: [],
  redo: [],
  lastEdit: { key: null, at: 0 },
  validation: { errors: [], warnings: [] },
  unsupported: [], // the Interpreter's refusals, [{where, item, message, path}]
  publishAnyway: false,
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
  if (opts.focus) $('inspector').querySelector(opts.focus)?.focus();
  if (opts.message) setStatus('success', opts.message);
};

app.rowsAsTrials = (path) => structural((c) => {
  const block = m.getItem(c, path);
  return { config: m.replaceItem(c, path, rowsAsTrials(block, c)), path };
}, 'The block now runs its rows as written, in a randomized group. Undo with Ctrl+Z.');

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
  drawLibraryIfScopeChanged();
  jsonSoon();
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
  // Re-drawing the same selection (after an edit) keeps the researcher's place in the form.
  const key = pathKey(app.state.selected);
  const keep = root.dataset.shows === key ? root.scrollTop : 0;
  app.inspector = app.state.selected
    ? renderItemInspector(root, { app, schema, path: app.state.selected })
    : renderStudyInspector(root, { app, schema });
  root.dataset.shows = key;
  root.scrollTop = keep;
  showErrorsInInspector();
}

function drawHeader() {
  const s = app.state.study;
  $('study-summary').textContent = s.study_slug ? `${s.study_slug} · ${s.config_version_label || 'no label'}` : 'Not yet named';
  const { ms, selfPaced } = estimateDuration(app.state.config, schema);
  $('duration').textContent = app.state.config.timeline.length ? `Duration ${formatDuration(ms)}` : '';
  $('duration').title = selfPaced
    ? `Estimated from the timeline; ${selfPaced} screen(s) wait for the participant and count with a typical time (15 s per screen, 8 s per question).`
    : 'Estimated from the timeline: trials, durations and inter-trial intervals.';
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
  jsonSoon();
}

// ---- validation -----------------------------------------------------------------------------

function runValidation() {
  const config = m.exportConfig(app.state.config);
  const result = validateConfig(config, schema);
  // Problems the schema cannot express count as errors; what the Interpreter refuses is listed
  // (and shown at its item) in the Interpreter's own words, and asked about before publishing.
  app.validation = { errors: [...result.errors, ...studyProblems(config)], warnings: result.warnings };
  app.unsupported = whatWillNotRun(config);
  app.grouped = m.groupErrors(app.validation.errors, app.unsupported);
  drawTimeline();
  showErrorsInInspector();
  drawProblems();
  return app.validation;
}

const STUDY_FIELD_LABELS = { study_name: 'Study name', study_slug: 'Study slug', config_version_label: 'Version label', runtime_mode: 'Runtime mode' };

// "Block: 4 × Flanker trial › Trials" / "Study › Task type": where a problem is, in words.
function placeText(where) {
  const sub = where.sub?.length ? ` › ${where.sub.join('.')}` : '';
  if (where.scope === 'item') {
    const item = m.getItem(app.state.config, where.path);
    const def = schema.$defs?.[item?.type === 'block' ? 'block' : item?.type];
    const field = where.field ? ` › ${def?.properties?.[where.field]?.title ?? where.field}` : '';
    return `${m.itemLabel(item, schema)}${field}${sub}`;
  }
  return `Study › ${where.field ? STUDY_FIELD_LABELS[where.field] ?? fieldLabel(schema, where.field) : 'Timeline'}${sub}`;
}

function drawProblems() {
  const list = $('problem-list');
  clear(list);
  const studyErrs = app.showStudyErrors ? Object.entries(m.studyErrors(app.state.study)) : [];
  const total = app.validation.errors.length + studyErrs.length + app.unsupported.length;
  $('problems-title').textContent = total ? `Problems (${total})` : 'No problems found';
  const add = (text, path, field, cls = 'error') => {
    const b = el('button', { type: 'button', class: `link ${cls}` }, text);
    b.addEventListener('click', () => { select(path); app.inspector?.focusField(field); });
    list.append(el('li', { class: cls }, b));
  };
  for (const [field, msg] of studyErrs) add(`Study › ${STUDY_FIELD_LABELS[field]}: ${msg}`, null, field);
  for (const e of app.validation.errors) {
    const where = m.locateError(e.path);
    add(`${placeText(where)}: ${e.message}`, where.scope === 'item' ? where.path : null, where.field);
  }
  for (const u of app.unsupported) {
    const where = m.locateError(u.path);
    add(`Will not run: ${u.message}`, where.scope === 'item' ? where.path : null, where.field, 'unsupported');
  }
  // The Interpreter's checker already said it (as "Will not run"): no second note.
  const said = new Set(app.unsupported.map((u) => u.message));
  for (const w of [...m.studyNotes(app.state.config), ...app.validation.warnings].filter((x) => !said.has(x.message))) {
    const where = m.locateError(w.path);
    add(`Note: ${w.message}`, where.scope === 'item' ? where.path : null, where.field, 'warning');
  }
}

/** Full check before preview and publish; false (with messages at their fields) if not ready.
 * Publishing a study the Interpreter would refuse asks first (the list says what and where). */
function ready(what, { needStudy }) {
  validateSoon.flush();
  if (needStudy) app.showStudyErrors = true;
  const result = runValidation();
  const studyErrs = needStudy ? Object.keys(m.studyErrors(app.state.study)).length : 0;
  const n = result.errors.length + studyErrs;
  if (n > 0) {
    setStatus('error', `Fix the ${n} problem${n > 1 ? 's' : ''} listed under the timeline before ${what}.`);
    $('problems').querySelector('button.link')?.focus();
    return false;
  }
  if (what === 'publishing' && app.unsupported.length && !app.publishAnyway) {
    confirmUnsupported();
    return false;
  }
  app.publishAnyway = false;
  return true;
}

function confirmUnsupported() {
  const dialog = $('refusal-dialog');
  const list = $('refusal-list');
  clear(list);
  for (const u of app.unsupported) list.append(el('li', {}, u.message));
  $('refusal-count').textContent = `${app.unsupported.length} part${app.unsupported.length > 1 ? 's' : ''} of this study will not run in this version of the Interpreter. Participants who open it here see these sentences instead of the study; the central server's Interpreter may run it.`;
  setStatus('error', `Not published yet: ${app.unsupported.length} part${app.unsupported.length > 1 ? 's' : ''} of this study will not run in this version.`);
  dialog.showModal();
  $('refusal-cancel').focus();
}

// ---- timeline actions -----------------------------------------------------------------------

function addItem(type, where, component) {
  const sel = app.state.selected;
  const at = where ?? m.insertionPoint(app.state.config, sel);
  const item = m.newItem(schema, app.state.config, type, component ?? m.taskComponent(schema, app.state.config.task_type));
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
app.pickImages = (opts) => (opts.library
  ? openAssets({ config: app.state.config, pick: opts.apply, multiple: opts.multiple, upload: io.uploadImages })
  : io.pickImages(opts));

const library = { query: '', showAll: false, scope: '' };

function drawLibrary() {
  const c = app.state.config;
  library.scope = `${c.task_type}|${c.experiment_type}`;
  renderLibrary($('library-list'), { schema, config: c, query: library.query, showAll: library.showAll, onAdd: (type, component) => addItem(type, undefined, component) });
}

function drawLibraryIfScopeChanged() {
  const c = app.state.config;
  if (`${c.task_type}|${c.experiment_type}` !== library.scope) drawLibrary();
}

const jsonSoon = debounce(() => drawJson(), 250);
function drawJson() {
  if ($('json-panel').hidden) return;
  renderJsonView($('json-panel'), { app, schema, whole: $('json-whole')?.checked ?? true });
}

function showPreview(config, what) {
  $('preview-panel').hidden = false;
  document.body.classList.add('previewing');
  $('preview-title').textContent = what;
  $('preview-title').title = what;
  preview.start(config);
  setStatus('info', `${what} started beside the editor. Click into it to respond; Ctrl+Shift+Q stops it.`);
}

app.previewPart = (kind, path) => {
  let config;
  try {
    config = m.partConfig(app.state.config, path, kind);
  } catch (err) {
    setStatus('error', err.message);
    return;
  }
  const errors = validateConfig(config, schema).errors;
  if (errors.length) {
    setStatus('error', `Fix the ${errors.length} problem${errors.length > 1 ? 's' : ''} of this part before previewing it (listed under the timeline).`);
    runValidation();
    return;
  }
  const label = m.itemLabel(m.getItem(app.state.config, path), schema);
  showPreview(config, kind === 'item' ? `Preview: ${label}` : `Preview from ${label}`);
};

function bindToolbar() {
  $('new').addEventListener('click', () => openStartDialog({ schema, onChoose: ({ study, config, message }) => loadStudy(study, config, message) }));
  $('assets').addEventListener('click', () => openAssets({ config: app.state.config, upload: io.uploadImages }));
  $('library-search').addEventListener('input', (e) => { library.query = e.target.value; drawLibrary(); });
  $('library-all').addEventListener('change', (e) => { library.showAll = e.target.checked; drawLibrary(); });
  $('json-toggle').addEventListener('click', () => {
    const on = $('json-panel').hidden;
    $('json-panel').hidden = !on;
    $('json-toggle').setAttribute('aria-pressed', String(on));
    document.body.classList.toggle('json-open', on);
    drawJson();
  });
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
    showPreview(m.exportConfig(app.state.config), 'Preview of the whole study');
  });
  $('preview-restart').addEventListener('click', () => preview.restart());
  $('preview-close').addEventListener('click', () => {
    preview.stop();
    $('preview-panel').hidden = true;
    document.body.classList.remove('previewing');
    $('preview').focus();
  });
  $('publish').addEventListener('click', io.publish);
  $('refusal-cancel').addEventListener('click', () => $('refusal-dialog').close());
  $('refusal-publish').addEventListener('click', () => {
    $('refusal-dialog').close();
    app.publishAnyway = true;
    io.publish();
  });
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
  drawLibrary();
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
  drawLibraryIfScopeChanged();
  runValidation();
  // The desktop app's "Open in Builder" links here with ?study=<slug>: open it as the
  // "Open published" dialog would (undo brings the draft back).
  const wanted = new URLSearchParams(location.search).get('study');
  if (wanted) await io.openStudy(wanted);
  document.body.dataset.ready = 'true';
}

main();
