// SOC sub-task "wcst-like": sort each e-mail onto one of four target cards. The card that
// matches the e-mail on the current rule's dimension (sender domain, subject tone, link style or
// attachment type) is correct; after rule_change_correct_streak correct sorts in a row the rule
// moves to the next one, unannounced. Keys choose cards (choice_keys), or a click / drop on a card.

import { clampNum, escapeHtml, fillPlaceholders, flag, keyLabel, normalizeKey, tokenList } from './soc-common.js';
import { runLimit } from './soc-schedule.js';
import { mean } from './soc-sart.js';

export const DIMENSIONS = ['sender_domain', 'subject_tone', 'link_style', 'attachment_type'];
const LABELS = { sender_domain: 'Sender', subject_tone: 'Subject', link_style: 'Link', attachment_type: 'Attachment' };
const ALIASES = { sender: 'sender_domain', domain: 'sender_domain', subject: 'subject_tone', tone: 'subject_tone', link: 'link_style', attachment: 'attachment_type' };
const SUBJECTS = { neutral: 'Weekly account summary', urgent: 'Action required: verify your account', reward: 'You have a new benefit available', threat: 'Account will be restricted soon' };

export function wcstConfig(o) {
  const keys = tokenList(o.choice_keys ?? o.response_keys ?? '1,2,3,4').map(normalizeKey).slice(0, 4);
  while (keys.length < 4) keys.push(String(keys.length + 1));
  const rules = [...new Set(tokenList(String(o.rule_sequence ?? o.rules ?? DIMENSIONS.join(','))).map((r) => ALIASES[r.toLowerCase()] ?? r.toLowerCase()).filter((r) => DIMENSIONS.includes(r)))];
  const domains = tokenList(o.sender_domains ?? o.sender_domain_examples ?? o.domains).slice(0, 4);
  ['corp.test', 'vendor.test', 'typo.test', 'ip.test'].forEach((d, i) => { if (!domains[i]) domains[i] = d; });
  return {
    response_device: String(o.response_device ?? 'keyboard').toLowerCase() === 'mouse' ? 'mouse' : 'keyboard',
    mouse_mode: String(o.mouse_response_mode ?? o.mouse_mode ?? 'click').toLowerCase() === 'drag' ? 'drag' : 'click',
    choice_keys: keys,
    num_trials: Math.round(clampNum(o.num_trials, 0, 5000, 24)),
    response_window_ms: clampNum(o.response_window_ms, 200, 20000, 2500),
    iti_ms: clampNum(o.iti_ms ?? o.trial_interval_ms, 0, 20000, 300),
    feedback_ms: clampNum(o.feedback_ms, 0, 5000, 450),
    show_feedback: flag(o.show_feedback, true),
    streak: Math.round(clampNum(o.rule_change_correct_streak ?? o.rule_change_after_correct, 1, 50, 8)),
    rules: rules.length ? rules : DIMENSIONS.slice(),
    values: { sender_domain: domains, subject_tone: ['neutral', 'urgent', 'reward', 'threat'], link_style: ['none', 'visible', 'shortened', 'mismatch'], attachment_type: ['none', 'pdf', 'docm', 'zip'] },
  };
}

// Target card i carries value i of every dimension, so each e-mail matches one card per rule.
export function targetCards(cfg) {
  return [0, 1, 2, 3].map((i) => Object.fromEntries([['id', 'ABCD'[i]], ...DIMENSIONS.map((d) => [d, cfg.values[d][i]])]));
}

export function wcstEmail(cfg, rng) {
  return Object.fromEntries(DIMENSIONS.map((d) => [d, rng.pick(cfg.values[d])]));
}

export function correctTarget(cfg, email, rule) {
  return cfg.values[rule].indexOf(email[rule]);
}

