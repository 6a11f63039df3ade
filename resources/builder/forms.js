// Form fields generated from the config JSON Schema: one labelled control per property, chosen
// from the property's type/enum and its current value. A new component therefore needs schema,
// not form code. A control writes back only when the researcher edits it, and a value the
// control cannot show faithfully (e.g. "inherit" in a number field) switches it to a text or
// JSON editor, so nothing imported is lost or reshaped by looking at it.

import { el, clear } from './dom.js';
import { valueLabel } from './families.js';
import { isKeyField, isColorField, fieldGroupOf, FIELD_GROUPS, keyCapture, colorPicker } from './widgets.js';
import { htmlEditor } from './html-editor.js';

let uid = 0;
const nextId = (prefix) => `${prefix}-${(uid += 1)}`;

export function resolve(schema, prop) {
  let p = prop ?? {};
  for (let guard = 0; p.$ref && guard < 10; guard += 1) {
    const name = p.$ref.replace('#/$defs/', '');
    p = { ...(schema.$defs ?? {})[name], ...p, $ref: undefined };
  }
  return p;
}

function typesOf(p) {
  if (p.type) return Array.isArray(p.type) ? p.type : [p.type];
  if (Array.isArray(p.anyOf)) return p.anyOf.flatMap((a) => typesOf(a));
  return [];
}

export const isImageField = (p) => p['x-cogflow-widget'] === 'image' || /\bimage/i.test(p.title ?? '');
const isLongText = (key, p) => /html/i.test(p.title ?? '') || ['instructions', 'feedback_message'].includes(key);
const isHtmlField = (key, p) => /html/i.test(p.title ?? '') || key === 'instructions';

/** Which control a property gets, given the value it holds now. */
export function controlKind(key, p, value) {
  const types = typesOf(p).filter((t) => t !== 'null');
  let kind;
  if (p.enum) kind = 'enum';
  else if (types.includes('boolean') && (value === undefined || typeof value === 'boolean')) kind = 'bool';
  else if (types.length && types.every((t) => t === 'number' || t === 'integer')) kind = 'number';
  else if (types.length === 1 && types[0] === 'string') kind = isLongText(key, p) ? 'longtext' : 'text';
  else if (types.includes('array') && types.every((t) => t === 'array' || t === 'string')) {
    const items = p.items ?? (p.anyOf ?? []).find((a) => a.type === 'array')?.items ?? {};
    kind = !items.type || items.type === 'string' ? 'list' : items.type === 'object' && items.properties ? 'objects' : 'json';
  } else if (types.length && types.every((t) => ['number', 'integer', 'string'].includes(t))) kind = 'mixed';
  else kind = 'json';
  // Keep what was imported intact: a value of another shape gets a control that can hold it.
  if (value === undefined || value === null) return kind;
  const t = typeof value;
  if (kind === 'bool' && t !== 'boolean') return 'json';
  if (kind === 'number' && t !== 'number') return t === 'string' ? 'mixed' : 'json';
  if ((kind === 'text' || kind === 'longtext') && t !== 'string') return 'json';
  if (kind === 'mixed' && t !== 'string' && t !== 'number') return 'json';
  if (kind === 'list' && !(t === 'string' || (Array.isArray(value) && value.every((v) => typeof v === 'string')))) return 'json';
  if (kind === 'enum' && t === 'object') return 'json';
  if (kind === 'objects' && !(Array.isArray(value) && value.every((v) => v && typeof v === 'object' && !Array.isArray(v)))) return 'json';
  return kind;
}

function defaultText(p) {
  if (p.default === undefined) return '';
  return typeof p.default === 'string' ? p.default : JSON.stringify(p.default);
}

/**
 * A control for one value. `onChange(value)` gets undefined for "not set" (the default applies).
 * Returns the element to place, the element to label, and `setError(text)`.
 */
