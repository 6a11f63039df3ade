// Task-specific trial generators used by the compiler (pure, seeded).

const POOLS = {
  letters: ['A', 'B', 'C', 'D', 'E', 'F', 'G', 'H'],
  numbers: ['1', '2', '3', '4', '5', '6', '7', '8', '9'],
  shapes: ['●', '■', '▲', '◆', '★', '⬟'],
  custom: ['A', 'B', 'C'],
};

export function nbackPool(params) {
  let pool = params.stimulus_pool;
  if (typeof pool === 'string') pool = pool.split(/[\n,]/);
  if (Array.isArray(pool)) pool = pool.map((t) => String(t).trim()).filter(Boolean);
  if (!pool || pool.length < 2) pool = POOLS[params.stimulus_mode] || POOLS.letters;
  return pool;
}

// N-back sequence: after the first n items, each item is a match with target_probability;
// a non-match never repeats the item n back, so is_match is exact.
export function nbackSequence(params, rng) {
  const n = Math.max(1, Math.floor(Number(params.n) || 2));
  const length = Math.max(1, Math.floor(Number(params.length) || 30));
  const p = Number.isFinite(Number(params.target_probability)) ? Number(params.target_probability) : 0.25;
  const pool = nbackPool(params);
  const seq = [];
  for (let i = 0; i < length; i++) {
    let token;
    let isMatch = false;
    if (i >= n && rng() < p) {
      token = seq[i - n].token;
      isMatch = true;
    } else {
      const avoid = i >= n ? seq[i - n].token : null;
      const choices = pool.filter((t) => t !== avoid);
      token = rng.pick(choices.length ? choices : pool);
    }
    seq.push({ token, is_match: isMatch, sequence_index: i, n });
  }
  return seq;
}

// ---- task switching ---------------------------------------------------------------------
// Task 1 classifies the letter (vowel = category A = left key), task 2 the number (odd =
// category A = left key), unless the study defines its own two token sets per task. Every
// token of a set is scored, not only the ones the generator would draw.

const LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ'.split('');
const DIGITS = '123456789'.split('');
const VOWELS = new Set(['A', 'E', 'I', 'O', 'U']);
const tokenList = (v) => (Array.isArray(v) ? v : String(v ?? '').split(',')).map((t) => String(t).trim()).filter(Boolean);

export function taskSwitchingSets(params) {
  if (params.stimulus_set_mode === 'custom' && Array.isArray(params.tasks) && params.tasks.length >= 2) {
    return params.tasks.slice(0, 2).map((t) => ({ a: tokenList(t && t.category_a_tokens), b: tokenList(t && t.category_b_tokens) }));
  }
  return null;
}

// 'left' (category A), 'right' (category B) or null (not a token of this task).
export function taskSwitchingSide(params, task, token) {
  const t = String(token ?? '').trim();
  if (!t) return null;
  const sets = taskSwitchingSets(params);
  if (sets) {
    const s = sets[task - 1];
    return s.a.includes(t) ? 'left' : s.b.includes(t) ? 'right' : null;
  }
  if (task === 1) {
    const ch = t.toUpperCase();
    return /^[A-Z]$/.test(ch) ? (VOWELS.has(ch) ? 'left' : 'right') : null;
  }
  return /^-?\d+$/.test(t) ? (Math.abs(Number(t)) % 2 === 1 ? 'left' : 'right') : null;
}

function taskIndexOf(v) {
  const n = Number.parseInt(v, 10);
  return n === 1 || n === 2 ? n : null;
}

// `index` is the trial's position in its block (switch blocks alternate tasks, as the
// reference does); null for a single authored trial.
export function taskSwitchingTrial(params, rng, index = null) {
  const out = { ...params };
  const single = ['single', 'one', 'one_task', 'single_task'].includes(String(out.trial_type ?? '').toLowerCase());
  out.trial_type = single ? 'single' : 'switch';
  const computed = single ? (taskIndexOf(out.single_task_index) ?? 1) : (index === null ? 1 : (index % 2) + 1);
  out.task_index = taskIndexOf(out.task_index) ?? computed;
  // An authored "O 1" stimulus names both tokens.
  if (!out.stimulus_task_1 && !out.stimulus_task_2 && out.stimulus !== undefined && String(out.stimulus).trim()) {
    const parts = String(out.stimulus).trim().split(/\s+/);
    if (parts.length >= 2) [out.stimulus_task_1, out.stimulus_task_2] = parts;
    else if (out.task_index === 1) out.stimulus_task_1 = parts[0];
    else out.stimulus_task_2 = parts[0];
  }
  const sets = taskSwitchingSets(out);
  const pool = (task) => (sets ? [...sets[task - 1].a, ...sets[task - 1].b] : task === 1 ? LETTERS : DIGITS);
  for (const task of [1, 2]) {
    const k = `stimulus_task_${task}`;
    if (out[k] === undefined || out[k] === null || String(out[k]).trim() === '') {
      const p = pool(task);
      out[k] = p.length ? rng.pick(p) : '';
    } else {
      out[k] = String(out[k]).trim();
    }
  }
  out.stimulus = `${out.stimulus_task_1} ${out.stimulus_task_2}`.trim();
  out.correct_side = taskSwitchingSide(out, out.task_index, out[`stimulus_task_${out.task_index}`]);
  return out;
}

// ---- Stroop -----------------------------------------------------------------------------

export function stroopStimuli(params) {
  const s = Array.isArray(params.stimuli) && params.stimuli.length ? params.stimuli : [
    { name: 'RED', color: '#e53935' }, { name: 'GREEN', color: '#43a047' },
    { name: 'BLUE', color: '#1e88e5' }, { name: 'YELLOW', color: '#fdd835' }];
  return s.map((x) => ({ name: String(x.name).toUpperCase(), color: x.color || String(x.name).toLowerCase() }));
}

