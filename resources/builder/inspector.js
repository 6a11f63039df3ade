// The inspector: the form for what the timeline has selected, the study itself (publish fields,
// experiment settings, the task's defaults) or one timeline item. Returns a handle whose
// showErrors() puts each validation message at its field.

import { el, clear } from './dom.js';
import { renderFields, fieldRow, renderExtras, lazySection, resolve } from './forms.js';
import { DATA_SWITCHES, iconFor } from './families.js';
import { icon } from './icons.js';
import { renderBlock } from './block.js';
import { RUNTIME_MODES, blockComponentType, blockTitle, getItem, isContainer, settingsKeyFor, setConfigField, setExperimentType, studyErrors } from './model.js';

// Top-level keys edited elsewhere or not by hand.
const STUDY_SKIP = new Set(['timeline', 'schema_version']);
const ITEM_SKIP = new Set(['type', 'items']);
// A task's defaults are its trial's fields, less those that only mean something on one trial.
const SETTINGS_SKIP = new Set(['type', 'name', 'data', 'detection_response_task_enabled']);

function section(parent, title, open = true) {
  const body = el('div', { class: 'fields' });
  const details = el('details', { class: 'group' }, el('summary', {}, title), body);
  details.open = open;
  parent.append(details);
  return body;
}

/** The data_collection switches as check boxes with plain names; aliases only when present. */
function renderDataCollection(body, { app, fields }) {
  const dc = app.state.config.data_collection;
  const write = (key, v) => app.editConfig((c) => {
    const inner = { ...(c.data_collection && typeof c.data_collection === 'object' ? c.data_collection : {}) };
    if (v === undefined) delete inner[key]; else inner[key] = v;
    return { ...c, data_collection: inner };
  });
  if (dc !== undefined && (dc === null || typeof dc !== 'object' || Array.isArray(dc))) {
    fields.set('data_collection', fieldRow(body, { key: 'data_collection', prop: { title: 'Data collection (JSON)' }, value: dc, prefix: 'dc', onChange: (v) => app.editConfig((c) => setConfigField(c, 'data_collection', v)) }));
    return;
  }
  const values = dc ?? {};
  body.append(el('p', { class: 'desc' }, 'What each trial row records, here and on the reference Interpreter; a switch that is off leaves its column empty.'));
  const sub = new Map();
  for (const s of DATA_SWITCHES) {
    for (const key of [s.key, s.alias].filter(Boolean)) {
      if (key === s.alias && values[key] === undefined) continue;
      const v = values[key];
      const label = key === s.alias ? `${s.label} (written as ${key})` : s.label;
      if (v !== undefined && typeof v !== 'boolean') {
        sub.set(key, fieldRow(body, { key, prop: { title: label, description: s.description }, value: v, prefix: 'dc', onChange: (nv) => write(key, nv) }));
        continue;
      }
      const id = `dc-${key}`;
      const box = el('input', { type: 'checkbox', id });
      box.checked = v === true;
      box.addEventListener('change', () => write(key, box.checked));
      const err = el('p', { class: 'error', hidden: '' });
      const row = el('div', { class: 'field check', 'data-field': key }, el('label', { for: id, title: `Config key: data_collection.${key}` }, box, ` ${label}`), el('p', { class: 'desc' }, s.description), err);
      body.append(row);
      sub.set(key, { setError: (t) => { err.textContent = t; err.hidden = !t; }, control: box, row });
    }
  }
  fields.set('data_collection', { setError: () => {}, sub });
}

