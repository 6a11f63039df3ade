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

export function showPreviewEnd(root, summary, unsupported = []) {
  const rows = Object.entries(summary.components).map(([t, s]) =>
    `<tr><td>${escapeHtml(t)}</td><td>${s.count}</td><td>${s.mean_rt_ms ?? '–'}</td><td>${s.accuracy ?? '–'}</td></tr>`).join('');
  const warn = unsupported.length
    ? `<p class="cf-refused-note">This preview ran parts this version does not support, so it is not a valid run:</p><ul class="cf-errors">${unsupported.map((m) => `<li>${escapeHtml(m)}</li>`).join('')}</ul>`
    : '';
  showMessage(root, {
    kind: 'done', title: 'Preview finished (nothing was stored)',
    html: `${warn}<table class="cf-summary"><tr><th>Component</th><th>Trials</th><th>Mean RT (ms)</th><th>Accuracy</th></tr>${rows}</table>`,
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

// The config asks for things this version does not honour: nothing runs; one sentence each.
export function showRefusal(root, messages, where) {
  const items = messages.slice(0, 40).map((m) => `<li>${escapeHtml(m)}</li>`).join('');
  const more = messages.length > 40 ? `<p>…and ${messages.length - 40} more.</p>` : '';
  showMessage(root, {
    kind: 'error', title: 'This study uses parts this version of CogFlow cannot run',
    html: `<p>The Interpreter checked the configuration${where ? ` of <b>${escapeHtml(where)}</b>` : ''} before the first trial. No trial was shown, because running it would leave out or change what the study asks for:</p><ul class="cf-errors" data-role="refusal">${items}</ul>${more}<p>Please tell the experimenter. A researcher can change the study in the Builder, or look at it with the Builder's preview.</p>`,
  });
}

// A researcher preview that runs refused parts anyway (?preview=1&allow_unsupported=1).
export function showUnsupportedBanner(messages) {
  const b = document.createElement('div');
  b.className = 'cf-unsupported-banner';
  b.dataset.role = 'unsupported-banner';
  b.setAttribute('role', 'status');
  b.title = messages.join('\n');
  b.textContent = `Researcher preview with ${messages.length} unsupported part${messages.length === 1 ? '' : 's'}: not a valid run. ${messages[0]}${messages.length > 1 ? ' …' : ''}`;
  document.body.appendChild(b);
}