export function makeControl({ key, prop, value, onChange, id, onImage, schema }) {
  const p = prop;
  const kind = controlKind(key, p, value);
  const def = defaultText(p);
  let control;
  let wrap;
  let wrapped = null;
  let jsonError = null;
  if (kind === 'enum' || kind === 'bool') {
    control = el('select', { id });
    const options = kind === 'bool' ? [true, false] : [...p.enum];
    if (value !== undefined && value !== null && !options.includes(value)) options.push(value);
    const unset = def ? `Default (${p.enum && typeof p.default === 'string' ? valueLabel(key, p.default) : kind === 'bool' ? (p.default ? 'Yes' : 'No') : def})` : 'Not set';
    // Option values are the config's own strings (so a test or a screen reader meets "stroop",
    // not an index); other values and the empty string get private tokens.
    const NULL = '\u0001null';
    const token = (o, i) => (typeof o === 'string' && o !== '' && o !== NULL ? o : typeof o === 'boolean' ? String(o) : `\u0001${i}`);
    const byToken = new Map(options.map((o, i) => [token(o, i), o]));
    control.append(el('option', { value: '' }, unset));
    options.forEach((o, i) => control.append(el('option', { value: token(o, i) }, kind === 'bool' ? (o ? 'Yes' : 'No') : (p['x-labels']?.[i] ?? valueLabel(key, o)))));
    control.value = value === undefined || value === null ? '' : token(value, options.indexOf(value));
    if (value === null) control.append(el('option', { value: NULL }, 'null'));
    if (value === null) control.value = NULL;
    control.addEventListener('change', () => {
      const v = control.value;
      onChange(v === '' ? undefined : v === NULL ? null : byToken.get(v));
    });
  } else if (kind === 'number') {
    control = el('input', { id, type: 'number', inputmode: 'decimal', step: typesOf(p).includes('integer') ? '1' : 'any' });
    if (p.minimum !== undefined) control.min = String(p.minimum);
    if (p.maximum !== undefined) control.max = String(p.maximum);
    control.value = typeof value === 'number' ? String(value) : '';
    control.placeholder = value === null ? 'null' : def ? `default ${def}` : '';
    control.addEventListener('input', () => {
      const raw = control.value.trim();
      if (raw === '') onChange(control.validity.badInput ? value : undefined);
      else if (!Number.isNaN(Number(raw))) onChange(Number(raw));
    });
  } else if (kind === 'text' || kind === 'mixed' || kind === 'list') {
    control = el('input', { id, type: 'text', autocomplete: 'off', spellcheck: 'false' });
    control.value = Array.isArray(value) ? value.join(', ') : value === undefined || value === null ? '' : String(value);
    control.placeholder = value === null ? 'null' : def ? `default ${def}` : kind === 'list' ? 'comma-separated' : '';
    const wasArray = Array.isArray(value) || (value === undefined && typesOf(p)[0] === 'array');
    control.addEventListener('input', () => {
      const raw = control.value;
      if (raw.trim() === '') { onChange(undefined); return; }
      if (kind === 'mixed') onChange(/^-?\d+(\.\d+)?$/.test(raw.trim()) ? Number(raw.trim()) : raw);
      else if (kind === 'list' && wasArray) onChange(raw.split(',').map((s) => s.trim()).filter(Boolean));
      else onChange(raw);
    });
  } else if (kind === 'objects') {
    control = objectList({ prop, value, onChange, id, onImage, schema });
  } else if (kind === 'longtext') {
    control = el('textarea', { id, rows: '4', spellcheck: 'true' });
    control.value = value ?? '';
    control.placeholder = def ? `default ${def}` : '';
    control.addEventListener('input', () => onChange(control.value === '' ? undefined : control.value));
    if (isHtmlField(key, p)) wrapped = htmlEditor(control, { label: p.title ?? key });
  } else {
    control = el('textarea', { id, rows: '4', class: 'json', spellcheck: 'false' });
    control.value = value === undefined ? '' : JSON.stringify(value, null, 2);
    control.placeholder = def ? `JSON, default ${def}` : 'JSON';
    control.addEventListener('input', () => {
      const raw = control.value.trim();
      if (raw === '') { jsonError = null; onChange(undefined); return; }
      try {
        const parsed = JSON.parse(raw);
        jsonError = null;
        onChange(parsed);
      } catch {
        jsonError = 'This is not valid JSON yet; the last valid value is kept.';
      }
      control.dispatchEvent(new CustomEvent('cogflow-json-state', { bubbles: true }));
    });
  }
  wrap = wrapped ?? control;
  if (kind === 'text' && isKeyField(key, p)) wrap = keyCapture(control, p.title ?? key);
  else if ((kind === 'text' || kind === 'mixed') && isColorField(key, p)) wrap = colorPicker(control, p.title ?? key);
  if (onImage && isImageField(p) && (kind === 'text' || kind === 'list' || kind === 'mixed')) {
    const button = el('button', { type: 'button', class: 'secondary small' }, kind === 'list' ? 'Add images…' : 'Choose image…');
    button.setAttribute('aria-label', `${kind === 'list' ? 'Add images' : 'Choose an image'} for ${p.title ?? key} from this computer`);
    button.addEventListener('click', () => onImage({ multiple: kind === 'list', apply: (urls) => {
      const current = kind === 'list' && control.value.trim() ? control.value.split(',').map((s) => s.trim()) : [];
      control.value = (kind === 'list' ? [...current, ...urls] : urls.slice(0, 1)).join(', ');
      control.dispatchEvent(new Event('input'));
    } }));
    // A thumbnail of the chosen image (only our own /media/ files, so nothing is fetched from
    // elsewhere while the researcher types).
    const thumb = el('img', { class: 'thumb', alt: '', hidden: '' });
    const showThumb = () => {
      const first = control.value.split(',')[0].trim();
      thumb.hidden = !first.startsWith('/media/');
      if (!thumb.hidden) thumb.src = first;
    };
    control.addEventListener('input', showThumb);
    showThumb();
    const reuse = el('button', { type: 'button', class: 'secondary small' }, 'Library…');
    reuse.setAttribute('aria-label', `Choose ${kind === 'list' ? 'images' : 'an image'} for ${p.title ?? key} from the study's images`);
    reuse.addEventListener('click', () => onImage({ library: true, multiple: kind === 'list', apply: (urls) => {
      const current = kind === 'list' && control.value.trim() ? control.value.split(',').map((s) => s.trim()) : [];
      control.value = (kind === 'list' ? [...current, ...urls] : urls.slice(0, 1)).join(', ');
      control.dispatchEvent(new Event('input'));
    } }));
    wrap = el('div', { class: 'with-button' }, control, button, reuse, thumb);
  }
  return { element: wrap, control, kind, jsonError: () => jsonError };
}

