// The conditions table of a block: one column per parameter the block draws from a list, one
// cell per value, edited in place, pasted from a spreadsheet or imported from a CSV/TSV file.
// The table *is* the block's parameter_values lists (column "congruency" = the list
// parameter_values.congruency, in row order), so it round-trips to the block's fields exactly.
//
// A block draws each parameter on its own for every trial, so the values of one row are not
// kept together. When a table's rows are not a full crossing of its columns, that changes the
// design; the table says so and offers to run the rows as written: a randomized group with one
// trial per row (and per repetition), which keeps each row's values together.

import { el, clear } from './dom.js';
import { resolve } from './forms.js';
import { blockComponentType, uniqueId } from './model.js';

const isScalar = (v) => v === null || ['string', 'number', 'boolean'].includes(typeof v);
const isObj = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

/** The list-valued parameters of a block that the table can show (lists of plain values). */
export function tableColumns(block) {
  const values = isObj(block.parameter_values) ? block.parameter_values : {};
  return Object.entries(values).filter(([, v]) => Array.isArray(v) && v.every(isScalar)).map(([k]) => k);
}

/** {columns, rows}: rows[r][c] is the value (or undefined past a shorter column's end). */
export function tableFromBlock(block, columns = tableColumns(block)) {
  const lists = columns.map((c) => (Array.isArray(block.parameter_values?.[c]) ? block.parameter_values[c] : []));
  const n = Math.max(0, ...lists.map((l) => l.length));
  const rows = Array.from({ length: n }, (_, r) => lists.map((l) => l[r]));
  return { columns, rows };
}

/** A cell's text as typed, turned into the value the component expects. */
export function cellValue(text, prop = {}) {
  const t = String(text).trim();
  const types = Array.isArray(prop.type) ? prop.type : [prop.type];
  if (types.includes('boolean') && /^(true|false|yes|no)$/i.test(t)) return /^(true|yes)$/i.test(t);
  if ((types.includes('number') || types.includes('integer')) && t !== '' && Number.isFinite(Number(t))) return Number(t);
  return t;
}

const cellText = (v) => (v === undefined || v === null ? '' : String(v));

/** The block with column `name` set from `cells` (texts; empty ones dropped). A cell whose
 * text is unchanged keeps its original value and type, so editing one cell changes one value. */
export function setColumn(block, name, cells, prop = {}) {
  const old = Array.isArray(block.parameter_values?.[name]) ? block.parameter_values[name] : [];
  const list = [];
  cells.forEach((text, r) => {
    if (String(text ?? '').trim() === '') return;
    list.push(r < old.length && cellText(old[r]) === String(text) ? old[r] : cellValue(text, prop));
  });
  return { ...block, parameter_values: { ...(isObj(block.parameter_values) ? block.parameter_values : {}), [name]: list } };
}

export function removeColumn(block, name) {
  const values = { ...(block.parameter_values ?? {}) };
  delete values[name];
  return { ...block, parameter_values: values };
}

/** Rows of a CSV or TSV text (tab-separated when the first line has a tab), with quoted
 * fields ("a, b" and "" for a quote) as spreadsheets write them. */
export function parseDelimited(text) {
  const src = String(text).replace(/^\ufeff/, '').replace(/\r\n?/g, '\n').replace(/\n+$/, '');
  const sep = src.split('\n', 1)[0].includes('\t') ? '\t' : src.split('\n', 1)[0].includes(';') && !src.split('\n', 1)[0].includes(',') ? ';' : ',';
  const rows = [];
  let row = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < src.length; i++) {
    const ch = src[i];
    if (quoted) {
      if (ch === '"' && src[i + 1] === '"') { field += '"'; i++; } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"' && field === '') quoted = true;
    else if (ch === sep) { row.push(field); field = ''; }
    else if (ch === '\n') { row.push(field); rows.push(row); row = []; field = ''; }
    else field += ch;
  }
  if (quoted) throw new Error('A quoted cell is not closed.');
  row.push(field);
  rows.push(row);
  return rows;
}

/** Which parameter a header cell names: its config name or its title (case-insensitive). */
function headerToName(header, props) {
  const h = header.trim().toLowerCase();
  for (const [name, p] of Object.entries(props)) if (name.toLowerCase() === h || (p.title ?? '').toLowerCase() === h) return name;
  return null;
}

/** A block with the columns of an imported table (a header row naming parameters). Throws
 * one sentence, and changes nothing, when a column is not a parameter of the component. */
