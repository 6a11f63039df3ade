// Starting points: one small, correct study per task family (instructions, a practice block, a
// main block, a closing screen) and a few fuller examples. Each is a plain config built on the
// reference's top-level defaults, so it runs here and on the reference Interpreter. Whether this
// version runs a template is not decided here: the start dialog asks the Interpreter's checker
// (../interpreter/support.js) and says so beside any template it would refuse.

import { newConfig } from './model.js';
import { taskLabel } from './families.js';

const screen = (html, name) => ({ type: 'instructions', ...(name ? { name } : {}), stimulus: html, choices: 'ALL_KEYS' });

const closing = () => screen('<h2>Thank you</h2><p>This part of the study is finished.</p><p>Press any key.</p>', 'End');
const between = () => screen('<h2>Practice finished</h2><p>The main block starts now. It works the same way, without breaks.</p><p>Press any key to start.</p>', 'Before the main block');

function block(component, length, values, windows, extra = {}) {
  return {
    type: 'block', component_type: component, length, sampling_mode: 'per-trial',
    parameter_values: values, parameter_windows: windows, ...extra,
  };
}

function study(task, intro, practice, main, extra = {}) {
  const config = newConfig(task);
  return {
    ...config, ...extra,
    timeline: [screen(intro, 'Welcome'), { ...practice, name: 'Practice' }, between(), { ...main, name: 'Main' }, closing()],
  };
}

const TEMPLATE_LIST = [
  {
    task: 'flanker',
    description: 'Respond to the centre arrow of five; congruent and incongruent flankers, F and J.',
    build: () => {
      const values = { congruency: ['congruent', 'incongruent'], target_direction: ['left', 'right'] };
      const windows = { iti_ms: { min: 300, max: 700 } };
      return study('flanker',
        '<h2>Arrows</h2><p>Five arrows appear. Look at the <b>middle</b> one.</p><p>Press <b>F</b> if it points left, <b>J</b> if it points right. Be fast and accurate.</p><p>Press any key to practise.</p>',
        block('flanker-trial', 8, values, windows), block('flanker-trial', 48, values, windows, { seed: 1 }));
    },
  },
  {
    task: 'stroop',
    description: 'Name the ink colour of colour words with keys 1–4; half congruent, half incongruent.',
    build: () => {
      const values = { congruency: ['congruent', 'incongruent'] };
      const windows = { iti_ms: { min: 300, max: 700 } };
      return study('stroop',
        '<h2>Colours</h2><p>A colour word appears in coloured ink. Name the <b>ink colour</b>, not the word.</p><p>1 = red, 2 = green, 3 = blue, 4 = yellow.</p><p>Press any key to practise.</p>',
        block('stroop-trial', 8, values, windows), block('stroop-trial', 48, values, windows, { seed: 1 }));
    },
  },
  {
    task: 'emotional-stroop',
    description: 'Name the ink colour of neutral and negative words drawn from two word lists.',
    build: () => {
      const lists = [{ label: 'Neutral', words: ['TABLE', 'CHAIR', 'WINDOW', 'PAPER'] }, { label: 'Negative', words: ['FEAR', 'PAIN', 'LOSS', 'GRIEF'] }];
      const values = { word_lists: lists, ink_color_name: ['RED', 'GREEN', 'BLUE', 'YELLOW'] };
      return study('emotional-stroop',
        '<h2>Words in colour</h2><p>Words appear in coloured ink. Name the <b>ink colour</b> and ignore the word.</p><p>1 = red, 2 = green, 3 = blue, 4 = yellow.</p><p>Press any key to practise.</p>',
        block('emotional-stroop-trial', 8, values, {}), block('emotional-stroop-trial', 48, values, {}, { seed: 1 }));
    },
  },
  {
    task: 'simon',
    description: 'Respond to the colour of a circle on the left or right, ignoring its side.',
    build: () => {
      const values = { stimulus_color_name: ['BLUE', 'ORANGE'], stimulus_side: ['left', 'right'] };
      const windows = { iti_ms: { min: 300, max: 700 } };
      return study('simon',
        '<h2>Circles</h2><p>A circle appears on the left or the right. Respond to its <b>colour</b>, not its side.</p><p><b>Blue</b>: press F. <b>Orange</b>: press J.</p><p>Press any key to practise.</p>',
        block('simon-trial', 8, values, windows), block('simon-trial', 48, values, windows, { seed: 1 }));
    },
  },
  {
    task: 'sart',
    description: 'Press space for every digit except 3 (go/no-go, about one no-go in nine).',
    build: () => {
      const values = { digit: [1, 2, 3, 4, 5, 6, 7, 8, 9], nogo_digit: 3, go_key: 'space' };
      return study('sart',
        '<h2>Digits</h2><p>Digits appear one after another. Press <b>space</b> for every digit, except <b>3</b>: do not press for 3.</p><p>Press any key to practise.</p>',
        block('sart-trial', 9, values, {}), block('sart-trial', 90, values, {}, { seed: 1 }));
    },
  },
  {
    task: 'pvt',
    description: 'Respond with space as soon as the counter starts; foreperiods of 2–10 s.',
    build: () => {
      const windows = { foreperiod_ms: { min: 2000, max: 10000 } };
      return study('pvt',
        '<h2>Reaction time</h2><p>A counter starts at a random moment. Press <b>space</b> as soon as it does.</p><p>Do not press before it starts.</p><p>Press any key to practise.</p>',
        block('pvt-trial', 3, {}, windows), block('pvt-trial', 20, {}, windows, { seed: 1 }));
    },
  },
  {
    task: 'task-switching',
    description: 'Letter–number pairs; the cue says whether to judge the letter or the number.',
    build: () => {
      const values = { trial_type: 'switch', cue_type: 'explicit' };
      const windows = { iti_ms: { min: 200, max: 400 } };
      return study('task-switching',
        '<h2>Letters and numbers</h2><p>A letter and a number appear. The cue above them tells you which one to judge.</p><p>Letter: vowel F, consonant J. Number: odd F, even J.</p><p>Press any key to practise.</p>',
        block('task-switching-trial', 8, values, windows), block('task-switching-trial', 48, values, windows, { seed: 1 }));
    },
  },
  {
    task: 'nback',
    description: '2-back with letters: J for a match, F for no match; about 30 % targets.',
    build: () => {
      const seq = (length, seed) => ({
        type: 'nback-trial-sequence', n: 2, length, seed, stimulus_mode: 'letters', stimulus_pool: 'A,B,C,D,E,F,G,H',
        target_probability: 0.3, response_paradigm: '2afc', match_key: 'j', nonmatch_key: 'f',
      });
      return study('nback',
        '<h2>2-back</h2><p>Letters appear one at a time. Press <b>J</b> if the letter is the same as two letters back, <b>F</b> if it is not.</p><p>Press any key to practise.</p>',
        seq(12, 'practice'), seq(48, 'main'));
    },
  },
  {
    task: 'rdm',
    description: 'Dots move left or right; coherence from easy to hard, respond with the arrow keys.',
    build: () => {
      const values = { direction: [0, 180] };
      return study('rdm',
        '<h2>Moving dots</h2><p>A cloud of dots moves. Some move together to the <b>left</b> or the <b>right</b>.</p><p>Press the left or right arrow key for the direction you see.</p><p>Press any key to practise.</p>',
        block('rdm-trial', 6, { ...values, coherence: 0.8 }, {}),
        block('rdm-trial', 40, { ...values, coherence: [0.05, 0.1, 0.2, 0.4] }, {}, { seed: 1 }));
    },
  },
];