/**
 * One labelled field per property. `props` is the schema's `properties` object; `values` the
 * object being edited. Returns {fields: Map(key -> {setError, control})}.
 */
export function renderFields(parent, { schema, props, values, onChange, skip = new Set(), prefix = 'f', onImage, more, grouped = false }) {
  const fields = new Map();
  const entries = Object.entries(props ?? {}).filter(([key]) => !skip.has(key))
    .map(([key, raw]) => [key, resolve(schema, raw)]).filter(([, prop]) => prop.const === undefined);
  // Rarely edited fields (free JSON, legacy or ignored ones) go to the folded "more" section.
  const isRare = (key, prop) => more && (controlKind(key, prop, values[key]) === 'json' || /legacy|not supported|ignored|unused/i.test(`${prop.title} ${prop.description ?? ''}`));
  // Long forms get one collapsible section per kind of setting (responses, timing, ...).
  const common = entries.filter(([k, p]) => !isRare(k, p));
  const sections = grouped && common.length > GROUP_THRESHOLD ? new Map() : null;
  const sectionFor = (id) => {
    if (!sections) return parent;
    if (!sections.has(id)) {
      const g = FIELD_GROUPS.find((x) => x.id === id);
      const body = el('div', { class: 'fields' });
      const details = el('details', { class: 'group sub', 'data-section': id }, el('summary', {}, g.label), body);
      details.open = ['main', 'responses', 'timing'].includes(id);
      sections.set(id, { details, body });
    }
    return sections.get(id).body;
  };
  if (sections) {
    // Sections in a fixed order, whatever order the schema lists the fields in.
    const used = new Set(common.map(([k, p]) => fieldGroupOf(k, p)));
    for (const g of FIELD_GROUPS) if (used.has(g.id)) sectionFor(g.id);
    for (const { details } of sections.values()) parent.append(details);
  }
  for (const [key, prop] of entries) {
    const target = isRare(key, prop) ? more() : sectionFor(fieldGroupOf(key, prop));
    const f = fieldRow(target, { key, prop, value: values[key], onChange: (v) => onChange(key, v), prefix, onImage, schema });
    fields.set(key, f);
  }
  // The folded section goes after every common field, wherever its first field was.
  if (more?.details?.()) more.details().parentElement.append(more.details());
  return fields;
}

