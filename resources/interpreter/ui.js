// Screens the Interpreter shows itself (not trials): loading, errors, saving, thanks.

export function escapeHtml(s) {
  return String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
}

export function clear(root) {
  root.innerHTML = '';
}

export function showMessage(root, { title, body = '', kind = 'info', html = null }) {
  root.innerHTML = `<div class="cf-message cf-${kind}" role="${kind === 'error' ? 'alert' : 'status'}">
    <h1>${escapeHtml(title)}</h1>${html ?? `<p>${escapeHtml(body)}</p>`}</div>`;
}

export function showInvalidConfig(root, errors, where) {
  const items = errors.slice(0, 30).map((e) => `<li><code>${escapeHtml(e.path)}</code> ${escapeHtml(e.message)}</li>`).join('');
  const more = errors.length > 30 ? `<p>…and ${errors.length - 30} more.</p>` : '';
  showMessage(root, {
    kind: 'error', title: 'This study configuration is not valid',
    html: `<p>The Interpreter checked the configuration${where ? ` of <b>${escapeHtml(where)}</b>` : ''} against the CogFlow config schema before the first trial and found these problems. No trial was shown. Please fix the study in the Builder and publish it again.</p><ul class="cf-errors">${items}</ul>${more}`,
  });
}

export function showThanks(root, status) {
  const aborted = status === 'failed';
  showMessage(root, {
    kind: 'done', title: aborted ? 'The session was stopped' : 'Thank you, your responses are saved',
    body: aborted ? 'The responses collected so far are saved.' : 'You can tell the experimenter that you are done.',
  });
  root.dataset.cogflowState = 'saved';
}

export function showSaveProblem(root, err, attempt) {
  showMessage(root, {
    kind: 'error', title: 'Your responses could not be saved yet',
    body: `Please do not close this window; the app keeps trying (attempt ${attempt + 1}). Tell the experimenter if this message stays. (${err && err.message ? err.message : err})`,
  });
  root.dataset.cogflowState = 'retrying';
}

export function showPreviewEnd(root, summary) {
  const rows = Object.entries(summary.components).map(([t, s]) =>
    `<tr><td>${escapeHtml(t)}</td><td>${s.count}</td><td>${s.mean_rt_ms ?? '–'}</td><td>${s.accuracy ?? '–'}</td></tr>`).join('');
  showMessage(root, {
    kind: 'done', title: 'Preview finished (nothing was stored)',
    html: `<table class="cf-summary"><tr><th>Component</th><th>Trials</th><th>Mean RT (ms)</th><th>Accuracy</th></tr>${rows}</table>`,
  });
  root.dataset.cogflowState = 'preview-done';
}

// The pause screen (window.cogflowPause): covers the stimulus and the DRT until resumed.
export function showPaused() {
  const el = document.createElement('div');
  el.className = 'cf-paused';
  el.dataset.role = 'paused';
  el.setAttribute('role', 'status');
  el.innerHTML = '<div class="cf-message"><h1>Paused</h1><p>The experimenter has paused the session. Please wait.</p></div>';
  document.body.appendChild(el);
  return el;
}
