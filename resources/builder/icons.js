// Small line icons for the library, the timeline and the inspector, drawn as inline SVG
// elements (no image files, no inline markup strings: the page's CSP needs neither).
// Each icon is a list of shapes on a 24x24 grid.

const NS = 'http://www.w3.org/2000/svg';

const SHAPES = {
  text: [['path', 'M5 6h14M5 10h14M5 14h14M5 18h9']],
  button: [['rect', 4, 7, 16, 10, 3], ['path', 'M9 12h6']],
  image: [['rect', 3, 5, 18, 14, 2], ['path', 'M3 17l5-5 4 4 3-3 6 6'], ['circle', 16, 9, 1.6]],
  survey: [['rect', 4, 4, 5, 5, 1], ['path', 'M11 6.5h9M11 16.5h9M5.5 16.5l1.5 1.5 2.5-3']],
  ruler: [['path', 'M3 15L15 3l6 6L9 21z M7 11l2 2M10 8l2 2M13 5l2 2']],
  drt: [['circle', 12, 12, 8], ['circle', 12, 12, 3, true]],
  'drt-stop': [['circle', 12, 12, 8], ['rect', 9, 9, 6, 6, 1]],
  block: [['rect', 4, 4, 16, 5, 1], ['rect', 4, 10, 16, 5, 1], ['rect', 4, 16, 16, 4, 1]],
  loop: [['path', 'M17 7h-8a5 5 0 0 0 0 10h6M17 7l-3-3M17 7l-3 3']],
  shuffle: [['path', 'M3 7h4l10 10h4M3 17h4l3-3M14 10l3-3h4M18 4l3 3-3 3M18 14l3 3-3 3']],
  flanker: [['path', 'M3 12h4M3 12l2-2M3 12l2 2M10 12h4M12 10l2 2-2 2M17 12h4M17 12l2-2M17 12l2 2']],
  stroop: [['path', 'M4 18l4-12 4 12M5.5 14h5M15 18v-7M15 13a3 3 0 1 1 3 3']],
  simon: [['circle', 7, 12, 3.5, true], ['circle', 17, 12, 3.5]],
  digit: [['path', 'M8 5h8l-5 14M4 12h2M18 12h2']],
  clock: [['circle', 12, 13, 7.5], ['path', 'M12 9v4l3 2M10 3h4']],
  switch: [['path', 'M4 8h13M14 5l3 3-3 3M20 16H7M10 13l-3 3 3 3']],
  nback: [['rect', 3, 7, 5, 10, 1], ['rect', 10, 7, 5, 10, 1], ['rect', 17, 7, 4, 10, 1], ['path', 'M5.5 5c2-3 10-3 12 0']],
  dots: [['circle', 6, 7, 1.3, true], ['circle', 12, 5, 1.3, true], ['circle', 17, 9, 1.3, true], ['circle', 8, 13, 1.3, true],
    ['circle', 15, 15, 1.3, true], ['circle', 6, 18, 1.3, true], ['circle', 12, 19, 1.3, true], ['path', 'M14 11h6M18 9l2 2-2 2']],
  gabor: [['circle', 12, 12, 8], ['path', 'M8 5.5v13M12 4v16M16 5.5v13']],
  mot: [['circle', 7, 8, 2.2], ['circle', 16, 7, 2.2, true], ['circle', 9, 17, 2.2, true], ['circle', 17, 16, 2.2], ['path', 'M9.5 8.5l4 -1']],
  dashboard: [['rect', 3, 4, 18, 16, 2], ['path', 'M3 8h18M8 8v12']],
};

/** An SVG icon element (decorative: hidden from assistive technology). */
export function icon(name, { size = 18 } = {}) {
  const svg = document.createElementNS(NS, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('width', String(size));
  svg.setAttribute('height', String(size));
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('focusable', 'false');
  svg.classList.add('icon', `icon-${name}`);
  for (const [kind, ...a] of SHAPES[name] ?? SHAPES.text) {
    const node = document.createElementNS(NS, kind);
    if (kind === 'path') node.setAttribute('d', a[0]);
    if (kind === 'rect') ['x', 'y', 'width', 'height', 'rx'].forEach((k, i) => node.setAttribute(k, String(a[i])));
    if (kind === 'circle') {
      ['cx', 'cy', 'r'].forEach((k, i) => node.setAttribute(k, String(a[i])));
      if (a[3]) node.classList.add('filled');
    }
    svg.append(node);
  }
  return svg;
}

export const ICON_NAMES = Object.keys(SHAPES);
