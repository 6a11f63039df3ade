// What stops a study from running as the researcher means it, beyond schema validation:
// - what this version's Interpreter refuses or ignores, in the Interpreter's own sentence (its
//   checker, ../interpreter/support.js, is the one source of truth; nothing is listed here);
// - an empty timeline, a survey without questions, a continuous study without a duration.
// Each problem carries a JSON pointer into the config, so the editor can show it at its item
// or field. Pure module (no DOM).

import { findUnsupported } from '../interpreter/support.js';
import { walk } from './model.js';

/** The Interpreter's refusals: [{where, item, message, path}]. */
export function whatWillNotRun(config) {
  try {
    return findUnsupported(config).map((u) => ({ ...u, path: u.path ?? pointerFromWhere(u.where) }));
  } catch (err) {
    return [{ where: 'Study', item: '', message: `The Interpreter's own check could not read this config (${err.message}).`, path: '/' }];
  }
}

// "Timeline item 3 › 2" -> /timeline/2/items/1; "Setting "a.b"" -> /a/b (older checkers had no path).
export function pointerFromWhere(where) {
  const item = /^Timeline item ([\d › ]+)/.exec(where ?? '');
  if (item) return `/timeline/${item[1].split('›').map((n) => Number(n.trim()) - 1).join('/items/')}`;
  const setting = /^Setting "([^"]+)"/.exec(where ?? '');
  return setting ? `/${setting[1].split('.').join('/')}` : '/';
}

const pointer = (path) => `/timeline/${path.join('/items/')}`;

/** Problems the schema cannot express: [{path, message}]. */
export function studyProblems(config) {
  const out = [];
  if (!Array.isArray(config.timeline) || config.timeline.length === 0) {
    out.push({ path: '/timeline', message: 'The timeline is empty: add at least one item, or participants have nothing to do.' });
  }
  if (config.experiment_type === 'continuous' && !(Number(config.duration) > 0)) {
    out.push({ path: '/duration', message: 'A continuous study needs a duration in seconds (how long the stream runs).' });
  }
  for (const { path, item } of walk(config)) {
    if (item && /^(survey-response|mw-probe)$/.test(item.type) && !(Array.isArray(item.questions) && item.questions.length)) {
      out.push({ path: `${pointer(path)}/questions`, message: 'This survey has no questions; add at least one.' });
    }
  }
  return out;
}
