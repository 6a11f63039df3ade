// The block editor: the block's own fields, then one row per parameter of the generated
// component, each set to the task default, a fixed value, a list to pick from per trial, or a
// {min, max} window. The parameter list comes from the component's schema entry.

import { el, clear } from './dom.js';
import { renderFields, fieldRow, makeControl, resolve, renderExtras, lazySection, isImageField } from './forms.js';
import { blockComponentType, getBlockParameter, setBlockParameter, parseList, catalogue } from './model.js';
import { FIELD_GROUPS, fieldGroupOf } from './widgets.js';
import { renderConditions } from './table.js';

const NOT_PARAMETERS = new Set(['type', 'name', 'data', 'detection_response_task_enabled']);
const OWN_FIELDS_SKIP = new Set(['type', 'component_type', 'block_component_type', 'parameter_values', 'parameter_windows']);
const MODES = [['inherit', 'Default'], ['fixed', 'Fixed'], ['list', 'List'], ['window', 'Range']];

let uid = 0;
// Sections of a long parameter list that start open (the others open when the block sets one).
const OPEN_SECTIONS = new Set(['main', 'responses', 'timing']);

/** Render the block editor into `parent`; returns {fields, paramErrors: Map(name -> setError)}.
 * `get()` returns the block as the model holds it now, `put(next, opts)` replaces it. */
export function renderBlock(parent, { schema, get, put, onImage, onRowsAsTrials }) {
  const block = get();
  const defs = schema.$defs ?? {};
  const blockDef = defs.block ?? { properties: {} };
  const ctype = blockComponentType(block);
  const typeKey = block.component_type === undefined && block.block_component_type !== undefined ? 'block_component_type' : 'component_type';

  // Component type: a select of every component the Interpreter runs (plus an unknown one kept).
  const components = catalogue(schema).filter((c) => !c.structural);
  const typeProp = {
    title: 'Component type',
    description: 'Each trial of this block is one of these.',
    enum: components.map((c) => c.type),
    'x-labels': components.map((c) => c.title),
  };
  const fields = new Map();
  fields.set(typeKey, fieldRow(parent, {
    key: typeKey, prop: typeProp, value: ctype || undefined, prefix: 'block',
    onChange: (v) => put({ ...get(), [typeKey]: v ?? '' }, { rerender: true }),
  }));
  const lengthKey = block.length === undefined && block.block_length !== undefined ? 'block_length' : 'length';
  const skip = new Set([...OWN_FIELDS_SKIP, lengthKey === 'length' ? 'block_length' : 'length']);
  const more = el('div');
  for (const [k, f] of renderFields(parent, {
    schema, props: blockDef.properties, values: block, skip, prefix: 'block', onImage,
    more: lazySection(more, 'More block fields'),
    onChange: (key, v) => {
      const next = { ...get() };
      if (v === undefined) delete next[key]; else next[key] = v;
      put(next);
    },
  })) fields.set(k, f);

  if (ctype) renderConditions(parent, { schema, get, put, onRowsAsTrials });
  const paramErrors = renderParameters(parent, { schema, block, ctype, get, put, onImage });
  parent.append(more);
  const known = new Set([...Object.keys(blockDef.properties ?? {}), 'type', 'items']);
  renderExtras(more, {
    known, values: block, prefix: 'block-extra',
    onChange: (old, extras) => {
      const next = { ...get() };
      for (const k of Object.keys(old)) delete next[k];
      put(Object.assign(next, extras));
    },
  });
  return { fields, paramErrors };
}

