// What a Gabor trial shows and how it is scored, pure (node-testable): sides and angles,
// correct key, the phase plan (which parts of the scene each phase draws), the trial's own
// reward rule (tiered / proportional), and the adaptive / stored-threshold parameter choice.

import { normalizeKey } from '../keys.js';

const finite = (v) => v !== null && v !== undefined && v !== '' && Number.isFinite(Number(v));
const num = (v, d) => (finite(v) ? Number(v) : d);
const lower = (v) => String(v ?? '').trim().toLowerCase();
const flag = (v, d) => (v === undefined || v === null ? d : v === true || v === 'true' || v === 1);

export function design(p) {
  const task = lower(p.response_task) === 'detect_target' ? 'detect_target' : 'discriminate_tilt';
  const keys = {
    left: normalizeKey(p.left_key ?? 'f'), right: normalizeKey(p.right_key ?? 'j'),
    yes: normalizeKey(p.yes_key ?? 'f'), no: normalizeKey(p.no_key ?? 'j'),
  };
  const target = lower(p.target_location ?? 'left');
  const tilt = finite(p.target_tilt_deg) ? Number(p.target_tilt_deg) : null;
  const distractor = num(p.distractor_orientation_deg, 0);
  const present = typeof p.target_present === 'boolean' ? p.target_present : (target === 'left' || target === 'right') && tilt !== null;
  let correctKey = null;
  if (task === 'detect_target') correctKey = present ? keys.yes : keys.no;
  else if (tilt !== null && tilt !== 0) correctKey = tilt < 0 ? keys.left : keys.right;
  const leftValue = lower(p.left_value || 'neutral');
  const rightValue = lower(p.right_value || 'neutral');
  const cue = ['left', 'right', 'both'].includes(lower(p.spatial_cue)) ? lower(p.spatial_cue) : 'none';
  return {
    task, keys, target, tilt, distractor, present, correctKey, cue, leftValue, rightValue,
    responseKeys: task === 'detect_target' ? [keys.yes, keys.no] : [keys.left, keys.right],
    leftAngle: target === 'left' && present && tilt !== null ? tilt : distractor,
    rightAngle: target === 'right' && present && tilt !== null ? tilt : distractor,
    cueValid: typeof p.spatial_cue_valid === 'boolean' ? p.spatial_cue_valid : (cue === 'left' || cue === 'right' ? target === cue : null),
    valueContext: leftValue !== 'neutral' || rightValue !== 'neutral' || (typeof p.value_target_value === 'string' && p.value_target_value.trim() !== ''),
    targetValue: ['high', 'low', 'neutral'].includes(lower(p.value_target_value)) ? lower(p.value_target_value)
      : (target === 'left' ? leftValue : target === 'right' ? rightValue : 'neutral'),
  };
}

// The phases in order with their planned durations (ms) and what each draws. A value-cue trial
// (not QUEST, not learning) shows the cue diamond at fixation and value-coloured rings from
// stimulus onset, as the reference; any trial with a spatial cue shows the diamond too (the
// reference drew the cue only on value-cue trials).
export function phasePlan(p, d, cueDelayMs) {
  const quest = lower(p.adaptive?.mode ?? p.adaptive_mode) === 'quest';
  const rewardMain = !quest && p.gabor_learning_block !== true && d.valueContext;
  const diamond = rewardMain || d.cue !== 'none';
  const fix = (k, dflt) => flag(p[`show_fixation_in_${k}_phase`], dflt);
  const stimRings = rewardMain ? 'value' : 'neutral';
  const maskMs = Math.max(0, num(p.mask_duration_ms, 67));
  const maskOn = p.use_mask === true || p.mask_enabled === true || maskMs > 0;
  const fixMs = Math.max(0, num(p.fixation_ms, 1000));
  // adaptive_practice_prime_enabled: the first quarter of fixation (120-350 ms) shows the cross
  // alone, in the cue's fixation colour, before the placeholder rings (as the reference).
  const prime = p.adaptive_practice_prime_enabled === true && fixMs > 0 ? Math.min(350, Math.max(120, Math.round(fixMs * 0.25))) : 0;
  return {
    rewardMain, quest,
    before: [
      ...(prime ? [{ phase: 'fixation_prime', ms: Math.min(prime, fixMs), fixation: fix('fixation', true), diamond: null, rings: 'none', fixationColor: p.cue_fixation_color ?? 'rgb(114,114,114)' }] : []),
      { phase: 'fixation', ms: Math.max(0, fixMs - prime), fixation: fix('fixation', true), diamond: diamond ? 'fixation' : null, rings: 'neutral' },
      { phase: 'placeholders', ms: Math.max(0, num(p.placeholders_ms, 400)), fixation: fix('placeholders', true), diamond: diamond ? 'fixation' : null, rings: 'neutral' },
      { phase: 'cue', ms: Math.max(0, num(p.cue_ms, 300)), fixation: fix('cue', true), diamond: diamond ? 'cue' : null, rings: 'neutral' },
      { phase: 'cue_delay', ms: cueDelayMs, fixation: fix('cue_delay', true), diamond: diamond ? 'fixation' : null, rings: 'neutral' },
    ],
    stimulus: { phase: 'stimulus', ms: Math.max(0, num(p.stimulus_duration_ms, 67)), fixation: fix('stimulus', false), diamond: diamond ? 'fixation' : null, rings: stimRings, stimulus: true },
    mask: { phase: 'mask', ms: maskOn ? maskMs : 0, fixation: fix('mask', false), diamond: diamond ? 'fixation' : null, rings: stimRings, mask: true },
    response: { phase: 'response', ms: Math.max(0, num(p.response_window_ms, 1500)), fixation: fix('response', false), diamond: diamond ? 'fixation' : null, rings: stimRings },
  };
}

