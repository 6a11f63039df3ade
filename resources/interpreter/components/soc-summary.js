// Per-sub-task summary of a SOC session (`subtasks_summary`), grouped by kind as the reference
// groups it: {sart_like: [...], nback_like: [...], flanker_like: [...], wcst_like: [...], pvt_like: [...]}.

const round2 = (x) => (typeof x === 'number' && Number.isFinite(x) ? Math.round(x * 100) / 100 : x);

export function summarise(windows) {
  const out = {};
  for (const w of windows) {
    const key = w.kind.replace('-', '_');
    const s = w.task.summary();
    const entry = { subtask_index: w.index, subtask_title: w.title, started: w.task.state.started, ended: w.task.state.ended };
    for (const [k, v] of Object.entries(s)) entry[k] = round2(v);
    (out[key] ??= []).push(entry);
  }
  return out;
}
