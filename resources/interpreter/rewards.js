// Rewards: the policy of a `reward-settings` item (with the top-level `reward_settings` as master
// switch and overrides), per-trial scoring, milestones and the screens' template variables.
// Pure: the compiler uses it to place the reward screens, the components to score rows.

const finite = (v) => v !== null && v !== undefined && v !== '' && Number.isFinite(Number(v));
const isObj = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

// Task trials that are scored once a reward policy is active (the reference Interpreter's list).
export const REWARD_SCORED_TYPES = new Set([
  'flanker-trial', 'sart-trial', 'stroop-trial', 'emotional-stroop-trial', 'simon-trial', 'pvt-trial',
  'task-switching-trial', 'nback-trial-sequence', 'nback-block', 'rdm-trial', 'rdm-practice',
  'rdm-dot-groups', 'rdm-adaptive', 'gabor-trial', 'gabor-quest', 'mot-trial',
  'continuous-image-presentation',
]);

export const DEFAULT_INSTRUCTIONS_HTML = '<p>You can earn <b>{{currency_label}}</b> during this study.</p>\n<ul>\n<li><b>Basis</b>: {{scoring_basis_label}}</li>\n<li><b>RT threshold</b>: {{rt_threshold_ms}} ms</li>\n<li><b>Points per success</b>: {{points_per_success}}</li>\n</ul>\n<p>Press {{continue_key_label}} to begin.</p>';
export const DEFAULT_SUMMARY_HTML = '<p><b>Total earned</b>: {{total_points}} {{currency_label}}</p>\n<p><b>Rewarded trials</b>: {{rewarded_trials}} / {{eligible_trials}}</p>\n<p>Press {{continue_key_label}} to finish.</p>';

// `reward-settings` keys `gabor_reward_*` become defaults of the Gabor trials that follow.
const GABOR_REWARD_KEYS = [
  'feedback_enabled', 'scoring_mode', 'fast_rt_threshold_ms', 'medium_rt_threshold_ms', 'points_fast',
  'points_medium', 'points_slow', 'bonus_rt_fast_ms', 'bonus_rt_slow_ms', 'base_points_high',
  'base_points_low', 'bonus_max_high', 'bonus_max_low', 'feedback_text_template',
];

// The top-level `reward_settings.enabled` is a master switch: true puts one reward-settings item
// (the first one, with the other top-level keys as overrides) at the start of the timeline;
// false removes every reward-settings item; absent leaves the timeline as authored.
export function applyRewardSwitch(config) {
  const rs = isObj(config.reward_settings) ? config.reward_settings : null;
  if (!rs || typeof rs.enabled !== 'boolean' || !Array.isArray(config.timeline)) return config;
  const isRs = (it) => isObj(it) && it.type === 'reward-settings';
  const rest = config.timeline.filter((it) => !isRs(it));
  if (!rs.enabled) return { ...config, timeline: rest };
  const { enabled: _e, ...overrides } = rs;
  const first = config.timeline.find(isRs) ?? { type: 'reward-settings' };
  return { ...config, timeline: [{ ...first, ...overrides, type: 'reward-settings' }, ...rest] };
}

function screen(raw, title, html) {
  const s = isObj(raw) ? raw : {};
  return {
    title: String(s.title ?? title ?? ''),
    template_html: String(s.template_html ?? s.html ?? html ?? ''),
    image_url: String(s.image_url ?? ''),
    audio_url: String(s.audio_url ?? ''),
  };
}

function basis(b) {
  const s = String(b ?? 'both').trim().toLowerCase();
  if (s === 'rt' || s === 'reaction-time' || s === 'reaction_time') return 'reaction_time';
  return s === 'accuracy' ? 'accuracy' : 'both';
}

