// miniblock-break: the pause a block's miniblock_structure inserts between its mini-blocks.
// Either the participant continues with one of break_escape_keys (default space), or, with
// force_wait_for_break, the break lasts break_duration_sec and no key ends it.

import { normalizeChoices } from '../keys.js';
import { escapeHtml, respond, stage } from './common.js';

export async function run(el, p, ctx) {
  const forced = p.force_wait === true;
  const keys = forced ? 'NO_KEYS' : normalizeChoices(p.keys, ['space']);
  const keyNames = Array.isArray(keys) ? keys.map((k) => (k === 'space' ? 'Space' : k.length === 1 ? k.toUpperCase() : k)).join(' or ') : '';
  const hint = forced ? 'The study continues by itself when the break is over.' : `Press ${escapeHtml(keyNames)} to continue.`;
  const r = await respond(ctx, {
    show: () => stage(el, `<div class="cf-screen" data-role="miniblock-break" style="text-align:center">
      <h2>Break ${Number(p.index) || 1} of ${Number(p.total) || 1}</h2>
      <div>${escapeHtml(p.message).replace(/\n/g, '<br>')}</div><div class="cf-prompt">${hint}</div></div>`),
    keys,
    windowMs: forced ? p.duration_ms : null,
    endOnResponse: !forced,
  });
  return {
    stimulus_onset_ms: r.onset, rt_ms: r.rt_ms, response: r.response ? r.response.key : null,
    ended_reason: forced ? 'duration' : 'response', correct: null,
    miniblock_break_index: p.index, miniblock_break_total: p.total, miniblock_forced_wait: forced,
    break_duration_ms: forced ? p.duration_ms : null,
  };
}
