// The component types this Interpreter runs, and the structural timeline items.
// Kept free of browser APIs so the compiler and node tests can import it.

export const STRUCTURAL_TYPES = new Set(['block', 'loop', 'randomize-group', 'randomize-across-markers',
  'mouse-tracking', // a run-level data-collection setting (mouse-tracking.js), no trial of its own
]);

// Component type -> settings key whose values act as defaults (`*_settings`).
export const SETTINGS_KEY = {
  'flanker-trial': 'flanker_settings',
  'sart-trial': 'sart_settings',
  'stroop-trial': 'stroop_settings',
  'emotional-stroop-trial': 'emotional_stroop_settings',
  'simon-trial': 'simon_settings',
  'pvt-trial': 'pvt_settings',
  'task-switching-trial': 'task_switching_settings',
  'nback-trial-sequence': 'nback_settings',
  'nback-block': 'nback_settings',
  'gabor-trial': 'gabor_settings',
  'gabor-quest': 'gabor_settings',
  'mot-trial': 'mot_settings',
  'continuous-image-presentation': 'continuous_image_settings', // short names, mapped by cip-sequence.js
  'soc-dashboard': 'soc_dashboard_settings',
};

export const KNOWN_COMPONENTS = new Set([
  'html-keyboard-response', 'instructions', 'html-button-response', 'image-keyboard-response',
  'survey-response', 'mw-probe', 'visual-angle-calibration',
  'flanker-trial', 'sart-trial', 'stroop-trial', 'emotional-stroop-trial', 'simon-trial',
  'pvt-trial', 'task-switching-trial', 'nback-trial-sequence', 'nback-block',
  'rdm-trial', 'rdm-practice', 'rdm-dot-groups', 'rdm-adaptive',
  'mot-trial', 'continuous-image-presentation',
  'detection-response-task-start', 'detection-response-task-stop',
  'gabor-trial', 'gabor-quest', 'gabor-learning', 'reward-settings',
  // SOC dashboard: the session and the Builder's helper items composed into sessions.
  'soc-dashboard', 'soc-subtask-sart-like', 'soc-subtask-nback-like', 'soc-subtask-flanker-like',
  'soc-subtask-wcst-like', 'soc-subtask-pvt-like', 'soc-dashboard-icon',
]);

export const RDM_TYPES = new Set(['rdm-trial', 'rdm-practice', 'rdm-dot-groups', 'rdm-adaptive']);

// Types the compiler produces itself (never written in a config): continuous RDM segments,
// continuous n-back streams, mini-block breaks, and the marker for an unknown component.
export const COMPILED_TYPES = new Set(['rdm-continuous', 'nback-continuous', 'miniblock-break', 'unsupported',
  'eye-tracking-start', 'eye-tracking-calibration', 'eye-tracking-stop']);