export function importTable(block, text, props) {
  const rows = parseDelimited(text).filter((r) => r.some((c) => c.trim() !== ''));
  if (rows.length < 2) throw new Error('The file needs a header row naming the parameters and at least one row of values.');
  const names = rows[0].map((h) => headerToName(h, props));
  const unknown = rows[0].filter((h, i) => !names[i]);
  if (unknown.length) {
    throw new Error(`${unknown.map((u) => `"${u}"`).join(', ')} ${unknown.length > 1 ? 'are not parameters' : 'is not a parameter'} of this block's component; nothing was imported.`);
  }
  let next = block;
  names.forEach((name, c) => { next = setColumn(next, name, rows.slice(1).map((r) => r[c] ?? ''), props[name]); });
  return next;
}

/** True when the rows hold every combination of the columns' values equally often (then
 * drawing each column on its own gives the same design as drawing rows). */
export function isFullCrossing(table) {
  const { columns, rows } = table;
  if (columns.length < 2) return true;
  const complete = rows.filter((r) => r.every((v) => v !== undefined));
  if (complete.length !== rows.length) return false;
  const distinct = columns.map((_, c) => new Set(complete.map((r) => JSON.stringify(r[c]))));
  const combos = new Map();
  for (const r of complete) { const k = JSON.stringify(r); combos.set(k, (combos.get(k) ?? 0) + 1); }
  const product = distinct.reduce((a, s) => a * s.size, 1);
  const counts = [...combos.values()];
  return combos.size === product && counts.every((n) => n === counts[0]);
}

/** The block as a randomized group of single trials, one per row, each row repeated so the
 * group has about as many trials as the block had. */
export function rowsAsTrials(block, config) {
  const { columns, rows } = tableFromBlock(block);
  const type = blockComponentType(block);
  const fixed = Object.fromEntries(Object.entries(block.parameter_values ?? {}).filter(([k]) => !columns.includes(k)));
  const reps = Math.max(1, Math.round(Number(block.length ?? block.block_length ?? rows.length) / Math.max(1, rows.length)));
  const items = [];
  for (let k = 0; k < reps; k++) {
    for (const r of rows) {
      const trial = { type, ...fixed };
      columns.forEach((c, i) => { if (r[i] !== undefined) trial[c] = r[i]; });
      items.push(trial);
    }
  }
  const group = { type: 'randomize-group', random_group_id: uniqueId(config, 'random_group_id', 'group_'), items };
  if (block.name) group.label = block.name;
  return group;
}