// Forms with more fields than this are split into sections.
const GROUP_THRESHOLD = 8;

/** A folded section created on first use, for renderFields' `more` option. */
export function lazySection(parent, title) {
  let body = null;
  let details = null;
  const get = () => {
    if (!body) {
      body = el('div', { class: 'fields' });
      details = el('details', { class: 'group more' }, el('summary', {}, title), body);
      parent.append(details);
    }
    return body;
  };
  get.details = () => details;
  return get;
}

export function fieldRow(parent, { key, prop, value, onChange, prefix = 'f', onImage, title, schema }) {
  const id = nextId(`${prefix}-${key}`);
  const { element, control, kind, jsonError } = makeControl({ key, prop, value, onChange, id, onImage, schema });
  const unit = prop['x-unit'] ? ` (${prop['x-unit']})` : '';
  const text = `${title ?? prop.title ?? key}${unit}`;
  // A list of sub-forms is a group, named by its heading rather than a <label>.
  const label = kind === 'objects'
    ? el('span', { class: 'label', id: `${id}-label` }, text)
    : el('label', { for: id, title: `Config key: ${key}` }, text);
  if (kind === 'objects') control.setAttribute('aria-labelledby', `${id}-label`);
  const descId = `${id}-desc`;
  const errId = `${id}-err`;
  const descText = prop.description ?? '';
  const desc = el('p', { class: 'desc', id: descId }, descText);
  const err = el('p', { class: 'error', id: errId, hidden: '' });
  control.setAttribute('aria-describedby', `${descId} ${errId}`);
  const row = el('div', { class: `field${kind === 'objects' ? ' wide' : ''}`, 'data-field': key }, label, element, desc, err);
  parent.append(row);
  const setError = (text) => {
    const local = jsonError();
    const shown = [local, text].filter(Boolean).join(' ');
    err.textContent = shown;
    err.hidden = !shown;
    row.classList.toggle('invalid', !!shown);
    if (shown) for (let d = row.closest('details'); d; d = d.parentElement?.closest('details')) d.open = true;
    if (shown) control.setAttribute('aria-invalid', 'true');
    else control.removeAttribute('aria-invalid');
  };
  control.addEventListener('cogflow-json-state', () => setError(''));
  return { setError, control, row };
}

/** Fields not described by the schema, edited together as one JSON object (kept verbatim). */
export function renderExtras(parent, { known, values, onChange, prefix = 'x', title = 'Other fields' }) {
  const extras = Object.fromEntries(Object.entries(values).filter(([k]) => !known.has(k)));
  if (!Object.keys(extras).length) return null;
  const id = nextId(prefix);
  const area = el('textarea', { id, rows: String(Math.min(12, 2 + JSON.stringify(extras, null, 2).split('\n').length)), class: 'json', spellcheck: 'false' });
  area.value = JSON.stringify(extras, null, 2);
  const err = el('p', { class: 'error', hidden: '' });
  let last = extras;
  area.addEventListener('input', () => {
    try {
      const parsed = JSON.parse(area.value || '{}');
      if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('object');
      err.hidden = true;
      area.removeAttribute('aria-invalid');
      onChange(last, parsed);
      last = parsed;
    } catch {
      err.textContent = 'Write a JSON object here; the last valid value is kept.';
      err.hidden = false;
      area.setAttribute('aria-invalid', 'true');
    }
  });
  parent.append(el('div', { class: 'field wide', 'data-field': '__extras' },
    el('label', { for: id }, title),
    area,
    el('p', { class: 'desc' }, 'Fields the Builder has no form for, kept exactly as imported (JSON).'),
    err));
  return area;
}