export function renderStudyInspector(root, { app, schema }) {
  clear(root);
  const { study, config } = app.state;
  root.append(el('h2', { id: 'inspector-title' }, 'Study'));
  const pub = section(root, 'Publishing');
  const sFields = new Map();
  const studyField = (key, prop, onChange) => sFields.set(key, fieldRow(pub, { key, prop, value: study[key] || undefined, onChange, prefix: 'study' }));
  studyField('study_name', { type: 'string', title: 'Study name', description: 'Shown to researchers in study lists.' },
    (v) => app.setStudy({ name: v ?? '' }));
  studyField('study_slug', { type: 'string', title: 'Study slug', description: "Derived from the name until you edit it; letters, digits, '-' and '_', at most 50." },
    (v) => app.setStudy({ slug: v ?? '' }));
  studyField('config_version_label', { type: 'string', title: 'Version label', description: 'Publishing the same label again replaces that version; once it has runs, changes become a new version (v1-2).' },
    (v) => app.setStudy({ config_version_label: v ?? '' }));
  studyField('runtime_mode', { title: 'Runtime mode', enum: RUNTIME_MODES, description: 'Not set keeps the study\'s current mode on the server.' },
    (v) => app.setStudy({ runtime_mode: v ?? '' }));
  // Typing the name rewrites the slug field too (until the slug is edited by hand).
  const slugInput = sFields.get('study_slug').control;
  app.onStudyChange = (s) => { if (document.activeElement !== slugInput) slugInput.value = s.study_slug; };

  const props = schema.properties ?? {};
  const top = section(root, 'Experiment');
  // Settings objects are often only a $ref to a component's definition ("Stroop defaults" ->
  // stroop-trial): resolve before deciding what kind of field a property is.
  const resolved = Object.fromEntries(Object.entries(props).map(([k, p]) => [k, { ...resolve(schema, p), title: p.title ?? resolve(schema, p).title }]));
  const isGroup = (p) => p.type === 'object' || (p.properties && !p.type);
  const scalar = Object.fromEntries(Object.entries(resolved).filter(([k, p]) => !STUDY_SKIP.has(k) && !k.endsWith('_settings') && !isGroup(p)));
  const fields = renderFields(top, {
    schema, props: scalar, values: config, prefix: 'cfg', more: lazySection(top, 'More experiment fields'),
    onChange: (key, v) => app.editConfig((c) => (key === 'experiment_type' && v ? setExperimentType(c, v) : setConfigField(c, key, v)),
      { rerender: key === 'task_type' || key === 'experiment_type' }),
  });

  renderDataCollection(section(root, 'Data collection'), { app, fields });

  const taskKey = settingsKeyFor(schema, config.task_type);
  // The task's defaults open; other tasks' defaults only when the config carries them (closed).
  const groups = Object.entries(resolved).filter(([k, p]) => isGroup(p) && p.properties && !STUDY_SKIP.has(k) && k !== 'data_collection'
    && (k === taskKey || !k.endsWith('_settings') || config[k] !== undefined));
  groups.sort(([a], [b]) => (a === taskKey ? -1 : b === taskKey ? 1 : 0));
  for (const [key, p] of groups) {
    const body = section(root, p.title ?? key, key === taskKey);
    body.closest('details').dataset.group = key;
    const value = config[key];
    if (value !== undefined && (value === null || typeof value !== 'object' || Array.isArray(value))) {
      // Not an object (as imported): a JSON field keeps it exactly.
      fields.set(key, fieldRow(body, { key, prop: { ...p, type: undefined, properties: undefined }, value, prefix: 'grp', onChange: (v) => app.editConfig((c) => setConfigField(c, key, v)) }));
      continue;
    }
    const desc = key.endsWith('_settings')
      ? `Defaults for every ${p.title?.replace(/ defaults$/, '') ?? 'task'} trial and block of this study; a trial's or block's own value wins.`
      : p.description;
    if (desc) body.append(el('p', { class: 'desc' }, desc));
    const own = Object.fromEntries(Object.entries(p.properties).filter(([k]) => !(key.endsWith('_settings') && SETTINGS_SKIP.has(k))));
    const f = renderFields(body, {
      schema, props: own, values: value ?? {}, prefix: key, more: lazySection(body, 'More fields'), grouped: true,
      onChange: (k, v) => app.editConfig((c) => setConfigField(c, k, v, key)),
    });
    renderExtras(body, {
      known: new Set(Object.keys(p.properties)), values: value ?? {}, prefix: `${key}-extra`, title: 'Other fields',
      onChange: (old, extras) => app.editConfig((c) => {
        const inner = { ...(c[key] ?? {}) };
        for (const k of Object.keys(old)) delete inner[k];
        return { ...c, [key]: Object.assign(inner, extras) };
      }),
    });
    fields.set(key, { setError: (t) => [...f.values()][0]?.setError(t), sub: f });
  }
  // Free-form parameter groups (RDM) and other objects without a form: JSON, folded away,
  // shown when the config has them or the task uses them.
  const rest = Object.entries(resolved).filter(([k, p]) => !STUDY_SKIP.has(k) && k !== 'data_collection' && isGroup(p)
    && !groups.some(([g]) => g === k) && (config[k] !== undefined || (!k.endsWith('_settings') && config.task_type === 'rdm')));
  if (rest.length) {
    const adv = section(root, 'Other settings (JSON)', false);
    for (const [key, p] of rest) {
      fields.set(key, fieldRow(adv, {
        key, prop: { ...p, type: 'object', properties: undefined }, value: config[key], prefix: 'adv',
        onChange: (v) => app.editConfig((c) => setConfigField(c, key, v)),
      }));
    }
  }
  const known = new Set([...Object.keys(props)]);
  renderExtras(root, {
    known, values: config, prefix: 'cfg-extra', title: 'Other fields of the config',
    onChange: (old, extras) => app.editConfig((c) => {
      const next = { ...c };
      for (const k of Object.keys(old)) delete next[k];
      return Object.assign(next, extras);
    }),
  });

  return {
    showErrors(grouped, showStudy) {
      const errs = { ...(showStudy ? studyErrors(app.state.study) : {}), ...app.serverStudyErrors };
      for (const [k, f] of sFields) f.setError(errs[k] ?? '');
      for (const [k, f] of fields) {
        const list = grouped.byConfig.get(k) ?? [];
        if (f.sub) {
          for (const [sk, sf] of f.sub) sf.setError(list.filter((t) => t.startsWith(`${sk}:`)).map((t) => t.slice(sk.length + 1).trim()).join(' '));
        } else f.setError(list.join(' '));
      }
    },
    focusField(key) {
      const row = root.querySelector(`[data-field="${CSS.escape(key)}"]`);
      if (row) { row.closest('details')?.setAttribute('open', ''); row.querySelector('input,select,textarea')?.focus(); }
    },
  };
}

