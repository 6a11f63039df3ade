// The inspector: the form for what the timeline has selected, the study itself (publish fields,
// experiment settings, the task's defaults) or one timeline item. Returns a handle whose
// showErrors() puts each validation message at its field.

import { el, clear } from './dom.js';
import { renderFields, fieldRow, renderExtras, lazySection, resolve } from './forms.js';
import { renderBlock } from './block.js';
import { RUNTIME_MODES, getItem, isContainer, settingsKeyFor, setConfigField, studyErrors } from './model.js';

// Top-level keys edited elsewhere or not by hand.
const STUDY_SKIP = new Set(['timeline', 'schema_version']);
const ITEM_SKIP = new Set(['type', 'items']);
// Fields of a component that are not task defaults.
const SETTINGS_SKIP = new Set(['type', 'name', 'data', 'detection_response_task_enabled']);

function section(parent, title, open = true) {
  const body = el('div', { class: 'fields' });
  const details = el('details', { class: 'group' }, el('summary', {}, title), body);
  details.open = open;
  parent.append(details);
  return body;
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
  studyField('config_version_label', { type: 'string', title: 'Version label', description: 'Publishing the same label again replaces that version.' },
    (v) => app.setStudy({ config_version_label: v ?? '' }));
  studyField('runtime_mode', { title: 'Runtime mode', enum: RUNTIME_MODES, description: 'Not set keeps the study\'s current mode on the server.' },
    (v) => app.setStudy({ runtime_mode: v ?? '' }));
  // Typing the name rewrites the slug field too (until the slug is edited by hand).
  const slugInput = sFields.get('study_slug').control;
  app.onStudyChange = (s) => { if (document.activeElement !== slugInput) slugInput.value = s.study_slug; };

  const props = schema.properties ?? {};
  const top = section(root, 'Experiment');
  const scalar = Object.fromEntries(Object.entries(props).filter(([k, p]) => !STUDY_SKIP.has(k) && !k.endsWith('_settings') && !(p.type === 'object')));
  const fields = renderFields(top, {
    schema, props: scalar, values: config, prefix: 'cfg', more: lazySection(top, 'More experiment fields'),
    onChange: (key, v) => app.editConfig((c) => setConfigField(c, key, v), { rerender: key === 'task_type' || key === 'experiment_type' }),
  });

  const taskKey = settingsKeyFor(schema, config.task_type);
  // The task's defaults may be described by reference to its component ($ref): resolved here.
  const groups = Object.entries(props).map(([k, p]) => [k, k === taskKey ? resolve(schema, p) : p])
    .filter(([k, p]) => p.type === 'object' && p.properties && (k === taskKey || !k.endsWith('_settings')));
  for (const [key, p] of groups) {
    const body = section(root, p.title ?? key, key === taskKey);
    if (p.description) body.append(el('p', { class: 'desc' }, p.description));
    const f = renderFields(body, {
      schema, props: p.properties, values: config[key] ?? {}, prefix: key, skip: SETTINGS_SKIP,
      onChange: (k, v) => app.editConfig((c) => setConfigField(c, k, v, key)),
    });
    fields.set(key, { setError: (t) => [...f.values()][0]?.setError(t), sub: f });
  }
  // Free-form parameter groups (RDM) and other *_settings: JSON, folded away.
  const rest = Object.entries(props).filter(([k, p]) => !STUDY_SKIP.has(k) && p.type === 'object' && !groups.some(([g]) => g === k));
  const adv = section(root, 'Other settings (JSON)', false);
  for (const [key, p] of rest) {
    fields.set(key, fieldRow(adv, {
      key, prop: { ...p, type: 'object' }, value: config[key], prefix: 'adv',
      onChange: (v) => app.editConfig((c) => setConfigField(c, key, v)),
    }));
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
  const title = def?.title ?? item?.type ?? 'Untyped item';
  root.append(el('h2', { id: 'inspector-title' }, title), el('p', { class: 'type' }, el('code', {}, `type: ${item?.type ?? '(none)'}`)));
  if (def?.description) root.append(el('p', { class: 'desc' }, def.description));
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
    ({ fields, paramErrors } = renderBlock(body, { schema, get, put, onImage }));
  } else {
    if (!def) {
      body.append(el('p', { class: 'note' }, 'The Interpreter does not run this component type; participants will see an "unsupported component" screen. Its fields are kept as imported.'));
    }
    const skip = new Set([...ITEM_SKIP]);
    const more = el('div', { class: 'wide' });
    fields = renderFields(body, {
      schema, props: def?.properties ?? {}, values: item ?? {}, skip, prefix: 'item', onImage,
      more: lazySection(more, 'More fields'),
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
        if (field && fields.has(field)) byField.set(field, [...(byField.get(field) ?? []), e.message]);
        else general.push(field ? `${field}: ${e.message}` : e.message);
      }
      for (const [k, f] of fields) f.setError((byField.get(k) ?? []).join(' '));
      for (const [k, set] of paramErrors) set((byField.get(`param:${k}`) ?? []).join(' '));
      clear(itemError);
      itemError.hidden = general.length === 0;
      for (const g of general) itemError.append(el('p', { class: 'error' }, g));
    },
    focusField(key) {
      const row = root.querySelector(`[data-field="${CSS.escape(key)}"], tr[data-param="${CSS.escape(key)}"]`);
      (row ?? root).querySelector('input,select,textarea,button')?.focus();
    },
  };
}