/** An array of objects (survey questions, colour sets...): one sub-form per entry, generated
 * from the item schema, with add, move and remove. Emits the whole new array on each change. */
function objectList({ prop, value, onChange, id, onImage, schema }) {
  const items = resolve(schema ?? {}, prop.items);
  const noun = items.title ?? 'Entry';
  const box = el('div', { id, class: 'objects', role: 'group' });
  let list = Array.isArray(value) ? [...value] : [];
  const emit = () => onChange(list);
  const fresh = () => {
    const entry = {};
    for (const k of items.required ?? []) {
      const p = resolve(schema ?? {}, (items.properties ?? {})[k]);
      if (k === 'id') entry.id = `q${list.length + 1}`;
      else if (p.default !== undefined) entry[k] = p.default;
      else if (p.enum) entry[k] = p.enum[0];
      else entry[k] = '';
    }
    return entry;
  };
  const draw = (focusIndex) => {
    clear(box);
    list.forEach((entry, i) => {
      const name = entry.id ?? entry.name ?? '';
      const fs = el('fieldset', { class: 'entry' }, el('legend', {}, `${noun} ${i + 1}${name ? ` — ${name}` : ''}`));
      const inner = el('div', { class: 'fields' });
      const set = (next) => { list = list.map((x, j) => (j === i ? next : x)); emit(); };
      // Survey questions: the fields of the question's type (others only if the entry has them),
      // and visible_if as a condition on an earlier question.
      const isQuestion = noun === 'Question' && items.properties?.visible_if;
      const shown = isQuestion ? questionProps(items.properties, entry) : items.properties;
      renderFields(inner, {
        schema, props: shown, values: entry, prefix: `${id}-${i}`, onImage,
        onChange: (k, v) => {
          const e = { ...list[i] };
          if (v === undefined) delete e[k]; else e[k] = v;
          set(e);
          if (isQuestion && k === 'type') draw(); // the form follows the question's type
        },
      });
      if (isQuestion && !(entry.visible_if !== undefined && !isSimpleCondition(entry.visible_if))) {
        inner.append(conditionBuilder({ entry, earlier: list.slice(0, i), id: `${id}-${i}-vis`,
          onChange: (v) => { const e = { ...list[i] }; if (v === undefined) delete e.visible_if; else e.visible_if = v; set(e); } }));
      }
      renderExtras(inner, {
        known: new Set(Object.keys(items.properties ?? {})), values: entry, prefix: `${id}-${i}-x`,
        onChange: (old, extras) => { const e = { ...list[i] }; for (const k of Object.keys(old)) delete e[k]; set(Object.assign(e, extras)); },
      });
      const button = (text, label, fn, disabled) => {
        const b = el('button', { type: 'button', class: 'small', 'aria-label': label, disabled }, text);
        b.addEventListener('click', fn);
        return b;
      };
      const move = (d) => () => { const j = i + d; [list[i], list[j]] = [list[j], list[i]]; list = [...list]; emit(); draw(j); };
      fs.append(inner, el('div', { class: 'entry-actions' },
        button('↑', `Move ${noun} ${i + 1} up`, move(-1), i === 0),
        button('↓', `Move ${noun} ${i + 1} down`, move(+1), i === list.length - 1),
        button('Remove', `Remove ${noun} ${i + 1}`, () => { list = list.filter((_, j) => j !== i); emit(); draw(Math.min(i, list.length - 1)); })));
      box.append(fs);
    });
    const add = el('button', { type: 'button', class: 'small' }, `Add ${noun.toLowerCase()}`);
    add.addEventListener('click', () => { list = [...list, fresh()]; emit(); draw(list.length - 1); });
    box.append(add);
    if (focusIndex !== undefined) {
      const target = box.querySelectorAll('fieldset')[focusIndex];
      (target ? target.querySelector('input,select,textarea') : add).focus();
    }
  };
  draw();
  return box;
}

// ---- survey questions ----------------------------------------------------------------------

