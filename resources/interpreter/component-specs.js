// What each component reads, declared once. support.js refuses any field outside `fields`
// (a setting nobody reads would otherwise be dropped without a word), and the compiler keeps
// the `lists` fields whole when a block gives them (a Stroop palette is one value, not a
// per-trial choice). Pure data: no DOM, importable by the Builder and by node tests.
//
// A spec: {
//   fields:  parameters the component honours (on the item, in `*_settings`, or in a block),
//   lists:   fields whose value is itself a list (their schema type allows an array): a block
//            keeps them whole; only a list of such lists is a per-trial choice,
//   neutral: {field: [values]} fields the component does not use, accepted only with a value
//            that changes nothing (the reference Builder writes them with their defaults),
//   check(params): value-level refusals, [{field, reason}] (reason completes "… because …"),
//   noBlock: true when the component runs only as a timeline item, never from a block,
// }
// A component type in catalogue.js KNOWN_COMPONENTS without a spec here runs with no field
// checks and samples every list (how a new component starts; add a spec to be strict).

const COMMON = ['name', 'label', 'data', 'id', 'description', 'notes'];
const NEUTRAL = { detection_response_task_enabled: [false, 'false', 0, null] };
const KEY_SCREEN = ['stimulus', 'choices', 'prompt', 'stimulus_duration', 'trial_duration', 'response_ends_trial', 'text_align'];
const SURVEY = ['title', 'instructions', 'questions', 'submit_label', 'timeout_ms', 'allow_empty_on_timeout'];
const NBACK = ['n', 'length', 'seed', 'stimulus_mode', 'stimulus_pool', 'target_probability', 'render_mode',
  'stimulus_template_html', 'stimulus_duration_ms', 'isi_duration_ms', 'trial_duration_ms', 'response_paradigm',
  'response_device', 'go_key', 'match_key', 'nonmatch_key', 'show_buttons', 'show_feedback', 'feedback_duration_ms',
  'show_fixation_cross_between_trials'];
const STROOP = ['word', 'ink_color_name', 'ink_color_hex', 'stimuli', 'response_mode', 'response_device', 'choice_keys',
  'congruent_key', 'incongruent_key', 'congruency', 'stimulus_font_size_px', 'stimulus_duration_ms', 'trial_duration_ms', 'iti_ms'];
// After rdm-params.js has flattened the reference's parameter groups and legacy names.
const RDM = ['canvas_width', 'canvas_height', 'background_color', 'aperture_shape', 'shape', 'aperture_diameter',
  'aperture_size', 'diameter', 'center_x', 'center_y', 'show_aperture_outline', 'total_dots', 'dot_count', 'dot_size',
  'dot_radius', 'dot_color', 'dot_color_hex', 'lifetime_frames', 'coherence', 'direction', 'coherent_direction',
  'speed', 'dot_speed', 'speed_px_per_s', 'noise_type', 'fixation_duration', 'stimulus_duration', 'response_deadline',
  'trial_duration', 'inter_trial_interval', 'choices', 'key_mapping', 'response_device', 'mouse_response', 'feedback',
  'require_response', 'end_condition_on_response', 'end_trial_on_response', 'parameters', 'transition_duration', 'transition_type',
  'direction_transition_mode', 'direction_transition_every_n_trials', 'direction_transition_count',
  'cue_border', 'cue_border_mode', 'cue_border_width', 'cue_border_color', 'response_target_group', 'target_group',
  'experiment_type', 'data_collection'];
const RDM_GROUPS = ['enable_groups', 'group_1_percentage', 'group_2_percentage', 'group_1_coherence', 'group_2_coherence',
  'group_1_speed', 'group_2_speed', 'group_1_direction', 'group_2_direction', 'group_1_color', 'group_2_color'];
const RDM_NEUTRAL = {
  dynamic_target_group_switch_enabled: [false, 'false', 0, null],
  dependent_direction_of_movement_enabled: [false, 'false', 0, null],
};

