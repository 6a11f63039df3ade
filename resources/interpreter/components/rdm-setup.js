// Turns resolved RDM parameters into dot groups and the correct answer (shared by the trial and
// continuous RDM components).

import { num } from './common.js';
import { resolveDirection, sideOf } from './rdm-engine.js';

export function speedPxPerS(p, prefix = '') {
  if (p[`${prefix}speed_px_per_s`] !== undefined) return num(p[`${prefix}speed_px_per_s`], 300);
  // Builder speeds are px per 60 Hz frame.
  return num(p[`${prefix}speed`], num(p.speed, 5)) * 60;
}

export function rdmGroups(p, rng) {
  const total = Math.max(1, Math.round(num(p.total_dots, 150)));
  const color = p.dot_color || '#ffffff';
  const grouped = p.source_type === 'rdm-dot-groups' || p.enable_groups === true || p.group_1_coherence !== undefined;
  if (!grouped) {
    const direction = resolveDirection(p.direction, rng, 0);
    return { groups: [{ count: total, coherence: num(p.coherence, 0.5), direction, speed: speedPxPerS(p), color }], target: 0 };
  }
  const pct1 = Math.min(100, Math.max(0, num(p.group_1_percentage, 50)));
  const n1 = Math.round((total * pct1) / 100);
  const mk = (i, count) => ({
    count,
    coherence: num(p[`group_${i}_coherence`], num(p.coherence, 0.5)),
    direction: resolveDirection(p[`group_${i}_direction`] ?? p.direction, rng, i === 1 ? 0 : 180),
    speed: speedPxPerS(p, `group_${i}_`),
    color: p[`group_${i}_color`] || color,
  });
  const groups = [mk(1, n1), mk(2, total - n1)];
  // response_target_group 1 or 2 (rdm-params.js reads 'group_2' as 2); without one the
  // reference answers to the more coherent group.
  const g = Number(p.response_target_group);
  const target = g === 1 || g === 2 ? g - 1 : (groups[1].coherence > groups[0].coherence ? 1 : 0);
  return { groups, target };
}

export function fieldOptions(p) {
  const width = num(p.canvas_width, 600);
  const height = num(p.canvas_height, 600);
  return {
    width, height, background: p.background_color || '#404040',
    shape: p.aperture_shape === 'square' ? 'square' : 'circle', diameter: num(p.aperture_diameter, 350),
    centerX: num(p.center_x, width / 2), centerY: num(p.center_y, height / 2),
    outline: p.show_aperture_outline === true || p.show_aperture_outline === 'true',
    dotSize: num(p.dot_size, 4), lifetimeMs: num(p.lifetime_frames, 60) * (1000 / 60),
    noiseType: ['random_walk', 'random_position'].includes(p.noise_type) ? p.noise_type : 'random_direction',
  };
}

// cue_border_mode off | custom (cue_border_color) | target-group-color; cue_border_width px.
export function borderFor(p, groups, target) {
  const mode = String(p.cue_border_mode ?? 'off').toLowerCase();
  if (mode === 'off' || mode === 'none' || mode === '') return null;
  const color = mode === 'target-group-color' && groups[target] ? groups[target].color : (p.cue_border_color || 'rgba(255,255,255,0.7)');
  return { color, width: num(p.cue_border_width, 3) };
}

// A trial without a response is wrong only when a response was required.
export function requireResponse(p) {
  return !(p.require_response === false || p.require_response === 'false');
}

// Keyboard mapping: key_mapping {key: side}, else choices[0] = left, choices[1] = right.
export function keyMap(p, normalizeKey) {
  const map = {};
  if (p.key_mapping && typeof p.key_mapping === 'object') {
    for (const [k, side] of Object.entries(p.key_mapping)) map[normalizeKey(k)] = String(side);
  } else {
    const choices = Array.isArray(p.choices) && p.choices.length ? p.choices : ['arrowleft', 'arrowright'];
    ['left', 'right', 'up', 'down'].slice(0, choices.length).forEach((side, i) => { map[normalizeKey(choices[i])] = side; });
  }
  return map;
}

export const correctSideOf = (groups, target) => sideOf(groups[target].direction);