// Which fields each question type uses (the Interpreter's survey component reads these).
const QUESTION_FIELDS = {
  likert: ['options'], radio: ['options'], checkbox: ['options'],
  slider: ['min', 'max', 'step'], number: ['min', 'max', 'step', 'placeholder'], text: ['placeholder', 'multiline'],
};
const QUESTION_COMMON = ['id', 'type', 'prompt', 'required'];

function questionProps(props, entry) {
  const type = entry.type ?? props.type?.default ?? 'likert';
  const own = QUESTION_FIELDS[type] ?? Object.keys(props);
  // visible_if gets its own control (conditionBuilder) unless its value needs the JSON editor.
  const keep = (k) => (QUESTION_COMMON.includes(k) || own.includes(k) || (k in entry && k !== 'visible_if')
    || (k === 'visible_if' && entry.visible_if !== undefined && !isSimpleCondition(entry.visible_if)));
  return Object.fromEntries(Object.entries(props).filter(([k]) => keep(k)));
}

const isSimpleCondition = (v) => v !== null && typeof v === 'object' && !Array.isArray(v)
  && Object.keys(v).every((k) => k === 'question_id' || k === 'equals') && typeof (v.question_id ?? '') === 'string'
  && (v.equals === undefined || ['string', 'number', 'boolean'].includes(typeof v.equals));

const optionValue = (o) => (o && typeof o === 'object' ? o.value : o);
const optionLabel = (o) => (o && typeof o === 'object' ? o.label ?? String(o.value) : String(o));

/** "Show this question: always / only when <earlier question> is <answer>" -> visible_if. */
function conditionBuilder({ entry, earlier, id, onChange }) {
  const cond = entry.visible_if;
  const questions = earlier.filter((q) => q && typeof q.id === 'string' && q.id);
  const which = el('select', { id: `${id}-q`, 'aria-label': 'Show this question only when the answer to' });
  which.append(el('option', { value: '' }, 'Always'));
  for (const q of questions) which.append(el('option', { value: q.id }, `${q.id}${q.prompt ? ` — ${String(q.prompt).slice(0, 40)}` : ''}`));
  if (cond?.question_id && !questions.some((q) => q.id === cond.question_id)) which.append(el('option', { value: cond.question_id }, `${cond.question_id} (not an earlier question)`));
  which.value = cond?.question_id ?? '';
  const answerBox = el('span', { class: 'cond-answer' });
  const draw = () => {
    clear(answerBox);
    const q = questions.find((x) => x.id === which.value);
    if (!which.value) return;
    const opts = Array.isArray(q?.options) ? q.options : null;
    let answer;
    if (opts && opts.length) {
      answer = el('select', { id: `${id}-a`, 'aria-label': 'Equals the answer' });
      answer.append(el('option', { value: '' }, 'any answer…'));
      opts.forEach((o, k) => answer.append(el('option', { value: String(k) }, optionLabel(o))));
      const at = opts.findIndex((o) => optionValue(o) === cond?.equals);
      answer.value = at >= 0 ? String(at) : '';
      answer.addEventListener('change', () => onChange({ question_id: which.value, ...(answer.value === '' ? {} : { equals: optionValue(opts[Number(answer.value)]) }) }));
    } else {
      answer = el('input', { type: 'text', id: `${id}-a`, 'aria-label': 'Equals the answer', placeholder: 'answer' });
      answer.value = cond?.equals === undefined ? '' : String(cond.equals);
      answer.addEventListener('input', () => onChange({ question_id: which.value, ...(answer.value === '' ? {} : { equals: answer.value }) }));
    }
    answerBox.append(el('span', { class: 'muted' }, 'is'), answer);
  };
  which.addEventListener('change', () => {
    onChange(which.value ? { question_id: which.value } : undefined);
    draw();
  });
  draw();
  return el('div', { class: 'field wide', 'data-field': 'visible_if' },
    el('span', { class: 'label' }, 'Show this question'),
    el('div', { class: 'cond-row' }, el('label', { for: `${id}-q`, class: 'muted' }, 'when the answer to'), which, answerBox),
    el('p', { class: 'desc' }, 'Always, or only when an earlier question got a given answer (for a checkbox question: includes it).'));
}