// Gabor and rewards: every property of their $defs entries (gabor-blocks.js, rewards.js read them).
const GABOR = [
  'adaptive', 'adaptive_practice_prime_enabled', 'algorithm', 'background_color', 'contrast', 'cue_background_color',
  'cue_delay_max_ms', 'cue_delay_min_ms', 'cue_fixation_color', 'cue_indicator_color', 'cue_ms',
  'detection_response_task_enabled', 'display_gamma', 'distractor_orientation_deg', 'feedback_duration_ms',
  'feedback_text_correct', 'feedback_text_incorrect', 'feedback_text_no_response', 'fixation_line_width_deg',
  'fixation_line_width_px', 'fixation_ms', 'fixation_offset_x_px', 'fixation_offset_y_px', 'fixation_size_deg',
  'fixation_size_px', 'grating_waveform', 'high_value_color', 'initial_fixation_color', 'left_key', 'left_value',
  'left_value_options', 'low_value_color', 'luminance_mapping', 'mask_duration_ms', 'mask_enabled', 'mean_gray',
  'neutral_value_color', 'no_key', 'patch_border_color', 'patch_border_enabled', 'patch_border_opacity',
  'patch_border_width_px', 'patch_diameter_deg', 'patch_diameter_px', 'patch_eccentricity_deg', 'phase_deg',
  'placeholder_ring_color', 'placeholders_ms', 'px_per_deg', 'response_task', 'response_window_ms',
  'reward_availability_high', 'reward_availability_low', 'reward_availability_neutral',
  'reward_availability_probability', 'reward_available', 'reward_base_points_high', 'reward_base_points_low',
  'reward_bonus_max_high', 'reward_bonus_max_low', 'reward_bonus_rt_fast_ms', 'reward_bonus_rt_slow_ms',
  'reward_fast_rt_threshold_ms', 'reward_feedback_enabled', 'reward_feedback_text_template',
  'reward_medium_rt_threshold_ms', 'reward_points_fast', 'reward_points_medium', 'reward_points_slow',
  'reward_scoring_mode', 'right_key', 'right_value', 'right_value_options', 'show_feedback',
  'show_fixation_in_cue_delay_phase', 'show_fixation_in_cue_phase', 'show_fixation_in_fixation_phase',
  'show_fixation_in_mask_phase', 'show_fixation_in_placeholders_phase', 'show_fixation_in_response_phase',
  'show_fixation_in_stimulus_phase', 'spatial_cue', 'spatial_cue_enabled', 'spatial_cue_options',
  'spatial_cue_probability', 'spatial_cue_target_mode', 'spatial_cue_valid', 'spatial_cue_validity',
  'spatial_cue_validity_probability', 'spatial_frequency', 'spatial_frequency_cyc_per_deg',
  'spatial_frequency_cyc_per_patch', 'spatial_frequency_cyc_per_px', 'spatial_frequency_unit',
  'stimulus_duration_ms', 'target_left_probability', 'target_location', 'target_present', 'target_tilt_deg',
  'too_slow_feedback_enabled', 'use_mask', 'use_stored_thresholds', 'value_cue_enabled', 'value_cue_probability',
  'value_non_target_value', 'value_target_value', 'yes_key',
];
const GABOR_LISTS = ['left_value_options', 'right_value_options', 'spatial_cue_options'];
// The reference Builder writes continuous-RDM transition defaults on every block; with no
// duration they change nothing.
const GABOR_NEUTRAL = { transition_duration: [0, '0', null], transition_type: null };
const GABOR_LEARNING = [
  'learning_accuracy_start_trial', 'learning_max_trials', 'learning_streak_length', 'learning_target_accuracy',
];
const REWARDS = [
  'calculate_on_the_fly', 'continue_key', 'currency', 'currency_label', 'detection_response_task_enabled',
  'extra_screens', 'gabor_reward_base_points_high', 'gabor_reward_base_points_low', 'gabor_reward_bonus_max_high',
  'gabor_reward_bonus_max_low', 'gabor_reward_bonus_rt_fast_ms', 'gabor_reward_bonus_rt_slow_ms',
  'gabor_reward_fast_rt_threshold_ms', 'gabor_reward_feedback_enabled', 'gabor_reward_feedback_text_template',
  'gabor_reward_medium_rt_threshold_ms', 'gabor_reward_points_fast', 'gabor_reward_points_medium',
  'gabor_reward_points_slow', 'gabor_reward_scoring_mode', 'instructions_screen', 'instructions_template_html',
  'instructions_title', 'intermediate_screens', 'milestones', 'points_per_success', 'require_correct_for_rt',
  'rt_threshold_ms', 'scoring_basis', 'show_summary_at_end', 'store_key', 'summary_screen', 'summary_template_html',
  'summary_title',
];

