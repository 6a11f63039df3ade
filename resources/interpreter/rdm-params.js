// Flatten the reference RDM parameter groups into one parameter object per trial.

const GROUP_KEYS = ['display_parameters', 'display_settings', 'aperture_parameters', 'dot_parameters',
  'motion_parameters', 'timing_parameters', 'response_parameters'];

// Legacy names -> the names the RDM component reads.
const RENAME = {
  shape: 'aperture_shape', diameter: 'aperture_diameter', aperture_size: 'aperture_diameter',
  dot_count: 'total_dots', dot_radius: 'dot_radius', dot_speed: 'speed',
  coherent_direction: 'direction', dot_color_hex: 'dot_color', target_group: 'response_target_group',
  trial_duration: 'response_deadline',
};

function normalise(obj) {
  const out = {};
  for (const [k, v] of Object.entries(obj || {})) {
    if (v === undefined || v === null || v === 'inherit') continue;
    const name = k.includes('.') ? k.slice(k.lastIndexOf('.') + 1) : k; // 'motion.coherence'
    if (name === 'dot_radius') { out.dot_size = Number(v) * 2; continue; }
    if (name === 'cue_border' && v && typeof v === 'object') { out.cue_border = v; continue; }
    out[RENAME[name] ?? name] = v;
  }
  return out;
}

// Precedence: config groups < component/block values < dotted `parameters` < block overrides.
export function resolveRdmParams(config, itemParams, blockOverride) {
  let p = {};
  for (const g of GROUP_KEYS) p = { ...p, ...normalise(config[g]) };
  const { parameters, ...own } = itemParams || {};
  p = { ...p, ...normalise(own), ...normalise(parameters), ...normalise(blockOverride) };
  if (!p.choices && config.response_keys) p.choices = config.response_keys;
  const dc = config.data_collection || {};
  p.data_collection = dc;
  return p;
}
