// Per-task result summary (counts, mean RT, accuracy) computed from the stored trial rows.

const NON_TASK = new Set(['html-keyboard-response', 'instructions', 'html-button-response', 'image-keyboard-response',
  'survey-response', 'mw-probe', 'visual-angle-calibration', 'detection-response-task-start',
  'detection-response-task-stop', 'unsupported']);

function mean(xs) {
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null;
}

function median(xs) {
  if (!xs.length) return null;
  const s = xs.slice().sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function round2(x) {
  return x === null ? null : Math.round(x * 100) / 100;
}

export function summarise(rows) {
  const rts = rows.map((r) => r.rt_ms).filter((x) => typeof x === 'number' && Number.isFinite(x));
  const scored = rows.filter((r) => r.correct === true || r.correct === false);
  const nCorrect = scored.filter((r) => r.correct === true).length;
  const correctRts = rows.filter((r) => r.correct === true && typeof r.rt_ms === 'number').map((r) => r.rt_ms);
  const s = {
    count: rows.length,
    responded: rows.filter((r) => r.response !== null && r.response !== undefined).length,
    timeouts: rows.filter((r) => r.ended_reason === 'timeout').length,
    mean_rt_ms: round2(mean(rts)),
    median_rt_ms: round2(median(rts)),
    mean_rt_correct_ms: round2(mean(correctRts)),
    scored: scored.length,
    correct: nCorrect,
    accuracy: scored.length ? round2(nCorrect / scored.length) : null,
  };
  return s;
}

export function computeSummary(trials, { taskType = null, status = 'completed' } = {}) {
  const byComponent = {};
  for (const r of trials) (byComponent[r.component_type] ??= []).push(r);
  const components = {};
  for (const [type, rows] of Object.entries(byComponent)) {
    components[type] = summarise(rows);
    if (type === 'pvt-trial') {
      components[type].false_starts = rows.filter((r) => r.false_start).length;
      components[type].lapses = rows.filter((r) => r.lapse).length;
    }
  }
  const taskRows = trials.filter((r) => !NON_TASK.has(r.component_type) && r.component_type !== 'drt-stimulus');
  return {
    format: 'cogflow-result-summary-v1',
    status,
    task_type: taskType,
    trial_count: trials.length,
    task: summarise(taskRows),
    components,
    unsupported_components: (byComponent.unsupported || []).map((r) => r.original_type),
  };
}