// MOT (components/mot-motion.js reads these) and continuous images (cip-sequence.js; the short
// names are continuous_image_settings' spelling of the cip_ ones).
const MOT = ['num_objects', 'num_targets', 'object_radius_px', 'dot_size_px', 'object_color', 'target_cue_color',
  'background_color', 'arena_width_px', 'arena_height_px', 'aperture_shape', 'aperture_border_enabled',
  'aperture_border_color', 'aperture_border_width_px', 'boundary_behavior', 'min_separation_px', 'speed_px_per_s',
  'speed_variability', 'motion_type', 'curve_strength', 'direction_jitter_deg_per_frame', 'cue_duration_ms',
  'cue_flash_rate_hz', 'tracking_duration_ms', 'iti_ms', 'probe_mode', 'yes_key', 'no_key', 'recognition_probe_count',
  'probe_timeout_ms', 'show_feedback', 'feedback_show_count_message', 'feedback_duration_ms', 'fixation_cross_enabled',
  'fixation_cross_min_onset_ms', 'fixation_cross_max_onset_ms', 'fixation_cross_duration_ms', 'fixation_cross_symbol',
  'fixation_cross_color', 'fixation_cross_size_px', 'record_object_positions'];
const CIP_LISTS = ['cip_image_urls', 'cip_asset_filenames', 'cip_mask_to_image_sprite_urls', 'cip_image_to_mask_sprite_urls',
  'cip_choice_keys'];
const CIP = [...CIP_LISTS, 'cip_asset_code', 'cip_images_per_block', 'cip_repeat_mode', 'cip_image_duration_ms',
  'cip_transition_duration_ms', 'cip_transition_frames', 'cip_mask_type', 'cip_mask_noise_amp', 'cip_mask_block_size',
  'cip_response_paradigm', 'cip_category_count', 'cip_show_category_buttons',
  ...[1, 2, 3, 4, 5, 6, 7].flatMap((i) => [`cip_category_${i}_label`, `cip_category_${i}_key`]),
  'nback_n', 'nback_response_paradigm', 'nback_response_device', 'nback_go_key', 'nback_match_key', 'nback_nonmatch_key',
  'nback_show_buttons', 'nback_show_feedback', 'nback_feedback_duration_ms',
  'mask_type', 'image_duration_ms', 'transition_duration_ms', 'transition_frames', 'choice_keys'];