// Make word/ink agree with a requested congruency (the block samples them independently).
export function stroopTrial(params, rng) {
  const out = { ...params };
  const names = stroopStimuli(out).map((s) => s.name);
  if (out.word) out.word = String(out.word).toUpperCase();
  if (out.ink_color_name) out.ink_color_name = String(out.ink_color_name).toUpperCase();
  if (!out.word) out.word = rng.pick(names);
  if (!out.ink_color_name) out.ink_color_name = rng.pick(names);
  if (out.congruency === 'congruent') out.ink_color_name = out.word;
  else if (out.congruency === 'incongruent' && out.ink_color_name === out.word) {
    const others = names.filter((n) => n !== out.word);
    if (others.length) out.ink_color_name = rng.pick(others);
  }
  out.congruency = out.ink_color_name === out.word ? 'congruent' : 'incongruent';
  return out;
}

// [{label, words}] or [[words]] or {label: [words]} -> [{label, words}] with words present.
export function wordLists(raw) {
  let lists = raw;
  if (lists && typeof lists === 'object' && !Array.isArray(lists)) lists = Object.entries(lists).map(([label, words]) => ({ label, words }));
  if (!Array.isArray(lists)) return [];
  return lists.map((l) => {
    if (Array.isArray(l)) return { label: '', words: tokenList(l) };
    if (l && typeof l === 'object') return { label: String(l.label ?? l.name ?? ''), words: tokenList(l.words) };
    return null;
  }).filter((l) => l && l.words.length);
}

// Emotional Stroop: the word comes from a word list (a list first, then a word of it), and the
// list is recorded as word_list_label and word_list_index (1-based). In a block the lists win
// over a sampled word, as in the reference; a single trial keeps an authored word (matched to
// the list that contains it) and draws from its word_list_index list when it names one.
export function emotionalStroopTrial(params, rng, inBlock = false) {
  const out = { ...params };
  const names = stroopStimuli(out).map((s) => s.name);
  out.ink_color_name = out.ink_color_name ? String(out.ink_color_name).toUpperCase() : rng.pick(names);
  const lists = wordLists(out.word_lists);
  const hasWord = out.word !== undefined && out.word !== null && String(out.word).trim() !== '';
  if (lists.length && (inBlock || !hasWord)) {
    const asked = Number.parseInt(out.word_list_index, 10);
    const byLabel = lists.findIndex((l) => out.word_list_label && l.label === out.word_list_label);
    const idx = !inBlock && asked >= 1 && asked <= lists.length ? asked - 1
      : !inBlock && byLabel >= 0 ? byLabel : Math.floor(rng() * lists.length);
    out.word = rng.pick(lists[idx].words);
    out.word_list_index = idx + 1;
    out.word_list_label = lists[idx].label || null;
  } else if (hasWord) {
    out.word = String(out.word).trim();
    const idx = lists.findIndex((l) => l.words.some((w) => w.toUpperCase() === out.word.toUpperCase()));
    out.word_list_index = out.word_list_index ?? (idx >= 0 ? idx + 1 : null);
    out.word_list_label = out.word_list_label ?? (idx >= 0 ? lists[idx].label || null : null);
  } else {
    const options = tokenList(out.word_options);
    out.word = options.length ? rng.pick(options) : rng.pick(names);
    out.word_list_index = null;
    out.word_list_label = null;
  }
  delete out.congruency; // emotional words are not colour words
  return out;
}

// SART: with nogo_probability, draw the no-go digit with that probability, else a go digit.
export function sartTrial(params, rng, digitList) {
  const out = { ...params };
  const nogo = Number.isFinite(Number(out.nogo_digit)) ? Number(out.nogo_digit) : 3;
  out.nogo_digit = nogo;
  if (out.nogo_probability !== undefined && out.nogo_probability !== null) {
    const gos = (digitList && digitList.length ? digitList : [0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
      .map(Number).filter((d) => d !== nogo);
    out.digit = rng() < Number(out.nogo_probability) ? nogo : rng.pick(gos);
  }
  if (!Number.isFinite(Number(out.digit))) out.digit = rng.int(1, 9);
  out.digit = Number(out.digit);
  return out;
}

// ---- RDM direction schedules ---------------------------------------------------------------
// direction_transition_mode every_n_trials / exact_count: the direction (or each group's
// direction) holds for runs of trials and changes to a different option at the switch points;
// random_each_trial (the default) leaves the per-trial sampling alone.

export function directionSwitchPoints(length, mode, everyN, count, rng) {
  const points = new Set();
  if (length < 2) return points;
  if (mode === 'every_n_trials') {
    const n = Math.max(1, Math.floor(Number(everyN) || 1));
    for (let i = n; i < length; i += n) points.add(i);
  } else if (mode === 'exact_count') {
    const want = Math.max(0, Math.min(length - 1, Math.floor(Number(count) || 0)));
    const candidates = rng.shuffle(Array.from({ length: length - 1 }, (_, i) => i + 1));
    for (const i of candidates.slice(0, want)) points.add(i);
  }
  return points;
}

export function directionSchedule(options, length, points, rng) {
  const seq = [];
  let current = rng.pick(options);
  for (let i = 0; i < length; i++) {
    if (points.has(i)) {
      const others = options.filter((o) => o !== current);
      current = others.length ? rng.pick(others) : current;
    }
    seq.push(current);
  }
  return seq;
}
