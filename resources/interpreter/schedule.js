// Passes over compiled trial specs: thought probes placed inside blocks, DRT paused around
// probes, continuous RDM frames joined into segments.

import { RDM_TYPES } from './catalogue.js';
import { plannedMs } from './params.js';

const num = (v) => (Number.isFinite(Number(v)) ? Number(v) : null);

// Consecutive specs of one block starting at `from`, walking by `step`.
function blockRun(specs, from, step) {
  const first = specs[from];
  if (!first || first.meta.block_index === undefined || first.component_type === 'mw-probe') return [];
  const idx = [];
  for (let k = from; k >= 0 && k < specs.length; k += step) {
    const s = specs[k];
    if (s.meta.block_index !== first.meta.block_index || s.component_type === 'mw-probe') break;
    idx.push(k);
  }
  return step < 0 ? idx.reverse() : idx;
}

// mw-probe with min/max_interval_ms: moved into the block next to it (the following one, else
// the preceding one), after the trial at which that much planned time has passed, as the
// reference does. Without a neighbouring block it stays where it was authored
// (recorded as mw_probe_placement "authored").
export function placeProbes(specs, rng) {
  const out = specs.slice();
  for (let i = 0; i < out.length; i++) {
    const probe = out[i];
    if (probe.component_type !== 'mw-probe' || probe.meta.mw_probe_placement) continue;
    const p = probe.params;
    const lo = Math.max(0, num(p.min_interval_ms) ?? 0);
    const hi = Math.max(0, num(p.max_interval_ms) ?? lo);
    let run = blockRun(out, i + 1, 1);
    if (!run.length) run = blockRun(out, i - 1, -1);
    if (!run.length) {
      probe.meta = { ...probe.meta, mw_probe_placement: 'authored' };
      continue;
    }
    const total = run.reduce((a, k) => a + plannedMs(out[k]), 0);
    const target = hi > 0 ? Math.round(rng.uniform(Math.min(lo, hi), Math.max(lo, hi)))
      : Math.round(rng.uniform(total * 0.25, total * 0.75));
    let acc = 0;
    let after = run[run.length - 1];
    for (const k of run) {
      acc += plannedMs(out[k]);
      if (acc >= target) { after = k; break; }
    }
    const anchor = out[after];
    const placed = {
      ...probe,
      meta: {
        ...probe.meta, mw_probe_placement: 'in_block', mw_probe_target_ms: target, mw_probe_block_index: anchor.meta.block_index,
        mw_probe_after_block_trial: anchor.meta.block_trial_index ?? null,
      },
    };
    out.splice(i, 1);
    const at = (after > i ? after - 1 : after) + 1;
    out.splice(at, 0, placed);
    if (at > i) i -= 1; // moved forward: the spec after it now sits at i
  }
  return out;
}

// A thought probe inside a DRT segment: the DRT stops before it and starts again after it with
// the same settings, so the probe is answered without the secondary task.
export function bracketDrtAroundProbes(specs) {
  const out = [];
  let active = null;
  for (const s of specs) {
    if (s.component_type === 'detection-response-task-start') active = s;
    if (s.component_type === 'detection-response-task-stop') active = null;
    if (s.component_type === 'mw-probe' && active) {
      out.push({ component_type: 'detection-response-task-stop', params: {}, meta: { ...s.meta, auto_inserted_for_mw_probe: true } });
      out.push({ ...s, params: { ...s.params, drt_running_at_probe_start: true } });
      out.push({ ...active, meta: { ...s.meta, auto_inserted_for_mw_probe: true } });
      continue;
    }
    out.push(s);
  }
  return out;
}

// Continuous RDM: consecutive RDM trials form one segment whose parameter frames follow each
// other without redrawing the page; any other item ends the segment (as in the reference).
export function groupContinuousRdm(specs, config, frameMs) {
  const out = [];
  const def = config.transition_settings && typeof config.transition_settings === 'object' ? config.transition_settings : {};
  for (const s of specs) {
    if (!RDM_TYPES.has(s.component_type)) { out.push(s); continue; }
    const transition = {
      duration_ms: Math.max(0, num(s.params.transition_duration) ?? num(def.duration_ms) ?? 0),
      type: String(s.params.transition_type ?? def.type ?? 'both'),
    };
    const frame = { ...s.params, source_type: s.component_type, transition, sampled: s.meta.sampled ?? {} };
    const last = out[out.length - 1];
    if (last && last.component_type === 'rdm-continuous') { last.params.frames.push(frame); continue; }
    const { sampled: _s, block_trial_index: _t, ...meta } = s.meta;
    out.push({ component_type: 'rdm-continuous', params: { frames: [frame], update_interval_ms: frameMs }, meta });
  }
  return out;
}
