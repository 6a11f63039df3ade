// One component's parameters: `*_settings` defaults, then the item's (or block's) own values.

import { RDM_TYPES, SETTINGS_KEY } from './catalogue.js';
import { normalizeChoices } from './keys.js';
import { resolveRdmParams } from './rdm-params.js';
import { withoutInherit } from './sampling.js';

export const KEYBOARD_SCREENS = new Set(['html-keyboard-response', 'instructions', 'image-keyboard-response']);
export const NBACK_TYPES = new Set(['nback-trial-sequence', 'nback-block']);
const ITI_FROM_DEFAULT = new Set(['pvt-trial', 'task-switching-trial', ...RDM_TYPES]);
// Item keys that describe the timeline item, not the trial (recorded through spec.meta).
export const ITEM_ONLY_KEYS = new Set(['type', 'items', 'name', 'label', 'data', 'id', 'description', 'notes']);

export function resolveParams(config, type, own, blockOverride) {
  let params;
  if (RDM_TYPES.has(type)) {
    params = resolveRdmParams(config, own, blockOverride);
    params.experiment_type = config.experiment_type ?? 'trial-based';
  } else {
    const settingsKey = SETTINGS_KEY[type];
    const base = settingsKey ? withoutInherit(config[settingsKey]) : {};
    params = { ...base, ...withoutInherit(own) };
  }
  for (const k of ITEM_ONLY_KEYS) delete params[k];
  if (ITI_FROM_DEFAULT.has(type) && params.iti_ms === undefined && Number.isFinite(Number(config.default_iti))) {
    params.iti_ms = Number(config.default_iti);
  }
  if (KEYBOARD_SCREENS.has(type)) params.choices = normalizeChoices(params.choices);
  return params;
}

// Planned length of a compiled trial in ms, for placing thought probes inside a block.
export function plannedMs(spec) {
  const p = spec.params || {};
  const n = (v) => (Number.isFinite(Number(v)) && Number(v) > 0 ? Number(v) : 0);
  const iti = n(p.iti_ms) + n(p.inter_trial_interval);
  switch (spec.component_type) {
    case 'rdm-trial': case 'rdm-practice': case 'rdm-dot-groups': case 'rdm-adaptive':
      return n(p.fixation_duration) + Math.max(n(p.stimulus_duration) || 1500, n(p.response_deadline)) + iti;
    case 'task-switching-trial':
      return n(p.cue_duration_ms) + n(p.cue_gap_ms) + (n(p.trial_duration_ms) || 2500) + iti;
    case 'sart-trial':
      return (n(p.trial_duration_ms) || n(p.stimulus_duration_ms) + n(p.mask_duration_ms) || 1150) + iti;
    case 'pvt-trial':
      return (n(p.foreperiod_ms) || 4000) + 500 + iti;
    case 'nback-trial-sequence':
      return Math.max(n(p.trial_duration_ms), n(p.stimulus_duration_ms) + n(p.isi_duration_ms)) || 1200;
    default:
      return (n(p.trial_duration_ms) || n(p.trial_duration) || n(p.stimulus_duration_ms) || 1000) + iti;
  }
}