export function normalizePolicy(item = {}) {
  const instructions = screen(item.instructions_screen, item.instructions_title ?? 'Rewards', item.instructions_template_html);
  if (!instructions.template_html) instructions.template_html = DEFAULT_INSTRUCTIONS_HTML;
  const summary = screen(item.summary_screen, item.summary_title ?? 'Rewards Summary', item.summary_template_html);
  if (!summary.template_html) summary.template_html = DEFAULT_SUMMARY_HTML;
  const extra = Array.isArray(item.intermediate_screens) ? item.intermediate_screens : (Array.isArray(item.extra_screens) ? item.extra_screens : []);
  const milestones = (Array.isArray(item.milestones) ? item.milestones : []).filter(isObj).map((m, i) => ({
    id: String(m.id ?? `m${i + 1}`),
    trigger_type: String(m.trigger_type ?? m.trigger ?? 'trial_count'),
    threshold: Number(m.threshold ?? m.value ?? 0),
    screen: screen(isObj(m.screen) ? m.screen : m, 'Rewards', ''),
  }));
  const gabor = {};
  for (const k of GABOR_REWARD_KEYS) if (item[`gabor_reward_${k}`] !== undefined) gabor[`reward_${k}`] = item[`gabor_reward_${k}`];
  return {
    currency_label: String(item.currency_label ?? item.currency ?? 'points'),
    scoring_basis: basis(item.scoring_basis),
    rt_threshold_ms: finite(item.rt_threshold_ms) ? Number(item.rt_threshold_ms) : 600,
    points_per_success: finite(item.points_per_success) ? Number(item.points_per_success) : 1,
    require_correct_for_rt: item.require_correct_for_rt === true,
    calculate_on_the_fly: item.calculate_on_the_fly !== false,
    show_summary_at_end: item.show_summary_at_end !== false,
    continue_key: String(item.continue_key ?? 'space'),
    instructions_screen: instructions,
    intermediate_screens: extra.map((s) => screen(s, 'Rewards', '')),
    milestones,
    summary_screen: summary,
    gabor_defaults: gabor,
  };
}

export function newRewardState() {
  return { total_points: 0, rewarded_trials: 0, eligible_trials: 0, success_streak: 0, events: [], milestones_shown: {} };
}

// Whether a trial earns the reward: `reward_available: false` (Gabor cue learning) never does.
export function isSuccess(event, policy) {
  if (event.reward_available === false) return false;
  const rt = event.rt_ms;
  const rtOk = rt !== null && rt !== undefined && Number(rt) <= policy.rt_threshold_ms;
  const known = event.correct === true || event.correct === false;
  if (policy.scoring_basis === 'accuracy') return event.correct === true;
  if (policy.scoring_basis === 'reaction_time') return rtOk && (!policy.require_correct_for_rt || !known || event.correct === true);
  return event.correct === true && rtOk;
}

// Score one row into `state`; returns the row's reward fields and the milestones it reached.
export function scoreTrial(policy, state, row) {
  const event = { rt_ms: row.rt_ms ?? null, correct: row.correct ?? null, reward_available: row.reward_available };
  const success = isSuccess(event, policy);
  const points = success ? policy.points_per_success : 0;
  state.events.push({ ...event, points });
  state.eligible_trials = state.events.length;
  state.total_points += points;
  if (points > 0) state.rewarded_trials += 1;
  state.success_streak = success ? state.success_streak + 1 : 0;
  const reached = [];
  for (const m of policy.milestones) {
    if (state.milestones_shown[m.id] || !(m.threshold > 0)) continue;
    const value = m.trigger_type === 'total_points' ? state.total_points
      : m.trigger_type === 'success_streak' ? state.success_streak
        : m.trigger_type === 'trial_count' ? state.eligible_trials : null;
    if (value !== null && value >= m.threshold) {
      state.milestones_shown[m.id] = true;
      reached.push(m);
    }
  }
  const fields = policy.calculate_on_the_fly
    ? {
      reward_success: success, reward_points: points, reward_total_points: state.total_points,
      reward_rewarded_trials: state.rewarded_trials, reward_eligible_trials: state.eligible_trials,
      reward_success_streak: state.success_streak,
    }
    : { reward_points: null, reward_eligible_trials: state.eligible_trials, reward_success_streak: state.success_streak };
  return { fields, milestones: reached };
}

