// What the config asks to be recorded on each row, applied as a row is stored:
// - every value a block sampled for the trial, under the config's own field name (unless the
//   component recorded that name itself: it records what was actually shown);
// - the item's `data` object;
// - the data_collection switches: reaction-time off -> rt_ms null, accuracy and correctness
//   both off -> correct null (DRT rows keep theirs: the DRT is its own measure);
// - after a visual-angle calibration, its result on every later row (the reference's names).

const isObj = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

function switchValue(dc, ...names) {
  for (const n of names) {
    if (!(n in dc)) continue;
    const v = dc[n];
    return isObj(v) ? v.enabled !== false && v.enabled !== 'false' : v !== false && v !== 'false' && v !== 0;
  }
  return true; // not mentioned: recorded
}

export function dataSwitches(config) {
  const dc = isObj(config.data_collection) ? config.data_collection : {};
  return {
    reaction_time: switchValue(dc, 'reaction-time', 'reaction_time'),
    correctness: switchValue(dc, 'accuracy') || switchValue(dc, 'correctness'),
  };
}

// Compiler facts about where a trial came from that are worth a column.
const META_COLUMNS = ['auto_inserted_for_mw_probe', 'miniblock_break_index', 'miniblock_break_total', 'sequence_length'];

export function applyTrialRecording(row, spec, config) {
  for (const k of META_COLUMNS) if (spec.meta && spec.meta[k] !== undefined && !(k in row)) row[k] = spec.meta[k];
  const sampled = spec.meta && spec.meta.sampled;
  if (isObj(sampled)) for (const [k, v] of Object.entries(sampled)) if (!(k in row)) row[k] = v;
  if (spec.meta && isObj(spec.meta.data)) {
    for (const [k, v] of Object.entries(spec.meta.data)) if (!(k in row)) row[k] = v;
  }
  const sw = dataSwitches(config);
  if (!sw.reaction_time) row.rt_ms = null;
  if (!sw.correctness) row.correct = null;
  return row;
}

export function stampVisualAngle(row, state) {
  const va = state && state.visualAngle;
  if (!va || row.component_type === 'visual-angle-calibration') return row;
  row.visual_angle_px_per_cm = va.px_per_cm;
  row.visual_angle_viewing_distance_cm = va.viewing_distance_cm;
  row.visual_angle_px_per_deg = va.px_per_deg;
  return row;
}

// For components that size in degrees: px for `deg`, or null before any calibration.
export function degToPx(state, deg) {
  const va = state && state.visualAngle;
  return va && Number.isFinite(Number(deg)) ? Number(deg) * va.px_per_deg : null;
}
