// html-button-response: a stimulus and buttons; the response is the button index.

import { escapeHtml, num, respond, stage } from './common.js';

export async function run(el, p, ctx) {
  const labels = Array.isArray(p.choices) ? p.choices : String(p.choices ?? 'Continue').split(',').map((s) => s.trim());
  const tmpl = p.button_html || '<button class="cf-button">%choice%</button>';
  const buttons = labels.map((l, i) => `<span data-choice="${i}">${String(tmpl).replace(/%choice%/g, escapeHtml(l))}</span>`).join('');
  const rows = num(p.grid_rows, 0);
  const cols = num(p.grid_columns, rows > 0 ? Math.ceil(labels.length / rows) : labels.length);
  const grid = p.button_layout === 'grid' ? ` style="display:grid;grid-template-columns:repeat(${cols},auto);gap:16px;justify-content:center"` : '';
  let box;
  const r = await respond(ctx, {
    show: () => { box = stage(el, `<div><div class="cf-screen cf-html">${p.stimulus ?? ''}</div><div class="cf-buttons"${grid}>${buttons}</div>${p.prompt ? `<div class="cf-prompt">${p.prompt}</div>` : ''}</div>`); },
    hide: () => { const s = box.querySelector('.cf-screen'); if (s) s.classList.add('cf-hidden'); },
    pointer: {
      target: el,
      pick: (e) => { const c = e.target.closest && e.target.closest('[data-choice]'); return c ? Number(c.dataset.choice) : null; },
    },
    stimulusMs: num(p.stimulus_duration, 0),
    windowMs: p.trial_duration == null ? null : num(p.trial_duration, null),
    endOnResponse: p.response_ends_trial !== false || p.trial_duration == null,
  });
  const idx = r.response ? r.response.value : null;
  return {
    stimulus_onset_ms: r.onset, stimulus_offset_ms: r.offset, rt_ms: r.rt_ms, ended_reason: r.ended_reason,
    response: idx, button_label: idx === null ? null : String(labels[idx]),
  };
}
