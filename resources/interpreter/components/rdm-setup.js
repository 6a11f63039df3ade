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
  const target = p.response_target_group === 'group_2' ? 1 : 0;
  return { groups: [mk(1, n1), mk(2, total - n1)], target };
}

export function fieldOptions(p) {
  return {
    width: num(p.canvas_width, 600), height: num(p.canvas_height, 600), background: p.background_color || '#404040',
    shape: p.aperture_shape === 'square' ? 'square' : 'circle', diameter: num(p.aperture_diameter, 350),
    dotSize: num(p.dot_size, 4), lifetimeMs: num(p.lifetime_frames, 60) * (1000 / 60),
    noiseType: ['random_walk', 'random_position'].includes(p.noise_type) ? p.noise_type : 'random_direction',
  };
}

export function borderFor(p, groups, target) {
  const cb = p.cue_border;
  if (!cb || !cb.enabled) return null;
  const color = cb.mode === 'target-group-color' ? groups[target].color : (cb.color || '#ffffff');
  return { color, width: num(cb.width, 4) };
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