// A value outside the options would silently run as the default.
function optionCheck(options) {
  return (p) => Object.entries(options).flatMap(([field, allowed]) => {
    const v = p[field];
    if (v === undefined || v === null || v === '' || allowed.includes(String(v).trim().toLowerCase())) return [];
    return [{ field, reason: `this version knows only ${allowed.map((a) => `"${a}"`).join(', ')}` }];
  });
}
const motCheck = optionCheck({
  probe_mode: ['click', 'number_entry', 'yes_no_recognition'], aperture_shape: ['rectangle', 'circle'],
  boundary_behavior: ['bounce', 'wrap'], motion_type: ['linear', 'curved'],
});
const cipCheck = optionCheck({
  cip_response_paradigm: ['categorization', 'nback'], cip_repeat_mode: ['no_repeats', 'repeat_to_fill'],
  nback_response_paradigm: ['go_nogo', '2afc'], nback_response_device: ['inherit', 'keyboard', 'mouse'],
});
// SOC dashboard: the properties of their $defs entries (components/soc-*.js read them).
const SOC = {
  'soc-dashboard': [
    'background_color', 'default_app', 'desktop_icons', 'end_key', 'icon_clicks_are_distractors', 'icons_clickable',
    'log_icon_clicks', 'num_tasks', 'subtasks', 'title', 'trial_duration_ms', 'wallpaper_url',
  ],
  'soc-subtask-sart-like': [
    'distractor_highlight_color', 'distractor_probability', 'distractor_subdomains', 'duration_ms', 'end_at_ms',
    'go_button', 'go_condition', 'go_key', 'highlight_subdomains', 'include_neutral_entries', 'instructions',
    'instructions_title', 'max_run_ms', 'min_run_ms', 'neutral_subdomains', 'response_device', 'scroll_interval_ms',
    'show_markers', 'start_at_ms', 'start_delay_ms', 'subtask_duration_entries', 'target_highlight_color',
    'target_probability', 'target_subdomains', 'title', 'visible_entries',
  ],
  'soc-subtask-nback-like': [
    'duration_ms', 'end_at_ms', 'go_key', 'instructions', 'instructions_title', 'match_field', 'match_key',
    'max_run_ms', 'min_run_ms', 'n', 'nonmatch_key', 'response_paradigm', 'show_feedback', 'start_at_ms',
    'start_delay_ms', 'stimulus_interval_ms', 'target_probability', 'title',
  ],
  'soc-subtask-flanker-like': [
    'allow_key', 'center_high_probability', 'center_low_probability', 'center_medium_probability',
    'congruent_probability', 'duration_ms', 'end_at_ms', 'instructions', 'instructions_title', 'jerkiness',
    'max_run_ms', 'min_run_ms', 'num_trials', 'point_spacing_px', 'question_flash_ms', 'reject_key', 'reject_rule',
    'response_window_ms', 'scroll_speed_px_per_s', 'show_feedback', 'start_at_ms', 'start_delay_ms', 'title',
    'trial_interval_ms',
  ],
  'soc-subtask-wcst-like': [
    'choice_keys', 'duration_ms', 'end_at_ms', 'feedback_ms', 'instructions', 'instructions_title', 'iti_ms',
    'max_run_ms', 'min_run_ms', 'mouse_response_mode', 'num_trials', 'response_device', 'response_window_ms',
    'rule_change_correct_streak', 'rules', 'sender_domains', 'show_feedback', 'start_at_ms', 'start_delay_ms',
    'title',
  ],
  'soc-subtask-pvt-like': [
    'alert_max_interval_ms', 'alert_min_interval_ms', 'countdown_seconds', 'duration_ms', 'end_at_ms',
    'flash_duration_ms', 'instructions', 'instructions_title', 'log_scroll_interval_ms', 'max_run_ms', 'min_run_ms',
    'response_device', 'response_key', 'response_window_ms', 'show_countdown', 'show_red_flash', 'start_at_ms',
    'start_delay_ms', 'title', 'visible_entries',
  ],
  'soc-dashboard-icon': [
    'app', 'col', 'distractor', 'icon_text', 'row',
  ],
};

const is = (v, ...xs) => xs.includes(typeof v === 'string' ? v.trim().toLowerCase() : v);

function rdmCheck(p) {
  const out = [];
  const dev = String(p.response_device ?? 'keyboard').toLowerCase();
  if (!['keyboard', 'mouse', 'touch', 'inherit', ''].includes(dev)) {
    out.push({ field: 'response_device', reason: `"${p.response_device}" responses are not recorded by this version (keyboard, mouse and touch are)` });
  }
  const fb = p.feedback;
  if (fb && typeof fb === 'object' && fb.enabled === true && fb.type && !is(fb.type, 'text', 'corner-text', 'arrow', 'custom')) {
    out.push({ field: 'feedback', reason: `feedback type "${fb.type}" is not shown by this version` });
  }
  return out;
}