// Totals for the summary: with calculate_on_the_fly false they are computed now, from the
// recorded outcomes (the same rule, so both ways give the same numbers).
export function finalTotals(policy, state) {
  if (!policy.calculate_on_the_fly) {
    let total = 0;
    let rewarded = 0;
    for (const e of state.events) {
      const pts = isSuccess(e, policy) ? policy.points_per_success : 0;
      total += pts;
      if (pts > 0) rewarded += 1;
    }
    state.total_points = total;
    state.rewarded_trials = rewarded;
  }
  return {
    total_points: state.total_points, rewarded_trials: state.rewarded_trials,
    eligible_trials: state.events.length, success_streak: state.success_streak,
  };
}

export function continueKeyLabel(k) {
  const key = String(k ?? 'space');
  const l = key.toLowerCase();
  if (key === ' ' || l === 'space') return 'SPACE';
  if (l === 'enter') return 'ENTER';
  if (key === 'ALL_KEYS') return 'ANY KEY';
  return key.toUpperCase();
}

const BASIS_LABEL = { reaction_time: 'Reaction time', accuracy: 'Accuracy', both: 'Accuracy + reaction time' };

export function templateVars(policy, state) {
  const s = state ?? newRewardState();
  return {
    currency_label: policy.currency_label, scoring_basis: policy.scoring_basis,
    scoring_basis_label: BASIS_LABEL[policy.scoring_basis], rt_threshold_ms: policy.rt_threshold_ms,
    points_per_success: policy.points_per_success, continue_key: policy.continue_key,
    continue_key_label: continueKeyLabel(policy.continue_key), total_points: s.total_points,
    rewarded_trials: s.rewarded_trials, eligible_trials: s.eligible_trials,
    success_streak: s.success_streak, badge_level: '',
  };
}

// `{{name}}` -> the variable's value, HTML-escaped; unknown names become empty.
export function renderTemplate(tpl, vars) {
  const esc = (v) => String(v).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
  return String(tpl ?? '').replace(/\{\{\s*([a-zA-Z0-9_]+)\s*\}\}/g, (_, k) => (vars[k] === undefined || vars[k] === null ? '' : esc(vars[k])));
}

// Compiler post-pass over the flat trial list (run order): a reward-settings spec activates its
// policy for the task trials after it (they get meta.reward_scored and, for Gabor, the policy's
// gabor_reward_* defaults unless the trial set them itself); its intermediate screens follow it;
// one summary spec closes the run (shown if show_summary_at_end, recorded either way).
export function placeRewardSpecs(specs) {
  const out = [];
  let policy = null;
  let last = null;
  for (const s of specs) {
    if (s.component_type === 'reward-settings') {
      policy = normalizePolicy(s.params);
      last = s;
      out.push({ ...s, params: { policy, reward_screen: 'instructions' } });
      policy.intermediate_screens.forEach((scr, i) => {
        out.push({ component_type: 'reward-settings', params: { policy, reward_screen: 'intermediate', screen_index: i }, meta: { ...s.meta } });
      });
      continue;
    }
    if (policy && REWARD_SCORED_TYPES.has(s.component_type)) {
      const own = new Set(s.meta.own_keys ?? []);
      const params = { ...s.params };
      for (const [k, v] of Object.entries(policy.gabor_defaults)) if (s.component_type.startsWith('gabor') && !own.has(k)) params[k] = v;
      out.push({ ...s, params, meta: { ...s.meta, reward_scored: true } });
      continue;
    }
    out.push(s);
  }
  if (policy) out.push({ component_type: 'reward-settings', params: { policy, reward_screen: 'summary' }, meta: { path: `${last.meta.path}#summary` } });
  for (const s of out) delete s.meta.own_keys;
  return out;
}
