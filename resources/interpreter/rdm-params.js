// Flatten the reference RDM parameter groups into one parameter object per trial, and bring the
// reference's aliases to one form (the RDM components read only these names).

export const RDM_GROUP_KEYS = ['display_parameters', 'display_settings', 'aperture_parameters', 'dot_parameters',
  'motion_parameters', 'timing_parameters', 'response_parameters'];

// Legacy names -> the names the RDM component reads.
const RENAME = {
  shape: 'aperture_shape', diameter: 'aperture_diameter', aperture_size: 'aperture_diameter',
  dot_count: 'total_dots', dot_speed: 'speed', coherent_direction: 'direction', dot_color_hex: 'dot_color',
  target_group: 'response_target_group', trial_duration: 'response_deadline',
};

// The reference engine's noise-type spellings.
const NOISE = {
  random_position: 'random_position', 'random-position': 'random_position', randompos: 'random_position',
  random_walk: 'random_walk', 'random-walk': 'random_walk', brownian: 'random_walk', correlated_noise: 'random_walk',
  random_direction: 'random_direction', 'random-direction': 'random_direction',
};

export function normalizeNoiseType(v) {
  const k = String(v ?? '').trim().toLowerCase();
  return NOISE[k] ?? 'random_direction';
}

// 'group_2', 2, '2' -> 2; anything else -> null (the reference then picks the more coherent group).
export function targetGroupNumber(v) {
  if (v === null || v === undefined || v === '') return null;
  const m = /^(?:group_?)?([12])$/i.exec(String(v).trim());
  return m ? Number(m[1]) : null;
}

function normalise(obj) {
  const out = {};
  for (const [k, v] of Object.entries(obj || {})) {
    if (v === undefined || v === null || v === 'inherit') continue;
    const name = k.includes('.') ? k.slice(k.lastIndexOf('.') + 1) : k; // 'motion.coherence'
    if (name === 'dot_radius') { out.dot_size = Number(v) * 2; continue; }
    // coherent_direction is the legacy name; an explicit direction wins over it.
    if (name === 'coherent_direction' && (obj.direction !== undefined || out.direction !== undefined)) continue;
    out[RENAME[name] ?? name] = v;
  }
  return out;
}

// The Builder's nested cue_border {enabled, mode, color, width, target_group} and the flat
// cue_border_mode/width/color are one thing: keep the flat form.
function flattenCueBorder(p) {
  const cb = p.cue_border;
  if (cb && typeof cb === 'object') {
    if (cb.enabled === true && p.cue_border_mode === undefined) {
      p.cue_border_mode = cb.mode === 'target-group-color' ? 'target-group-color' : 'custom';
      if (p.cue_border_width === undefined && (cb.width ?? cb.border_width) !== undefined) p.cue_border_width = cb.width ?? cb.border_width;
      if (p.cue_border_color === undefined && typeof cb.color === 'string') p.cue_border_color = cb.color;
    }
    if (p.response_target_group === undefined && cb.target_group !== undefined) p.response_target_group = cb.target_group;
    delete p.cue_border;
  }
  return p;
}

// Precedence: config groups < component/block values < dotted `parameters` < block overrides.
export function resolveRdmParams(config, itemParams, blockOverride) {
  let p = {};
  for (const g of RDM_GROUP_KEYS) p = { ...p, ...normalise(config[g]) };
  const { parameters, ...own } = itemParams || {};
  p = { ...p, ...normalise(own), ...normalise(parameters), ...normalise(blockOverride) };
  if (!p.choices && config.response_keys) p.choices = config.response_keys;
  flattenCueBorder(p);
  if (p.response_target_group !== undefined) {
    const g = targetGroupNumber(p.response_target_group);
    if (g === null) delete p.response_target_group;
    else p.response_target_group = g;
  }
  if (p.noise_type !== undefined) p.noise_type = normalizeNoiseType(p.noise_type);
  return p;
}
