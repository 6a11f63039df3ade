// reward-settings: the reward screens (instructions, intermediate screens, the final summary)
// and `withRewards`, which scores the task trials a reward policy covers and shows milestone
// screens right after the trial that reached them. Scoring rules live in ../rewards.js.

import { normalizeChoices, normalizeKey } from '../keys.js';
import { finalTotals, newRewardState, normalizePolicy, renderTemplate, scoreTrial, templateVars } from '../rewards.js';
import { escapeHtml, mediaUrl, respond, stage } from './common.js';

function continueChoices(key) {
  if (key === 'ALL_KEYS') return 'ALL_KEYS';
  return normalizeChoices([normalizeKey(key) ?? 'space'], ['space']);
}

function playAudio(url) {
  if (!url) return;
  try {
    const a = new Audio(mediaUrl(url));
    a.play().catch(() => { /* autoplay refused: the controls on screen still work */ });
  } catch { /* no audio support */ }
}

// One reward screen, ended by the continue key. Returns respond()'s timing.
export async function showRewardScreen(el, ctx, screen, vars, policy, role) {
  const title = screen.title || 'Rewards';
  const img = screen.image_url ? `<div><img src="${escapeHtml(mediaUrl(screen.image_url))}" alt=""></div>` : '';
  const audio = screen.audio_url ? `<div><audio controls src="${escapeHtml(mediaUrl(screen.audio_url))}"></audio></div>` : '';
  const html = `<div class="cf-screen cf-html" data-role="reward-screen" data-reward-screen="${escapeHtml(role)}" data-continue-key="${escapeHtml(policy.continue_key)}"><h2>${escapeHtml(title)}</h2>${img}<div data-role="reward-body">${renderTemplate(screen.template_html, vars)}</div>${audio}</div>`;
  // Styles through the CSSOM, not style attributes (a strict CSP may forbid those).
  const layout = (box) => {
    const body = box.querySelector('[data-role="reward-body"]');
    Object.assign(body.style, { display: 'inline-block', textAlign: 'left' });
    const im = box.querySelector('img');
    if (im) Object.assign(im.style, { maxWidth: '100%', maxHeight: '45vh', objectFit: 'contain' });
  };
  return respond(ctx, {
    show: () => { layout(stage(el, html)); playAudio(screen.audio_url); },
    keys: continueChoices(policy.continue_key),
  });
}

function totalsFields(t) {
  return {
    reward_total_points: t.total_points, reward_rewarded_trials: t.rewarded_trials,
    reward_eligible_trials: t.eligible_trials, reward_success_streak: t.success_streak,
  };
}

export async function run(el, p, ctx) {
  const policy = p.policy ?? normalizePolicy(p);
  const role = p.reward_screen ?? 'instructions';
  if (role === 'instructions') ctx.state.rewards = { policy, state: newRewardState() };
  const bag = ctx.state.rewards ?? { policy, state: newRewardState() };
  const base = { reward_screen: role, reward_currency_label: policy.currency_label, reward_scoring_basis: policy.scoring_basis };
  if (role === 'summary') {
    const totals = totalsFields(finalTotals(bag.policy, bag.state));
    const out = { ...base, ...totals, reward_computed_at_end: !bag.policy.calculate_on_the_fly, reward_summary_shown: policy.show_summary_at_end };
    if (!policy.show_summary_at_end) return { ...out, ended_reason: 'duration' };
    const r = await showRewardScreen(el, ctx, policy.summary_screen, templateVars(bag.policy, bag.state), policy, role);
    return { ...out, stimulus_onset_ms: r.onset, rt_ms: r.rt_ms, response: r.response ? r.response.key : null, ended_reason: r.ended_reason };
  }
  const screen = role === 'intermediate' ? policy.intermediate_screens[p.screen_index ?? 0] : policy.instructions_screen;
  const r = await showRewardScreen(el, ctx, screen ?? {}, templateVars(policy, null), policy, role);
  return {
    ...base, stimulus_onset_ms: r.onset, rt_ms: r.rt_ms, response: r.response ? r.response.key : null, ended_reason: r.ended_reason,
    ...(role === 'intermediate' ? { reward_screen_index: p.screen_index ?? 0 } : {
      reward_points_per_success: policy.points_per_success, reward_rt_threshold_ms: policy.rt_threshold_ms,
      reward_calculate_on_the_fly: policy.calculate_on_the_fly, reward_milestone_ids: policy.milestones.map((m) => m.id),
    }),
  };
}

const wrapped = new WeakMap();

// A component module whose trials are scored when the compiler marked them (meta.reward_scored)
// and a reward policy is running; milestone screens follow the trial that reached them.
export function withRewards(mod) {
  if (wrapped.has(mod)) return wrapped.get(mod);
  const out = {
    ...mod,
    async run(el, p, ctx) {
      const data = await mod.run(el, p, ctx);
      const bag = ctx.state && ctx.state.rewards;
      if (!ctx.spec || !ctx.spec.meta || !ctx.spec.meta.reward_scored || !bag || (ctx.signal && ctx.signal.aborted)) return data;
      if (!data || data.ended_reason === 'aborted' || data.ended_reason === 'error') return data;
      const row = { rt_ms: data.rt_ms, correct: data.correct, reward_available: typeof data.reward_available === 'boolean' ? data.reward_available : p.reward_available };
      const { fields, milestones } = scoreTrial(bag.policy, bag.state, row);
      const shown = [];
      for (const m of milestones) {
        const r = await showRewardScreen(el, ctx, m.screen, templateVars(bag.policy, bag.state), bag.policy, `milestone:${m.id}`);
        shown.push({ id: m.id, trigger_type: m.trigger_type, threshold: m.threshold, onset_ms: ctx.run && ctx.run.rel ? ctx.run.rel(r.onset) : r.onset, rt_ms: r.rt_ms });
      }
      return { ...data, ...fields, ...(shown.length ? { reward_milestones_shown: shown } : {}) };
    },
  };
  wrapped.set(mod, out);
  return out;
}
