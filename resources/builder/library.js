// The library: what can be added to the timeline, grouped the way a researcher thinks (this
// study's task, structure, screens, questions, set-up, secondary task, other tasks), filtered
// by the study's task type and experiment type, searchable, each entry with an icon. Click or
// Enter adds after the selection; entries can be dragged onto the timeline too.

import { el, clear } from './dom.js';
import { icon } from './icons.js';
import { catalogue, taskComponent } from './model.js';
import { GENERIC_GROUPS, TASK_FAMILIES, familyOf, taskAllowed, taskLabel } from './families.js';

const LIBRARY_ALIASES = new Set(['html-keyboard-response', 'nback-block']);
import { makeDraggableNew } from './timeline.js';

const norm = (s) => String(s ?? '').toLowerCase();

/** The library's sections for a study: [{id, title, entries}], empty sections left out.
 * Pure (no DOM), so the filtering rules are unit-tested. */
export function librarySections(schema, config, query = '', showAll = false) {
  const task = config.task_type;
  const exp = config.experiment_type ?? 'trial-based';
  const q = norm(query).trim();
  const match = (c) => !q || [c.title, c.description, c.type, c.family ? taskLabel(c.family) : ''].some((s) => norm(s).includes(q));
  // Aliases: "instructions" is the text screen under the reference Builder's name, and
  // nback-block the n-back sequence; one entry each (a search still finds both).
  const all = catalogue(schema).filter((c) => q || !LIBRARY_ALIASES.has(c.type));
  const sections = [];
  const add = (id, title, entries, extra = {}) => { if (entries.length) sections.push({ id, title, entries, ...extra }); };
  const taskEntries = all.filter((c) => c.family && c.family === task && match(c));
  // The usual way to run a task: a block of its trials, first in the task's section.
  const component = taskComponent(schema, task);
  const blockEntry = { type: 'block', component, title: `${taskLabel(task)} block`, description: `A block of ${taskLabel(task)} trials with values drawn per trial.`, icon: 'block' };
  if (task && familyOf(component) === task && match(blockEntry)) taskEntries.unshift(blockEntry);
  add('task', task ? `${taskLabel(task)} task` : 'Task', taskEntries);
  add('structure', 'Structure', all.filter((c) => c.structural && match(c)));
  for (const g of GENERIC_GROUPS) add(g.id, g.label, all.filter((c) => c.group === g.id && match(c)));
  // Other task families: when asked for, or when the search finds them; only families that the
  // study's experiment type offers (the reference Builder's rule).
  for (const f of TASK_FAMILIES) {
    if (f.task === task) continue;
    const entries = all.filter((c) => c.family === f.task && match(c));
    if (!entries.length || !(showAll || q)) continue;
    add(`family-${f.task}`, f.label, entries, { other: true, allowed: taskAllowed(f.task, exp) });
  }
  return sections;
}

export function renderLibrary(root, { schema, config, query, showAll, onAdd }) {
  clear(root);
  const sections = librarySections(schema, config, query, showAll);
  if (!sections.length) root.append(el('p', { class: 'empty' }, `Nothing in the library matches "${query}".`));
  for (const s of sections) {
    const ul = el('ul', { 'aria-label': s.title });
    for (const c of s.entries) {
      const b = el('button', { type: 'button', class: 'lib', 'data-type': c.type, title: c.description || c.title },
        icon(c.icon), el('span', { class: 'lib-title' }, c.title));
      b.setAttribute('aria-label', `Add ${c.title}`);
      if (s.other && !s.allowed) b.classList.add('off-mode');
      b.addEventListener('click', () => onAdd(c.type, c.component));
      makeDraggableNew(b, c.type);
      ul.append(el('li', {}, b));
    }
    const head = el('h3', {}, s.title);
    if (s.other && !s.allowed) head.append(el('span', { class: 'hint' }, ` · not offered for ${config.experiment_type} studies`));
    root.append(el('div', { class: 'lib-section', 'data-section': s.id }, head, ul));
  }
}