export function create(win, env) {
  const cfg = wcstConfig(win.params);
  const cards = targetCards(cfg);
  const keysText = cfg.choice_keys.map(keyLabel).join(', ');
  const controls = cfg.response_device === 'mouse' ? (cfg.mouse_mode === 'drag' ? 'Drag the email onto a target card to sort.' : 'Click a target card to sort.') : `Press ${keysText} to choose the target cards.`;
  const st = { started: false, ended: false, presented: 0, responded: 0, correct: 0, incorrect: 0, omissions: 0, rule_index: 0, streak: 0, trial: null, nextAt: null, rts: [] };
  let stopAt = Infinity;
  let t0 = 0;
  const drag = cfg.response_device === 'mouse' && cfg.mouse_mode === 'drag';
  win.body.innerHTML = `<div class="soc-head"><div><h4>Email sorting (WCST-like)</h4><div class="soc-hint">Sort each email onto a target card. Feedback helps you find the current rule.</div></div><div class="soc-hint" data-role="status">Ready</div></div>
    <div class="soc-wcst-email" data-role="email"${drag ? ' draggable="true"' : ''}>Waiting…</div>
    <div class="soc-wcst-targets">${cards.map((c, i) => `<button type="button" class="soc-wcst-target" data-idx="${i}"><b>Target ${escapeHtml(cfg.response_device === 'keyboard' ? keyLabel(cfg.choice_keys[i]) : c.id)}</b>${DIMENSIONS.map((d) => `<div>${LABELS[d]}: ${escapeHtml(c[d])}</div>`).join('')}</button>`).join('')}</div>
    <div class="soc-hint">${escapeHtml(controls)}</div>`;
  const status = win.body.querySelector('[data-role="status"]');
  const emailEl = win.body.querySelector('[data-role="email"]');
  const rule = () => cfg.rules[st.rule_index % cfg.rules.length];
  const clearMarks = () => win.body.querySelectorAll('.soc-wcst-target').forEach((b) => b.classList.remove('soc-correct', 'soc-incorrect'));

  const present = (t, ts) => {
    const e = wcstEmail(cfg, env.rng);
    st.presented += 1;
    const id = `MAIL-${win.index + 1}-${String(st.presented).padStart(4, '0')}`;
    st.trial = { id, email: e, onset: ts, t, answer: correctTarget(cfg, e, rule()), responded: false, closeAt: t + cfg.response_window_ms };
    clearMarks();
    emailEl.innerHTML = `<div><b>alerts@${escapeHtml(e.sender_domain)}</b> <span class="soc-hint">ID ${id}</span></div><div>${escapeHtml(SUBJECTS[e.subject_tone])}</div><div class="soc-hint">Link: ${escapeHtml(e.link_style)} · Attachment: ${escapeHtml(e.attachment_type)}</div>`;
    env.emit(win, 'wcst_present', { stimulus_id: id, trial_number: st.presented, rule: rule(), correct_target_index: st.trial.answer, ...e }, ts);
  };

  const respond = (choice, device, keyName, ts) => {
    const tr = st.trial;
    if (!st.started || st.ended || !tr || tr.responded) return;
    tr.responded = true;
    const correct = choice === tr.answer;
    const rt = ts - tr.onset;
    st.responded += 1;
    st.rts.push(rt);
    st[correct ? 'correct' : 'incorrect'] += 1;
    st.streak = correct ? st.streak + 1 : 0;
    env.emit(win, 'wcst_response', { stimulus_id: tr.id, rule: rule(), device, response_key: keyName, choice_target_index: choice, correct_target_index: tr.answer, correct, rt_ms: rt }, ts);
    if (cfg.show_feedback) {
      win.body.querySelector(`.soc-wcst-target[data-idx="${choice}"]`)?.classList.add(correct ? 'soc-correct' : 'soc-incorrect');
      status.textContent = correct ? 'Correct' : 'Incorrect';
    }
    if (st.streak >= cfg.streak) {
      const prev = rule();
      st.rule_index += 1;
      st.streak = 0;
      env.emit(win, 'wcst_rule_change', { prev_rule: prev, next_rule: rule() }, ts);
    }
    tr.closeAt = -Infinity; // the next frame closes it and schedules the next e-mail
    tr.pauseAfter = cfg.show_feedback ? cfg.feedback_ms : 0;
  };

  win.body.addEventListener('click', (ev) => {
    const b = ev.target.closest('.soc-wcst-target');
    if (b && cfg.response_device === 'mouse' && !drag) respond(Number(b.dataset.idx), 'mouse', null, ev.timeStamp);
  });
  if (drag) {
    emailEl.addEventListener('dragstart', (ev) => ev.dataTransfer && ev.dataTransfer.setData('text/plain', 'soc-wcst'));
    win.body.addEventListener('dragover', (ev) => { if (ev.target.closest('.soc-wcst-target')) ev.preventDefault(); });
    win.body.addEventListener('drop', (ev) => {
      const b = ev.target.closest('.soc-wcst-target');
      if (b) { ev.preventDefault(); respond(Number(b.dataset.idx), 'mouse', null, ev.timeStamp); }
    });
  }

  const finish = (type, reason, ts) => {
    if (st.ended) return;
    const tr = st.trial;
    if (tr && !tr.responded) { st.omissions += 1; env.emit(win, 'wcst_omission', { stimulus_id: tr.id, rule: rule(), reason: 'forced_end' }, ts); }
    st.ended = true;
    status.textContent = 'Complete';
    env.emit(win, type, { reason, presented: st.presented, responded: st.responded, correct: st.correct, incorrect: st.incorrect, omissions: st.omissions }, ts);
  };

  return {
    state: st,
    instructions: { title: win.params.instructions_title || 'Email sorting (WCST-like)', html: fillPlaceholders(win.params.instructions, { KEYS: keysText, CONTROLS: controls, RULES: cfg.rules.map((r) => LABELS[r]).join(', '), DOMAINS: cfg.values.sender_domain.join(', ') }) },
    start(t, ts) {
      st.started = true;
      t0 = t;
      stopAt = runLimit(win.params, env.rng, [0, 0]);
      st.nextAt = t + cfg.iti_ms;
      status.textContent = `Rule: ${LABELS[rule()]}`;
      env.emit(win, 'wcst_subtask_start', { response_device: cfg.response_device, mouse_response_mode: cfg.mouse_mode, choice_keys: cfg.choice_keys.join(','), rules: cfg.rules.join(','), rule_change_correct_streak: cfg.streak, num_trials: cfg.num_trials }, ts);
    },
    frame(t, ts) {
      if (st.ended) return;
      if (t - t0 >= stopAt) { finish('wcst_subtask_end', 'run_limit', ts); return; }
      const tr = st.trial;
      if (tr && t >= tr.closeAt) {
        if (!tr.responded) { st.omissions += 1; st.streak = 0; env.emit(win, 'wcst_omission', { stimulus_id: tr.id, rule: rule(), reason: 'deadline' }, ts); }
        st.trial = null;
        st.nextAt = t + (tr.pauseAfter ?? 0) + cfg.iti_ms;
        emailEl.textContent = '';
      }
      if (!st.trial && st.nextAt !== null && t >= st.nextAt) {
        if (cfg.num_trials > 0 && st.presented >= cfg.num_trials) { finish('wcst_subtask_end', 'num_trials', ts); return; }
        st.nextAt = null;
        present(t, ts);
      }
    },
    key(k, ev) {
      const i = cfg.choice_keys.indexOf(k);
      if (cfg.response_device !== 'keyboard' || i < 0) return false;
      respond(i, 'keyboard', k, ev.timeStamp);
      return true;
    },
    end(reason, ts) { finish('wcst_subtask_forced_end', reason, ts); },
    summary() {
      return { presented: st.presented, responded: st.responded, correct: st.correct, incorrect: st.incorrect, omissions: st.omissions, accuracy: st.presented ? st.correct / st.presented : null, mean_rt_ms: mean(st.rts), rule: rule(), rule_index: st.rule_index };
    },
  };
}