export const COMPONENT_SPECS = {
  'html-keyboard-response': { fields: KEY_SCREEN, lists: ['choices'] },
  instructions: { fields: KEY_SCREEN, lists: ['choices'] },
  'html-button-response': {
    fields: ['stimulus', 'choices', 'button_html', 'button_layout', 'grid_rows', 'grid_columns', 'prompt', 'stimulus_duration',
      'trial_duration', 'response_ends_trial'],
    lists: ['choices'],
  },
  'image-keyboard-response': {
    fields: [...KEY_SCREEN, 'stimulus_image', 'stimulus_images', 'stimulus_width', 'stimulus_height', 'maintain_aspect_ratio'],
    lists: ['choices', 'stimulus_images'],
  },
  'survey-response': { fields: SURVEY, lists: ['questions'] },
  'mw-probe': {
    fields: [...SURVEY, 'min_interval_ms', 'max_interval_ms', 'global_interval_min_ms', 'global_interval_max_ms',
      'probe_count_per_block', 'global_probe_count_per_block'],
    lists: ['questions'],
  },
  'visual-angle-calibration': {
    fields: ['title', 'instructions', 'object_preset', 'object_length_cm', 'distance_mode', 'manual_distance_cm',
      'manual_distance_default_cm', 'close_label', 'close_distance_cm', 'normal_label', 'normal_distance_cm', 'far_label',
      'far_distance_cm', 'close_image_url', 'normal_image_url', 'far_image_url', 'store_key'],
    lists: [],
    neutral: { webcam_enabled: [false, 'false', 0, null], webcam_facing_mode: ['user', null, ''] },
  },
  'flanker-trial': {
    fields: ['stimulus_type', 'target_direction', 'congruency', 'target_stimulus', 'distractor_stimulus', 'neutral_stimulus',
      'left_key', 'right_key', 'stimulus_duration_ms', 'trial_duration_ms', 'iti_ms', 'show_fixation_dot',
      'show_fixation_cross_between_trials'],
    lists: [],
  },
  'sart-trial': {
    fields: ['digit', 'nogo_digit', 'nogo_probability', 'go_key', 'stimulus_duration_ms', 'mask_duration_ms',
      'trial_duration_ms', 'iti_ms'],
    lists: [],
    neutral: {
      show_feedback: [false, null], show_fixation_dot: [false, null], show_fixation_cross_between_trials: [false, null],
      feedback_duration_ms: null, feedback_text_correct: null, feedback_text_incorrect: null,
      feedback_color_correct: null, feedback_color_incorrect: null,
    },
  },
  'stroop-trial': { fields: STROOP, lists: ['stimuli', 'choice_keys'] },
  'emotional-stroop-trial': {
    fields: [...STROOP, 'word_lists', 'word_list_label', 'word_list_index', 'word_options', 'word_list_count'],
    lists: ['stimuli', 'choice_keys', 'word_lists', 'word_options'],
    check: (p) => (p.response_mode && !is(p.response_mode, 'color_naming', 'inherit')
      ? [{ field: 'response_mode', reason: 'emotional Stroop is always answered by naming the ink colour' }] : []),
  },
  'simon-trial': {
    fields: ['stimuli', 'stimulus_side', 'stimulus_color_name', 'stimulus_color_hex', 'correct_response_side', 'response_device',
      'left_key', 'right_key', 'circle_diameter_px', 'stimulus_duration_ms', 'trial_duration_ms', 'iti_ms'],
    lists: ['stimuli'],
  },
  'pvt-trial': {
    fields: ['response_device', 'response_key', 'foreperiod_ms', 'trial_duration_ms', 'iti_ms', 'feedback_enabled',
      'feedback_message', 'add_trial_per_false_start'],
    lists: [],
  },
  'task-switching-trial': {
    fields: ['task_index', 'stimulus', 'stimulus_task_1', 'stimulus_task_2', 'trial_type', 'single_task_index',
      'stimulus_set_mode', 'tasks', 'cue_type', 'cue_text', 'cue_font_size_px', 'cue_duration_ms', 'cue_gap_ms',
      'cue_color_hex', 'task_1_cue_text', 'task_2_cue_text', 'task_1_position', 'task_2_position', 'task_1_color_hex',
      'task_2_color_hex', 'stimulus_color_hex', 'stimulus_position', 'border_enabled', 'left_key', 'right_key',
      'stimulus_duration_ms', 'trial_duration_ms', 'iti_ms'],
    lists: ['tasks'],
  },
  'nback-trial-sequence': {
    fields: NBACK,
    lists: ['stimulus_pool'],
    check: (p) => (is(p.response_device, 'mouse') ? [{ field: 'response_device', reason: 'n-back is answered with the keyboard in this version' }] : []),
  },
  'rdm-trial': { fields: RDM, lists: ['choices'], neutral: RDM_NEUTRAL, check: rdmCheck },
  'rdm-practice': { fields: RDM, lists: ['choices'], neutral: RDM_NEUTRAL, check: rdmCheck },
  'rdm-dot-groups': { fields: [...RDM, ...RDM_GROUPS], lists: ['choices'], neutral: RDM_NEUTRAL, check: rdmCheck },
  'rdm-adaptive': {
    fields: [...RDM, 'algorithm', 'initial_coherence', 'step_size', 'target_performance', 'min_coherence', 'max_coherence',
      'beta', 'delta', 'gamma', 'start_sd', 'psychometric'],
    lists: ['choices'],
    neutral: RDM_NEUTRAL,
    check: (p) => {
      const out = rdmCheck(p);
      const algo = p.algorithm === undefined || p.algorithm === null || p.algorithm === '' ? 'quest' : String(p.algorithm).toLowerCase();
      if (!['quest', 'staircase', 'simple'].includes(algo)) {
        out.push({ field: 'algorithm', reason: `the adaptive algorithm "${p.algorithm}" is not known` });
      }
      return out;
    },
  },
  'detection-response-task-start': {
    fields: ['segment_label', 'response_key', 'min_iti_ms', 'max_iti_ms', 'stimulus_duration_ms', 'min_rt_ms', 'max_rt_ms',
      'drt_display_mode', 'stimulus_type', 'stimulus_color', 'location', 'size_px', 'override_iso_standard'],
    lists: [],
    neutral: { size_percent_of_screen: [null, ''] },
  },
  'detection-response-task-stop': { fields: [], lists: [] },
  'gabor-trial': { fields: GABOR, lists: GABOR_LISTS, neutral: GABOR_NEUTRAL },
  'gabor-quest': { fields: GABOR, lists: GABOR_LISTS, neutral: GABOR_NEUTRAL },
  'gabor-learning': { fields: [...GABOR, ...GABOR_LEARNING], lists: GABOR_LISTS, neutral: GABOR_NEUTRAL },
  'reward-settings': { fields: REWARDS, lists: ['intermediate_screens', 'extra_screens', 'milestones'] },
  'mot-trial': { fields: MOT, lists: [], check: motCheck },
  'continuous-image-presentation': { fields: CIP, lists: CIP_LISTS, check: cipCheck },
};
const SOC_LISTS = {
  'soc-dashboard': ['subtasks', 'desktop_icons'],
  'soc-subtask-sart-like': ['target_subdomains', 'distractor_subdomains', 'neutral_subdomains'],
  'soc-subtask-wcst-like': ['choice_keys', 'rules', 'sender_domains'],
};
for (const [type, fields] of Object.entries(SOC)) {
  // A SOC session is one timeline item (or helper items composed into one), never a block.
  COMPONENT_SPECS[type] = { fields, lists: SOC_LISTS[type] ?? [], noBlock: true };
}
COMPONENT_SPECS['nback-block'] = COMPONENT_SPECS['nback-trial-sequence'];

