// Component registry: component type -> module with run(el, params, ctx) -> Promise<row data>.

import * as screen from './screen.js';
import * as image from './image.js';
import * as button from './button.js';
import * as survey from './survey.js';
import * as calibration from './calibration.js';
import * as flanker from './flanker.js';
import * as sart from './sart.js';
import * as stroop from './stroop.js';
import * as simon from './simon.js';
import * as pvt from './pvt.js';
import * as nback from './nback.js';
import * as taskSwitching from './task-switching.js';
import * as rdm from './rdm.js';
import * as rdmContinuous from './rdm-continuous.js';
import * as drt from './drt.js';
import * as mot from './mot.js';
import * as cip from './cip.js';
import { withMouseTracking } from '../mouse-tracking.js';
import * as unsupported from './unsupported.js';
import * as gabor from './gabor.js';
import * as gaborLearning from './gabor-learning.js';
import * as rewardScreens from './reward-screens.js';
import * as miniblockBreak from './break.js';
import * as socDashboard from './soc-dashboard.js';
import * as eyeTracking from './eye-tracking.js';

const REGISTRY = {
  'html-keyboard-response': screen, instructions: screen,
  'image-keyboard-response': image, 'html-button-response': button,
  'survey-response': survey, 'mw-probe': survey, 'visual-angle-calibration': calibration,
  'flanker-trial': flanker, 'sart-trial': sart, 'stroop-trial': stroop,
  'emotional-stroop-trial': { run: stroop.runEmotional }, 'simon-trial': simon, 'pvt-trial': pvt,
  'nback-trial-sequence': nback, 'nback-block': nback, 'task-switching-trial': taskSwitching,
  'rdm-trial': rdm, 'rdm-practice': rdm, 'rdm-dot-groups': rdm, 'rdm-adaptive': rdm,
  'rdm-continuous': rdmContinuous, 'nback-continuous': { run: nback.runStream }, 'miniblock-break': miniblockBreak,
  'mot-trial': mot, 'continuous-image-presentation': cip,
  'detection-response-task-start': { run: drt.runStart }, 'detection-response-task-stop': { run: drt.runStop },
  unsupported,
  'gabor-trial': gabor, 'gabor-quest': gabor, 'gabor-learning': gaborLearning, 'reward-settings': rewardScreens,
  // SOC dashboard; Builder helper items compile to soc-dashboard sessions (compiler.js).
  'soc-dashboard': socDashboard,
  'soc-subtask-sart-like': socDashboard, 'soc-subtask-nback-like': socDashboard, 'soc-subtask-flanker-like': socDashboard,
  'soc-subtask-wcst-like': socDashboard, 'soc-subtask-pvt-like': socDashboard, 'soc-dashboard-icon': socDashboard,
  // Put around the study by the compiler when data_collection turns eye tracking on.
  'eye-tracking-start': { run: eyeTracking.runStart }, 'eye-tracking-calibration': { run: eyeTracking.runCalibration },
  'eye-tracking-stop': { run: eyeTracking.runStop },
};
// Trials covered by a reward policy are scored as they end (see reward-screens.js).
for (const k of Object.keys(REGISTRY)) REGISTRY[k] = rewardScreens.withRewards(REGISTRY[k]);

// Every module records the mouse around its trial when the run asks for it (mouse-tracking.js).
export function componentFor(type) {
  return withMouseTracking(REGISTRY[type] ?? REGISTRY.unsupported);
}

export const SUPPORTED_TYPES = Object.keys(REGISTRY);
