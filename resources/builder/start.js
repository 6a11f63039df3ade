// "New": start from a blank study of a chosen task, from a template (one per task family), or
// from a fuller example. Every card says whether this version's Interpreter runs it, in the
// Interpreter's own words (its checker, ../interpreter/support.js).

import { el, clear } from './dom.js';
import { icon } from './icons.js';
import * as m from './model.js';
import { EXAMPLES, TEMPLATES } from './templates.js';
import { TASK_FAMILIES, iconFor, taskAllowed } from './families.js';
import { whatWillNotRun } from './problems.js';

const $ = (id) => document.getElementById(id);

function card({ title, description, iconName, refused, onPick }) {
  const b = el('button', { type: 'button', class: `card${refused.length ? ' refused' : ''}` },
    icon(iconName, { size: 28 }),
    el('span', { class: 'card-text' }, el('span', { class: 'card-title' }, title), el('span', { class: 'card-desc' }, description),
      refused.length ? el('span', { class: 'card-warn' }, `Will not run in this version: ${refused[0].message}`) : null));
  b.addEventListener('click', onPick);
  return el('li', {}, b);
}

export function openStartDialog({ schema, onChoose }) {
  const dialog = $('start-dialog');
  const body = $('start-body');
  clear(body);
  const pick = (config, name, message) => {
    dialog.close();
    const study = m.setStudyName(m.emptyStudy().study, name);
    onChoose({ study, config, message });
  };

  // Blank: the task and experiment type chosen here.
  const tasks = (schema.properties?.task_type?.enum ?? TASK_FAMILIES.map((f) => f.task));
  const taskSel = el('select', { id: 'start-task' });
  for (const t of tasks) taskSel.append(el('option', { value: t }, TASK_FAMILIES.find((f) => f.task === t)?.label ?? t));
  const expSel = el('select', { id: 'start-exp' }, el('option', { value: 'trial-based' }, 'Trial-based'), el('option', { value: 'continuous' }, 'Continuous'));
  const blank = el('button', { type: 'button', class: 'primary' }, 'Create blank study');
  const hint = el('p', { class: 'desc', role: 'status' });
  const check = () => {
    hint.textContent = taskAllowed(taskSel.value, expSel.value) ? '' : `The reference Builder does not offer this task for ${expSel.value} studies; its trials would run one after another.`;
  };
  taskSel.addEventListener('change', check);
  expSel.addEventListener('change', check);
  blank.addEventListener('click', () => pick(m.newConfig(taskSel.value, expSel.value), '', 'New blank study. Ctrl+Z brings back the previous one.'));
  body.append(el('section', { class: 'start-blank' }, el('h3', {}, 'Blank study'),
    el('div', { class: 'start-row' },
      el('label', { for: 'start-task' }, 'Task type'), taskSel,
      el('label', { for: 'start-exp' }, 'Experiment type'), expSel, blank), hint));

  const list = (title, entries, kind) => {
    const ul = el('ul', { class: 'cards', 'aria-label': title });
    for (const t of entries) {
      const config = t.build();
      ul.append(card({
        title: t.title, description: t.description, iconName: iconFor(`${config.task_type}-trial`) === 'text' ? iconFor(config.task_type) : iconFor(`${config.task_type}-trial`),
        refused: whatWillNotRun(config),
        onPick: () => pick(t.build(), kind === 'template' ? t.title : t.title, `New study from the ${kind} "${t.title}". Ctrl+Z brings back the previous one.`),
      }));
    }
    body.append(el('section', {}, el('h3', {}, title), ul));
  };
  list('Templates: instructions, practice and a main block', TEMPLATES, 'template');
  list('Examples', EXAMPLES, 'example');
  dialog.showModal();
  body.querySelector('.cards button')?.focus();
}
