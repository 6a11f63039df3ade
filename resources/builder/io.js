// Files and the server: import, export, publish, open a published study, add images.
// Everything here reports through app.setStatus and changes the study through app.loadStudy.

import * as m from './model.js';
import { el, clear } from './dom.js';
import * as api from './api.js';
import { loadRecent, rememberAssets } from './assets.js';

const $ = (id) => document.getElementById(id);

export function createIo(app) {
  async function importFile(file) {
    try {
      const config = m.parseConfigText(await file.text());
      const base = file.name.replace(/\.json$/i, '');
      app.loadStudy(m.studyFromConfig(config, base), config, `Imported ${file.name}: ${config.timeline.length} timeline item(s).`);
    } catch (err) {
      app.setStatus('error', `Could not import ${file.name}: ${err.message}`);
    }
  }

  function exportFile() {
    const text = m.exportText(app.state.config);
    const url = URL.createObjectURL(new Blob([text], { type: 'application/json' }));
    const a = el('a', { href: url, download: `${app.state.study.study_slug || 'cogflow-study'}.json` });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
    app.setStatus('success', `Exported ${a.download}.`);
  }

  async function publish() {
    if (!app.ready('publishing', { needStudy: true })) return;
    if (!app.state.config.timeline?.length) {
      app.setStatus('error', 'The timeline is empty: add at least one component before publishing, or a participant would have nothing to do.');
      return;
    }
    const button = $('publish');
    button.disabled = true;
    app.setStatus('info', 'Publishing…');
    try {
      const res = await api.publishConfig(app.state.study, m.exportConfig(app.state.config));
      const slug = res.study_slug ?? app.state.study.study_slug;
      const label = res.config_version_label ?? app.state.study.config_version_label;
      // Record what the server actually used (the central server may adjust slug or label).
      app.state.study = { ...app.state.study, study_slug: slug, config_version_label: label, slug_edited: true };
      app.saveSoon();
      app.drawHeader();
      let adjusted = res.study_slug_adjusted ? ' (the server adjusted the name)' : '';
      if (res.config_version_label_adjusted) adjusted = `: version ${res.requested_config_version_label} already has collected runs, so these changes are stored as a new version and those runs keep theirs`;
      app.setStatus('success', `Published ${slug}, version ${label}${adjusted}.`, { href: `../interpreter/?study=${encodeURIComponent(slug)}`, text: 'Run it in the Interpreter' });
    } catch (err) {
      app.setStatus('error', `Publishing failed: ${err.message}`);
      // Field errors about the study's publish fields are shown at those fields too.
      if (err.body && typeof err.body === 'object' && !err.body.error && !err.body.detail) {
        app.serverStudyErrors = Object.fromEntries(Object.entries(err.body)
          .filter(([k]) => ['study_name', 'study_slug', 'config_version_label', 'runtime_mode'].includes(k))
          .map(([k, v]) => [k, Array.isArray(v) ? v.join(' ') : String(v)]));
        app.select(null);
      }
    } finally {
      button.disabled = false;
    }
  }

  async function openDialog() {
    const dialog = $('open-dialog');
    const list = $('open-list');
    clear(list);
    list.append(el('li', {}, 'Loading…'));
    dialog.showModal();
    try {
      const { studies } = await api.listStudies();
      clear(list);
      if (!studies.length) list.append(el('li', {}, 'No study has been published yet.'));
      for (const s of studies) {
        const b = el('button', { type: 'button', class: 'link' }, `${s.study_name} `, el('code', {}, s.study_slug), ` · ${s.latest_config_version ?? 'no version'}`);
        b.addEventListener('click', () => { dialog.close(); openStudy(s.study_slug); });
        list.append(el('li', {}, b));
      }
      list.querySelector('button')?.focus();
    } catch (err) {
      clear(list);
      list.append(el('li', { class: 'error' }, `Could not list the studies: ${err.message}`));
    }
  }

  async function openStudy(slug) {
    try {
      const res = await api.latestConfig(slug);
      const props = res.study_properties ?? {};
      const config = m.importConfig(res.config);
      const study = {
        ...m.emptyStudy().study,
        study_name: props.study_name ?? slug, study_slug: props.study_slug ?? slug, slug_edited: true,
        config_version_label: res.config_version_label ?? res.configs?.[0]?.config_version_label ?? 'v1',
        runtime_mode: props.runtime_mode ?? '',
      };
      app.loadStudy(study, config, `Opened ${study.study_slug}, version ${study.config_version_label}.`);
    } catch (err) {
      app.setStatus('error', `Could not open ${slug}: ${err.message}`);
    }
  }

  /** Choose images from disk, store them on the server, hand their /media/ URLs to `apply`. */
  const pickImages = ({ multiple, apply }) => {
    const input = $('image-file');
    input.multiple = !!multiple;
    input.value = '';
    input.onchange = async () => {
      const files = [...input.files];
      const urls = [];
      for (const f of files) {
        app.setStatus('info', `Adding ${f.name}…`);
        try {
          const res = await api.uploadMedia(f);
          urls.push(res.url);
        } catch (err) {
          app.setStatus('error', `Could not add ${f.name}: ${err.message}`);
          return;
        }
      }
      if (urls.length) {
        rememberAssets(urls.map((url, i) => ({ url, name: files[i].name })));
        apply(urls);
        app.setStatus('success', `Added ${files.map((f) => f.name).join(', ')}.`);
      }
    };
    input.click();
  };

  /** Images from disk into the asset library only: resolves to [{url, name}]. */
  const uploadImages = () => new Promise((resolve) => {
    pickImages({ multiple: true, apply: () => resolve(loadRecent().slice(-20)) });
  });

  return { importFile, exportFile, publish, openDialog, openStudy, pickImages, uploadImages };
}