// Block keys that describe the block itself (everything else on a block is a trial value,
// as in the reference compiler).
export const BLOCK_KEYS = new Set(['type', 'component_type', 'block_component_type', 'length', 'block_length',
  'sampling_mode', 'seed', 'parameter_values', 'parameter_windows', 'response_parameters_override', 'miniblock_structure',
  'block_sizing_mode', 'sizing_mode', 'block_duration_seconds', 'duration_seconds', 'name', 'label', 'data', 'id',
  'description', 'notes', 'add_trial_per_false_start']);

// The Builder writes n-back block settings as nback_<field>.
export const FIELD_PREFIX = { 'nback-block': 'nback_', 'nback-trial-sequence': 'nback_' };

export function specFor(type) {
  return COMPONENT_SPECS[type] ?? null;
}

export function commonFields() {
  return COMMON;
}

export function neutralFor(type) {
  const spec = specFor(type);
  return { ...NEUTRAL, ...(spec && spec.neutral) };
}

// A neutral field with this value changes nothing (null in the table = any value, because the
// field only matters when another, refused, switch is on).
export function isNeutral(type, field, value) {
  const table = neutralFor(type);
  if (!(field in table)) return false;
  const allowed = table[field];
  if (allowed === null) return true;
  return value === undefined || allowed.includes(value);
}

export function listFields(type) {
  const spec = specFor(type);
  return new Set(spec ? spec.lists : []);
}