/** The table editor, placed in the block inspector. */
export function renderConditions(parent, { schema, get, put, onRowsAsTrials }) {
  const block = get();
  const ctype = blockComponentType(block);
  const def = (schema.$defs ?? {})[ctype] ?? { properties: {} };
  const props = Object.fromEntries(Object.entries(def.properties ?? {}).filter(([k]) => !['type', 'name', 'data', 'detection_response_task_enabled'].includes(k))
    .map(([k, p]) => [k, resolve(schema, p)]));
  const box = el('div', { class: 'conditions' });
  const details = el('details', { class: 'group', 'data-group': 'conditions' }, el('summary', {}, 'Conditions table'), box);
  parent.append(details);
  const table = tableFromBlock(block);
  details.open = table.columns.length > 0;
  const status = el('p', { class: 'desc', role: 'status' });
  const draw = () => {
    clear(box);
    const b = get();
    const t = tableFromBlock(b);
    box.append(el('p', { class: 'desc' }, 'One column per parameter drawn from a list; each trial draws a value from every column. Paste cells from a spreadsheet, or import a CSV/TSV file whose header row names the parameters.'));
    if (t.columns.length) {
      const grid = el('table', { class: 'cond-table' });
      const head = el('tr', {}, el('th', { scope: 'col', class: 'rownum' }, '#'));
      t.columns.forEach((c) => {
        const rm = el('button', { type: 'button', class: 'small link', 'aria-label': `Remove the column ${props[c]?.title ?? c}` }, '×');
        rm.addEventListener('click', () => put(removeColumn(get(), c), { rerender: true }));
        head.append(el('th', { scope: 'col', title: `Config key: ${c}` }, props[c]?.title ?? c, ' ', rm));
      });
      grid.append(el('thead', {}, head));
      const body = el('tbody');
      const rows = [...t.rows, t.columns.map(() => undefined)]; // a blank row to type into
      rows.forEach((r, ri) => {
        const tr = el('tr', {}, el('th', { scope: 'row', class: 'rownum' }, ri < t.rows.length ? String(ri + 1) : '+'));
        r.forEach((v, ci) => {
          const input = el('input', { type: 'text', 'data-cell': `${ri}:${ci}`, 'aria-label': `${props[t.columns[ci]]?.title ?? t.columns[ci]}, row ${ri + 1}` });
          input.value = cellText(v);
          input.addEventListener('change', () => {
            const cells = tableFromBlock(get(), t.columns).rows.map((row) => cellText(row[ci]));
            while (cells.length <= ri) cells.push('');
            cells[ri] = input.value;
            put(setColumn(get(), t.columns[ci], cells, props[t.columns[ci]]), { rerender: true, focus: `[data-cell="${ri + 1}:${ci}"]` });
          });
          input.addEventListener('paste', (e) => {
            const text = e.clipboardData?.getData('text/plain') ?? '';
            if (!/[\t\n]/.test(text.trim())) return; // one value: the browser pastes it
            e.preventDefault();
            let pasted;
            try { pasted = parseDelimited(text); } catch (err) { status.textContent = err.message; return; }
            let next = get();
            const current = tableFromBlock(next, t.columns);
            pasted[0].forEach((_, dc) => {
              const col = t.columns[ci + dc];
              if (!col) return;
              const cells = current.rows.map((row) => cellText(row[ci + dc]));
              pasted.forEach((prow, dr) => { while (cells.length <= ri + dr) cells.push(''); cells[ri + dr] = prow[dc] ?? ''; });
              next = setColumn(next, col, cells, props[col]);
            });
            const dropped = pasted[0].length - Math.max(0, Math.min(pasted[0].length, t.columns.length - ci));
            put(next, { rerender: true, message: dropped ? `Pasted; ${dropped} column(s) beyond the table were left out. Add columns first to paste them.` : `Pasted ${pasted.length} row(s).` });
          });
          tr.append(el('td', {}, input));
        });
        body.append(tr);
      });
      grid.append(body);
      box.append(el('div', { class: 'cond-wrap' }, grid));
      const length = Number(b.length ?? b.block_length);
      if (t.rows.length && Number.isFinite(length)) box.append(el('p', { class: 'desc' }, `${t.rows.length} row(s); the block runs ${length} trial(s).`));
      if (!isFullCrossing(t)) {
        const keep = el('button', { type: 'button', class: 'small' }, 'Run rows as written');
        keep.addEventListener('click', () => onRowsAsTrials());
        box.append(el('div', { class: 'note' },
          el('p', {}, 'These rows are not every combination of the columns, and a block draws each column on its own: values of one row will be mixed with values of other rows. To keep each row together, run the rows as written (a randomized group with one trial per row).'), keep));
      }
    }
    const add = el('select', { 'aria-label': 'Add a column for a parameter' });
    add.append(el('option', { value: '' }, 'Add a column…'));
    for (const [k, p] of Object.entries(props)) if (!t.columns.includes(k) && (p.type === undefined || ['string', 'number', 'integer', 'boolean'].some((x) => [].concat(p.type).includes(x)))) add.append(el('option', { value: k }, p.title ?? k));
    add.addEventListener('change', () => {
      if (!add.value) return;
      const cur = get();
      const existing = cur.parameter_values?.[add.value];
      const start = existing === undefined ? [] : Array.isArray(existing) ? existing : [existing];
      put({ ...cur, parameter_values: { ...(cur.parameter_values ?? {}), [add.value]: start } }, { rerender: true });
    });
    const file = el('input', { type: 'file', accept: '.csv,.tsv,.txt,text/csv,text/tab-separated-values', hidden: '', 'aria-label': 'CSV or TSV file to import' });
    const imp = el('button', { type: 'button', class: 'small' }, 'Import CSV/TSV…');
    imp.addEventListener('click', () => { file.value = ''; file.click(); });
    file.addEventListener('change', async () => {
      const f = file.files[0];
      if (!f) return;
      try {
        put(importTable(get(), await f.text(), props), { rerender: true, message: `Imported ${f.name} into the conditions table.` });
      } catch (err) {
        status.textContent = `Could not import ${f.name}: ${err.message}`;
        status.classList.add('error');
      }
    });
    box.append(el('div', { class: 'cond-actions' }, add, imp, file), status);
  };
  draw();
}