export function cueDelay(p, rng) {
  const a = Math.max(0, num(p.cue_delay_min_ms, 100));
  const b = Math.max(0, num(p.cue_delay_max_ms, 200));
  return rng.int(Math.round(Math.min(a, b)), Math.round(Math.max(a, b)));
}

// The trial's own reward feedback (`reward_feedback_enabled`): on a correct answer in a
// value-cue context with reward available, `tiered` gives points by RT tier, `proportional_linear`
// a base by target value plus an RT bonus falling linearly from bonus_rt_fast to bonus_rt_slow.
export function gaborReward(p, d, { correct, rt }) {
  const mode = lower(p.reward_scoring_mode) === 'proportional_linear' ? 'proportional_linear' : 'tiered';
  const fast = Math.max(0, num(p.reward_fast_rt_threshold_ms, 450));
  const medium = Math.max(fast, num(p.reward_medium_rt_threshold_ms, 800));
  const tier = rt === null ? null : rt <= fast ? 'fast' : rt <= medium ? 'medium' : 'slow';
  const out = { reward_scoring_mode: mode, reward_target_value: d.targetValue, reward_rt_tier: null, reward_points_awarded: null, reward_base_points: null, reward_bonus_points: null };
  if (!(flag(p.reward_feedback_enabled, false) && correct === true && rt !== null && d.valueContext && p.reward_available !== false)) return out;
  if (mode === 'tiered') {
    return { ...out, reward_rt_tier: tier, reward_points_awarded: num(p[`reward_points_${tier}`], { fast: 2, medium: 1, slow: 0 }[tier]) };
  }
  if (d.targetValue !== 'high' && d.targetValue !== 'low') return out;
  const bFast = Math.max(0, num(p.reward_bonus_rt_fast_ms, 350));
  const bSlow = Math.max(bFast + 1, num(p.reward_bonus_rt_slow_ms, 850));
  const ratio = Math.min(1, Math.max(0, (bSlow - rt) / Math.max(1, bSlow - bFast)));
  const base = num(p[`reward_base_points_${d.targetValue}`], d.targetValue === 'high' ? 50 : 5);
  const bonus = num(p[`reward_bonus_max_${d.targetValue}`], d.targetValue === 'high' ? 50 : 5) * ratio;
  return { ...out, reward_rt_tier: tier, reward_points_awarded: base + bonus, reward_base_points: base, reward_bonus_points: bonus };
}

export function pointsLabel(x) {
  const n = Number(x);
  if (!Number.isFinite(n)) return '0';
  return Number.isInteger(n) ? String(n) : String(Math.round(n * 100) / 100);
}

// A stored threshold (from an earlier QUEST block with store_location_threshold) for this
// trial's target side; tilt keeps a random sign.
export function storedThreshold(stored, side, rng) {
  if (!stored || !stored.parameter) return null;
  const pick = side === 'left' && finite(stored.left) ? ['left', stored.left]
    : side === 'right' && finite(stored.right) ? ['right', stored.right]
      : finite(stored.combined) ? ['combined', stored.combined]
        : finite(stored.left) ? ['left', stored.left] : finite(stored.right) ? ['right', stored.right] : null;
  if (!pick) return null;
  const value = stored.parameter === 'target_tilt_deg' ? (rng() < 0.5 ? -1 : 1) * Math.abs(Number(pick[1])) : Number(pick[1]);
  return { parameter: stored.parameter, source: pick[0], value };
}