/** Templates offered under "New" (one per task family), each with a title and a config. */
export const TEMPLATES = TEMPLATE_LIST.map((t) => ({ id: t.task, task: t.task, title: taskLabel(t.task), description: t.description, build: t.build }));

/** Fuller examples: several features together, for "New from example". */
export const EXAMPLES = [
  {
    id: 'flanker-drt-survey',
    title: 'Flanker with a secondary task and a questionnaire',
    description: 'Two flanker blocks in a loop under a detection response task, then a short survey with a conditional question.',
    build: () => {
      const values = { congruency: ['congruent', 'incongruent'], target_direction: ['left', 'right'] };
      return {
        ...newConfig('flanker'),
        timeline: [
          screen('<h2>Two tasks at once</h2><p>Respond to the middle arrow with F (left) and J (right).</p><p>A red dot will appear in the corner now and then: press <b>space</b> as soon as you see it.</p><p>Press any key to start.</p>', 'Welcome'),
          { type: 'detection-response-task-start', segment_label: 'main', response_key: 'space', drt_display_mode: 'corner_dot', location: 'top-right' },
          { type: 'loop', loop_id: 'loop_1', iterations: 2, items: [block('flanker-trial', 24, values, { iti_ms: { min: 300, max: 700 } }, { name: 'Flanker' })] },
          { type: 'detection-response-task-stop' },
          {
            type: 'survey-response', title: 'A few questions', submit_label: 'Finish',
            questions: [
              { id: 'focus', type: 'likert', prompt: 'How focused were you?', options: ['1', '2', '3', '4', '5'], required: true },
              { id: 'why', type: 'text', prompt: 'What distracted you?', visible_if: { question_id: 'focus', equals: '1' } },
            ],
          },
          closing(),
        ],
      };
    },
  },
  {
    id: 'stroop-conditions',
    title: 'Stroop from a conditions table',
    description: 'A randomized list of Stroop trials written row by row (word and ink), as in a spreadsheet.',
    build: () => {
      const rows = [['RED', 'RED'], ['GREEN', 'GREEN'], ['BLUE', 'BLUE'], ['RED', 'GREEN'], ['GREEN', 'BLUE'], ['BLUE', 'RED']];
      return {
        ...newConfig('stroop'),
        timeline: [
          screen('<h2>Colours</h2><p>Name the <b>ink colour</b>: 1 = red, 2 = green, 3 = blue, 4 = yellow.</p><p>Press any key to start.</p>', 'Welcome'),
          { type: 'randomize-group', random_group_id: 'group_1', items: rows.map(([word, ink]) => ({ type: 'stroop-trial', word, ink_color_name: ink })) },
          closing(),
        ],
      };
    },
  },
  {
    id: 'continuous-rdm',
    title: 'Continuous random dot motion',
    description: 'A continuous stream of moving dots in ten 3-second segments; direction and coherence change between segments.',
    build: () => ({
      ...newConfig('rdm', 'continuous'),
      timeline: [
        screen('<h2>Moving dots</h2><p>Press the left or right arrow key whenever you see the dots move that way. The direction changes now and then.</p><p>Press any key to start.</p>', 'Welcome'),
        block('rdm-trial', 10, { direction: [0, 180], stimulus_duration: 3000, response_deadline: 3000 },
          { coherence: { min: 0.1, max: 0.6 } }, { name: 'Stream', seed: 1 }),
      ],
    }),
  },
];
