// Task-specific trial generators used by the compiler (pure, seeded).

const POOLS = {
  letters: ['A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'J', 'K'],
  numbers: ['1', '2', '3', '4', '5', '6', '7', '8', '9'],
  shapes: ['●', '■', '▲', '◆', '★', '⬟'],
};

export function nbackPool(params) {
  let pool = params.stimulus_pool;
  if (typeof pool === 'string') pool = pool.split(',');
  if (Array.isArray(pool)) pool = pool.map((t) => String(t).trim()).filter(Boolean);
  if (!pool || pool.length < 2) pool = POOLS[params.stimulus_mode] || POOLS.letters;
  return pool;
}

// N-back sequence: after the first n items, each item is a match with target_probability;
// a non-match never repeats the item n back, so is_match is exact.
export function nbackSequence(params, rng) {
  const n = Math.max(1, Math.floor(Number(params.n) || 2));
  const length = Math.max(1, Math.floor(Number(params.length) || 20));
  const p = Number.isFinite(Number(params.target_probability)) ? Number(params.target_probability) : 0.3;
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
      token = rng.pick(choices);
    }
    seq.push({ token, is_match: isMatch, sequence_index: i, n });
  }
  return seq;
}

const VOWELS = ['A', 'E', 'I', 'U'];
const CONSONANTS = ['G', 'K', 'M', 'R'];
const ODD = ['3', '5', '7', '9'];
const EVEN = ['2', '4', '6', '8'];

// Fill in task-switching fields the author left to chance.
export function taskSwitchingTrial(params, rng) {
  const out = { ...params };
  if (out.task_index !== 1 && out.task_index !== 2) out.task_index = rng() < 0.5 ? 1 : 2;
  out.task_index = Number(out.task_index);
  const tasks = Array.isArray(out.tasks) && out.tasks.length >= 2 && out.stimulus_set_mode === 'custom' ? out.tasks : null;
  const split = (v) => (Array.isArray(v) ? v : String(v || '').split(',')).map((t) => String(t).trim()).filter(Boolean);
  const setA1 = tasks ? split(tasks[0].category_a_tokens) : VOWELS;
  const setB1 = tasks ? split(tasks[0].category_b_tokens) : CONSONANTS;
  const setA2 = tasks ? split(tasks[1].category_a_tokens) : ODD;
  const setB2 = tasks ? split(tasks[1].category_b_tokens) : EVEN;
  if (!out.stimulus_task_1) out.stimulus_task_1 = rng.pick(rng() < 0.5 ? setA1 : setB1);
  if (!out.stimulus_task_2) out.stimulus_task_2 = rng.pick(rng() < 0.5 ? setA2 : setB2);
  const [a, b] = out.task_index === 1 ? [setA1, setB1] : [setA2, setB2];
  const token = out.task_index === 1 ? out.stimulus_task_1 : out.stimulus_task_2;
  // Category A -> left key, category B -> right key.
  out.correct_side = a.includes(String(token)) ? 'left' : b.includes(String(token)) ? 'right' : null;
  return out;
}

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
