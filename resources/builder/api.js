// The v1 contract calls the Builder makes. Relative URLs, so the Builder works against whichever
// server serves it at /builder/ (the embedded one, or the central one); same-origin cookies,
// and the csrftoken cookie echoed as X-CSRFToken when a session has one.

import { serverErrorText } from './model.js';

const API = '../api/v1/';
export const BUILDER_VERSION = 'cogflow-desktop-builder/1.0';

export class ApiError extends Error {
  constructor(status, body, message) {
    super(message ?? serverErrorText(status, body));
    this.status = status;
    this.body = body;
  }
}

function csrfToken() {
  const m = /(?:^|;\s*)csrftoken=([^;]+)/.exec(document.cookie || '');
  return m ? decodeURIComponent(m[1]) : null;
}

async function call(method, path, { json, body, headers = {} } = {}) {
  const h = { Accept: 'application/json', ...headers };
  if (json !== undefined) h['Content-Type'] = 'application/json';
  const token = csrfToken();
  if (token && method !== 'GET') h['X-CSRFToken'] = token;
  let res;
  try {
    res = await fetch(API + path, {
      method, credentials: 'same-origin', headers: h, body: json !== undefined ? JSON.stringify(json) : body,
    });
  } catch {
    throw new ApiError(0, null, 'The CogFlow server did not answer; check that CogFlow Desktop is running.');
  }
  let data = null;
  try { data = await res.json(); } catch { data = null; }
  if (!res.ok) throw new ApiError(res.status, data);
  return data;
}

export const listStudies = () => call('GET', 'studies');
export const latestConfig = (slug) => call('GET', `studies/${encodeURIComponent(slug)}/latest-config`);

export function publishConfig(study, config) {
  const body = {
    study_slug: study.study_slug,
    study_name: study.study_name.trim(),
    config_version_label: study.config_version_label.trim(),
    builder_version: BUILDER_VERSION,
    config,
  };
  if (study.runtime_mode) body.runtime_mode = study.runtime_mode;
  return call('POST', 'configs/publish', { json: body });
}

/** Store an image file on the server; resolves to {sha256, url, filename, content_type, size}. */
export function uploadMedia(file) {
  const form = new FormData();
  form.append('file', file, file.name);
  return call('POST', 'media', { body: form });
}
