// The SOC dashboard's desktop: wallpaper, task bar with title and clock, desktop icons, a grid
// of application windows (one per sub-task) and the click-to-begin instruction pop-ups.

import { escapeHtml } from './soc-common.js';
import { mediaUrl } from './common.js';

// The dashboard's own stylesheet, a same-origin file (no inline <style>: the CSP forbids it).
export function ensureStyles() {
  if (document.querySelector('link[data-soc-styles]')) return;
  const link = document.createElement('link');
  link.rel = 'stylesheet';
  link.href = new URL('../soc.css', import.meta.url).href;
  link.dataset.socStyles = '1';
  document.head.appendChild(link);
}

// Waits (bounded) until the stylesheet applied, so the first frame is already laid out.
export function stylesReady() {
  const link = document.querySelector('link[data-soc-styles]');
  if (!link || link.sheet) return Promise.resolve();
  return new Promise((resolve) => {
    link.addEventListener('load', resolve, { once: true });
    link.addEventListener('error', resolve, { once: true });
    setTimeout(resolve, 2000);
  });
}

const CSS_COLOR = /^(#[0-9a-f]{3,8}|[a-z]+|rgba?\([\d\s.,%]+\)|hsla?\([\d\s.,%deg]+\))$/i;

export function buildShell(el, p, windows, icons, cols) {
  const bg = CSS_COLOR.test(String(p.background_color ?? '').trim()) ? String(p.background_color).trim() : '#0b1220';
  el.innerHTML = `<div class="soc-shell" data-role="soc-dashboard">
    <div class="soc-wallpaper"></div>
    <div class="soc-taskbar"><span class="soc-title"></span><span class="soc-clock" data-role="clock"></span></div>
    <div class="soc-desktop">
      <div class="soc-icons">${icons.map((ico, i) => `<div class="soc-icon${p.icons_clickable === false ? '' : ' soc-clickable'}" role="button" tabindex="0" data-icon="${i}"><div class="soc-ico">${escapeHtml(ico.icon_text || ico.label.slice(0, 2).toUpperCase())}</div><div class="soc-lbl">${escapeHtml(ico.label)}</div></div>`).join('')}</div>
      <div class="soc-windows" style="grid-template-columns:repeat(${cols},minmax(0,1fr))"></div>
    </div></div>`;
  const shell = el.firstElementChild;
  shell.querySelector('.soc-title').textContent = String(p.title ?? 'SOC Dashboard');
  const wallpaper = shell.querySelector('.soc-wallpaper');
  const url = String(p.wallpaper_url ?? '').trim();
  if (url) {
    wallpaper.style.backgroundImage = `url(${JSON.stringify(mediaUrl(url))})`;
    wallpaper.style.backgroundSize = 'cover';
  } else {
    wallpaper.style.background = `linear-gradient(135deg, ${bg}, #070b13)`;
  }
  const host = shell.querySelector('.soc-windows');
  for (const w of windows) {
    const win = document.createElement('section');
    win.className = 'soc-window soc-hidden';
    win.dataset.subtaskIndex = String(w.index);
    win.dataset.kind = w.kind;
    win.innerHTML = '<div class="soc-titlebar"></div><div class="soc-content"></div>';
    win.firstElementChild.textContent = `${String(p.title ?? 'SOC Dashboard')} · ${w.title}`;
    host.appendChild(win);
    w.el = win;
    w.body = win.lastElementChild;
  }
  return { shell, clock: shell.querySelector('[data-role="clock"]'), iconsHost: shell.querySelector('.soc-icons') };
}

// A pop-up over a window with the sub-task's instructions; a click (or Enter/Space on it), not
// sooner than 350 ms after it appeared, dismisses it and calls onStart(event).
export function instructionPopup(win, title, html, onStart) {
  const ov = document.createElement('div');
  ov.className = 'soc-popup';
  ov.dataset.role = 'soc-instructions';
  ov.innerHTML = '<div class="soc-panel" role="button" tabindex="0"><h3></h3><div class="soc-body"></div><div class="soc-hint">Click this popup to begin.</div></div>';
  ov.querySelector('h3').textContent = title;
  ov.querySelector('.soc-body').innerHTML = html; // authored by the researcher, as in every screen
  const shownAt = performance.now();
  const go = (ev) => {
    if (ev.timeStamp - shownAt < 350) return;
    ov.remove();
    onStart(ev);
  };
  ov.addEventListener('click', go);
  ov.addEventListener('keydown', (ev) => { if (ev.key === 'Enter' || ev.key === ' ') { ev.preventDefault(); go(ev); } });
  win.el.appendChild(ov);
  return ov;
}