function renderParameters(parent, { schema, block, ctype, get, put, onImage }) {
  const def = (schema.$defs ?? {})[ctype] ?? { properties: {} };
  const props = def.properties ?? {};
  const names = Object.keys(props).filter((k) => !NOT_PARAMETERS.has(k));
  // Parameters the block sets that the component's schema does not describe stay editable.
  const values = block.parameter_values && typeof block.parameter_values === 'object' ? block.parameter_values : {};
  const windows = block.parameter_windows;
  const windowNames = Array.isArray(windows) ? windows.map((w) => w && w.parameter) : Object.keys(windows ?? {});
  for (const n of [...Object.keys(values), ...windowNames]) if (n && !names.includes(n)) names.push(n);

  const wrap = el('div', { class: 'params-wrap' }, el('h3', { class: 'params-title' }, `Parameters per trial${ctype ? ` (${def.title ?? ctype})` : ''}`),
    el('p', { class: 'desc' }, 'Default: the task default. Fixed: one value. List: picked at random per trial (comma-separated). Range: a uniform value between min and max per trial; names ending in _ms, _px, _count are rounded.'));
  parent.append(wrap);
  // Long parameter lists (RDM has ~30) get one collapsible table per kind of setting; the
  // parameters the block sets are listed in their section, which starts open.
  const sectioned = names.length > 8;
  const bodies = new Map();
  const bodyFor = (name) => {
    const gid = sectioned ? fieldGroupOf(name, resolve(schema, props[name] ?? {})) : 'main';
    if (!bodies.has(gid)) {
      const body = el('tbody');
      const table = el('table', { class: 'params' },
        el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, 'Parameter'), el('th', { scope: 'col' }, 'How'), el('th', { scope: 'col' }, 'Value'))), body);
      const label = FIELD_GROUPS.find((g) => g.id === gid)?.label ?? gid;
      const details = el('details', { class: 'group sub', 'data-section': gid }, el('summary', {}, label), table);
      details.open = !sectioned || OPEN_SECTIONS.has(gid);
      bodies.set(gid, { body, details });
    }
    return bodies.get(gid);
  };
  if (sectioned) {
    const used = new Set(names.map((n) => fieldGroupOf(n, resolve(schema, props[n] ?? {}))));
    for (const g of FIELD_GROUPS) if (used.has(g.id)) wrap.append(bodyFor(names.find((n) => fieldGroupOf(n, resolve(schema, props[n] ?? {})) === g.id)).details);
  } else wrap.append(bodyFor(names[0] ?? 'x').details);

  const errors = new Map();
  for (const name of names) {
    const prop = resolve(schema, props[name] ?? { title: name });
    const title = prop.title ?? name;
    const id = `param-${(uid += 1)}`;
    const mode = el('select', { id: `${id}-how`, 'aria-label': `How to set ${title}`, 'data-param': name });
    for (const [v, label] of MODES) mode.append(el('option', { value: v }, label));
    const cell = el('div', { class: 'value' });
    const err = el('p', { class: 'error', hidden: '' });
    const row = el('tr', { 'data-param': name },
      el('th', { scope: 'row' }, el('span', { class: 'pname' }, title), el('code', {}, name)),
      el('td', {}, mode), el('td', {}, cell, err));
    const section = bodyFor(name);
    section.body.append(row);
    const current = getBlockParameter(block, name);
    if (current.mode !== 'inherit') section.details.open = true;
    mode.value = current.mode;
    const numeric = (prop.type === 'number' || prop.type === 'integer' || (Array.isArray(prop.type) && prop.type.some((t) => t === 'number' || t === 'integer')));
    const write = (m, v) => put(setBlockParameter(get(), name, m, v));
    const drawValue = (m, value) => {
      clear(cell);
      if (m === 'inherit') {
        cell.append(el('span', { class: 'muted' }, prop.default !== undefined ? `default ${JSON.stringify(prop.default)}` : 'task default'));
      } else if (m === 'fixed') {
        const { element, control } = makeControl({ key: name, prop, value, id: `${id}-v`, onChange: (v) => write('fixed', v === undefined ? '' : v), onImage, schema });
        control.setAttribute('aria-label', `${title} value`);
        cell.append(element);
      } else if (m === 'list') {
        const input = el('input', { type: 'text', id: `${id}-list`, 'aria-label': `${title} values, comma-separated`, placeholder: 'a, b, c' });
        input.value = Array.isArray(value) ? value.join(', ') : '';
        input.addEventListener('input', () => write('list', parseList(input.value, numeric)));
        cell.append(input);
        if (onImage && isImageField(prop)) {
          const add = el('button', { type: 'button', class: 'small', 'aria-label': `Add images to ${title} from this computer` }, 'Add images…');
          add.addEventListener('click', () => onImage({ multiple: true, apply: (urls) => {
            input.value = [...parseList(input.value), ...urls].join(', ');
            input.dispatchEvent(new Event('input'));
          } }));
          cell.append(add);
        }
      } else {
        const lo = el('input', { type: 'number', step: 'any', id: `${id}-min`, 'aria-label': `${title} minimum` });
        const hi = el('input', { type: 'number', step: 'any', id: `${id}-max`, 'aria-label': `${title} maximum` });
        lo.value = value && value.min !== undefined ? String(value.min) : '';
        hi.value = value && value.max !== undefined ? String(value.max) : '';
        const on = () => write('window', { min: lo.value === '' ? 0 : Number(lo.value), max: hi.value === '' ? 0 : Number(hi.value) });
        lo.addEventListener('input', on);
        hi.addEventListener('input', on);
        cell.append(el('span', { class: 'range' }, lo, el('span', { 'aria-hidden': 'true' }, '–'), hi));
      }
    };
    drawValue(current.mode, current.value);
    mode.addEventListener('change', () => {
      const m = mode.value;
      let v;
      if (m === 'fixed') v = prop.default ?? (prop.enum ? prop.enum[0] : numeric ? 0 : '');
      else if (m === 'list') v = prop.enum ? [...prop.enum] : prop.default !== undefined ? [prop.default] : [];
      else if (m === 'window') v = { min: typeof prop.default === 'number' ? prop.default : 0, max: typeof prop.default === 'number' ? prop.default : 0 };
      write(m, v);
      drawValue(m, v);
    });
    errors.set(name, (text) => {
      err.textContent = text || '';
      err.hidden = !text;
      row.classList.toggle('invalid', !!text);
      if (text) section.details.open = true;
    });
  }
  return errors;
}
