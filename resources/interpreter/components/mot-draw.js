// MOT display: the arena canvas (backing store scaled by devicePixelRatio, drawn in arena px),
// the instruction line and the probe's input row.

import { escapeHtml, stage } from './common.js';

const TAU = Math.PI * 2;
const RING = { hit: '#00cc44', missed: '#cc0000', false_alarm: '#ff8800', probe: '#facc15' };

export function createView(el, s, g) {
  const box = stage(el, `<div class="cf-mot" style="display:flex;flex-direction:column;align-items:center;gap:8px">
    <canvas class="cf-canvas" data-role="mot" style="max-width:96vw;max-height:82vh;background:${escapeHtml(s.background_color)}"></canvas>
    <div data-role="mot-instructions" style="min-height:1.6em;font-size:18px;color:#ccc;text-align:center"></div>
    <div data-role="mot-input" class="cf-buttons" style="margin-top:0"></div></div>`);
  const canvas = box.querySelector('canvas');
  const dpr = window.devicePixelRatio || 1;
  canvas.width = Math.round(s.width * dpr);
  canvas.height = Math.round(s.height * dpr);
  canvas.style.width = `${s.width}px`;
  canvas.style.aspectRatio = `${s.width} / ${s.height}`;
  const c = canvas.getContext('2d');
  c.setTransform(dpr, 0, 0, dpr, 0, 0);
  const view = {
    canvas, c, s, g,
    instructions: box.querySelector('[data-role="mot-instructions"]'),
    input: box.querySelector('[data-role="mot-input"]'),
    // Client coordinates -> arena px (the canvas may be scaled down to fit the window).
    toArena(clientX, clientY) {
      const b = canvas.getBoundingClientRect();
      return { x: ((clientX - b.left) * s.width) / b.width, y: ((clientY - b.top) * s.height) / b.height };
    },
  };
  return view;
}

function clearArena(v) {
  const { c, s } = v;
  c.fillStyle = s.background_color;
  c.fillRect(0, 0, s.width, s.height);
}

function border(v) {
  const { c, s, g } = v;
  if (!g.border) return;
  c.strokeStyle = s.border_color;
  c.lineWidth = g.border;
  c.beginPath();
  if (s.circle) c.arc(g.cx, g.cy, g.borderRadius, 0, TAU);
  else c.rect(g.border / 2, g.border / 2, s.width - g.border, s.height - g.border);
  c.stroke();
}

function ring(c, o, r, color, width) {
  c.beginPath();
  c.arc(o.x, o.y, r + 6, 0, TAU);
  c.strokeStyle = color;
  c.lineWidth = width;
  c.stroke();
}

// One frame. `st`: {objects, cued: Set|null (targets drawn in the cue colour), selected: Set,
// probe: index|null, numbers: bool, rings: Map(index -> kind), fixation: bool, blank: bool}.
export function drawFrame(v, st) {
  const { c, s, g } = v;
  clearArena(v);
  if (!st.blank) {
    c.save();
    if (s.circle) { c.beginPath(); c.arc(g.cx, g.cy, g.clipRadius, 0, TAU); c.clip(); }
    st.objects.forEach((o, i) => {
      const lit = (st.cued && st.cued.has(i)) || (st.selected && st.selected.has(i));
      c.beginPath();
      c.arc(o.x, o.y, s.radius, 0, TAU);
      c.fillStyle = lit ? s.target_cue_color : s.object_color;
      c.fill();
      c.strokeStyle = 'rgba(136,136,136,0.6)';
      c.lineWidth = 1.5;
      c.stroke();
      if (st.numbers) {
        c.font = `bold ${Math.max(10, Math.floor(s.radius * 0.75))}px sans-serif`;
        c.textAlign = 'center';
        c.textBaseline = 'middle';
        c.fillStyle = lit ? '#111' : s.background_color;
        c.fillText(String(i + 1), o.x, o.y);
      }
      if (st.probe === i) ring(c, o, s.radius, RING.probe, 3);
      const kind = st.rings && st.rings.get(i);
      if (kind) ring(c, o, s.radius, RING[kind], 4);
    });
    if (st.fixation) {
      c.fillStyle = s.fixation_color;
      c.font = `700 ${Math.round(s.fixation_size)}px sans-serif`;
      c.textAlign = 'center';
      c.textBaseline = 'middle';
      c.fillText(s.fixation_symbol, s.width / 2, s.height / 2);
    }
    c.restore();
  }
  border(v);
}

// Feedback rings: hits green, missed targets red, false alarms orange; recognition probes
// green/red by whether the answer was right.
export function feedbackRings(targets, selected, recognition) {
  const rings = new Map();
  if (recognition) {
    for (const t of recognition) rings.set(t.probe_object_index, t.correct ? 'hit' : 'missed');
    return rings;
  }
  const tset = new Set(targets);
  for (const i of targets) rings.set(i, selected.has(i) ? 'hit' : 'missed');
  for (const i of selected) if (!tset.has(i)) rings.set(i, 'false_alarm');
  return rings;
}