export function renderItemInspector(root, { app, schema, path }) {
  clear(root);
  const item = getItem(app.state.config, path);
  const defs = schema.$defs ?? {};
  const def = defs[item?.type];
  const title = item?.type === 'block' ? blockTitle(item, schema) : def?.title ?? item?.type ?? 'Untyped item';
  const head = el('div', { class: 'inspector-head' },
    icon(iconFor(item?.type === 'block' ? blockComponentType(item) || 'block' : item?.type)),
    el('div', {}, el('h2', { id: 'inspector-title', title: `Config type: ${item?.type ?? '(none)'}` }, title),
      def?.description ? el('p', { class: 'desc' }, def.description) : null));
  root.append(head);
  const actions = el('div', { class: 'item-actions', role: 'toolbar', 'aria-label': 'Preview this item' });
  for (const [action, text, hint] of [['preview-item', 'Preview this item', 'Runs only this item in the Interpreter'], ['preview-from', 'Preview from here', 'Runs the study from this item to the end']]) {
    const b = el('button', { type: 'button', class: 'small', 'data-preview': action, title: hint }, text);
    b.addEventListener('click', () => app.previewPart(action === 'preview-item' ? 'item' : 'from', path));
    actions.append(b);
  }
  root.append(actions);
  const itemError = el('div', { class: 'item-errors', role: 'group', 'aria-label': 'Problems with this item', hidden: '' });
  root.append(itemError);
  const get = () => getItem(app.state.config, path);
  const put = (next, opts) => app.replaceItem(path, next, opts);
  const onImage = app.pickImages;
  const body = el('div', { class: 'fields' });
  root.append(body);
  let fields = new Map();
  let paramErrors = new Map();
  if (item === null || typeof item !== 'object' || Array.isArray(item)) {
    body.append(el('p', { class: 'note' }, 'This timeline entry is not an object, so it has no fields; it is kept exactly as imported.'));
  } else if (item.type === 'block') {
    ({ fields, paramErrors } = renderBlock(body, { schema, get, put, onImage, onRowsAsTrials: () => app.rowsAsTrials(path) }));
  } else {
    if (!def) {
      body.append(el('p', { class: 'note' }, 'The Interpreter does not run this component type; participants will see an "unsupported component" screen. Its fields are kept as imported.'));
    }
    const skip = new Set([...ITEM_SKIP]);
    const more = el('div', { class: 'wide' });
    fields = renderFields(body, {
      schema, props: def?.properties ?? {}, values: item ?? {}, skip, prefix: 'item', onImage,
      more: lazySection(more, 'More fields'), grouped: true,
      onChange: (key, v) => {
        const next = { ...get() };
        if (v === undefined) delete next[key]; else next[key] = v;
        put(next);
      },
    });
    const known = new Set([...Object.keys(def?.properties ?? {}), 'type', 'items']);
    body.append(more);
    renderExtras(body, {
      known, values: item ?? {}, prefix: 'item-extra',
      onChange: (old, extras) => {
        const next = { ...get() };
        for (const k of Object.keys(old)) delete next[k];
        put(Object.assign(next, extras));
      },
    });
    if (isContainer(item)) body.append(el('p', { class: 'desc' }, `${item.items.length} item(s) inside. Select an item and press Alt+→ to move it into the ${item.type === 'loop' ? 'loop' : 'group'} above it, Alt+← to move it out.`));
  }
  return {
    showErrors(list) {
      const byField = new Map();
      const general = [];
      for (const e of list) {
        let field = e.field;
        const m = !field && /required property "([^"]+)"/.exec(e.message);
        if (m) field = m[1];
        if ((field === 'parameter_values' || field === 'parameter_windows') && paramErrors.size) {
          const name = e.message.split(':')[0];
          if (paramErrors.has(name)) { byField.set(`param:${name}`, [...(byField.get(`param:${name}`) ?? []), e.message]); continue; }
        }
        if (e.kind === 'unsupported') general.push({ text: e.message, kind: 'unsupported' });
        else if (field && fields.has(field)) byField.set(field, [...(byField.get(field) ?? []), e.message]);
        else general.push({ text: field ? `${field}: ${e.message}` : e.message, kind: 'error' });
      }
      for (const [k, f] of fields) f.setError((byField.get(k) ?? []).join(' '));
      for (const [k, set] of paramErrors) set((byField.get(`param:${k}`) ?? []).join(' '));
      clear(itemError);
      itemError.hidden = general.length === 0;
      for (const g of general) {
        itemError.append(el('p', { class: g.kind }, g.kind === 'unsupported' ? el('strong', {}, 'Will not run in this version: ') : null, g.text));
      }
    },
    focusField(key) {
      const row = root.querySelector(`[data-field="${CSS.escape(key)}"], tr[data-param="${CSS.escape(key)}"]`);
      (row ?? root).querySelector('input,select,textarea,button')?.focus();
    },
  };
}
