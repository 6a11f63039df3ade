// A component this Interpreter cannot run: shown and recorded, never skipped silently.

import { escapeHtml, respond, stage } from './common.js';

export async function run(el, p, ctx) {
  const t = p.original_type ?? '(no type)';
  const r = await respond(ctx, {
    show: () => stage(el, `<div class="cf-unsupported" data-cogflow-unsupported="${escapeHtml(t)}">
      <h2>Unsupported component</h2>
      <p>This part of the study (<code>${escapeHtml(t)}</code>) cannot run in this version of CogFlow. It is recorded in the results.</p>
      <p>Press any key to continue.</p></div>`),
    keys: 'ALL_KEYS',
  });
  return { stimulus_onset_ms: r.onset, rt_ms: r.rt_ms, response: r.response ? r.response.key : null, ended_reason: 'response', original_type: p.original_type ?? null };
}
