// The scrolling spike graph behind the SOC "flanker-like" window: a row of points (levels 0 low,
// 1 medium, 2 high) moving left past a marker. Pure model (drawing takes a 2D context), so the
// cluster logic and the time-based scrolling are unit-tested in node.

const POINTS = 160;

function pickLevel(pLevels, rng) {
  const [lo, med, hi] = pLevels.map((p) => Math.max(0, p));
  const sum = lo + med + hi;
  if (!(sum > 0)) return 1;
  const r = rng() * sum;
  return r < hi ? 2 : r < hi + med ? 1 : 0;
}

// One decision: the centre level drawn from the centre probabilities; congruent flankers repeat
// it, incongruent ones take the opposite extreme (either extreme for a medium centre).
export function flankerCluster(cfg, rng, n) {
  const center = pickLevel(cfg.p_levels, rng);
  const congruent = rng() < cfg.congruent_probability;
  let flank = center;
  if (!congruent) flank = center === 2 ? 0 : center === 0 ? 2 : (rng() < 0.5 ? 0 : 2);
  const shouldReject = cfg.reject_rule === 'medium_or_high' ? center >= 1 : center === 2;
  return { id: `FL-${n}`, center_level: center, flanker_level: flank, congruent, should_reject: shouldReject, levels: [flank, flank, center, flank, flank] };
}

export class SpikeGraph {
  constructor({ spacing, speed, jerkiness, pLevels, markerX }, rng) {
    Object.assign(this, { spacing, speed, jerkiness, pLevels, markerX, rng });
    this.offset = 0;
    this.pending = [];
    this.trials = new Map();
    this.points = Array.from({ length: POINTS }, () => ({ level: pickLevel(pLevels, rng), trial: null, center: false }));
  }

  // Time for a point entering at the right end to reach the marker.
  travelMs() {
    return Math.max(0, ((POINTS - 1) * this.spacing - this.markerX) / this.speed * 1000);
  }

  enqueue(trial) {
    this.trials.set(trial.id, trial);
    this.pending.push({ trial, pos: 0 });
  }

  // Places a cluster's centre `leadMs` of scrolling right of the marker (the first decision).
  stamp(trial, leadMs) {
    this.trials.set(trial.id, trial);
    const x = this.markerX + (this.speed * leadMs) / 1000;
    const c = Math.max(2, Math.min(POINTS - 3, Math.round((x + this.offset) / this.spacing)));
    trial.levels.forEach((level, k) => { this.points[c - 2 + k] = { level, trial: trial.id, center: k === 2 }; });
  }

  // Scroll by dt seconds; the jerkiness varies the speed from step to step.
  advance(dt) {
    const jitter = 1 + (this.rng() * 2 - 1) * this.jerkiness * 0.35;
    this.offset += this.speed * jitter * Math.max(0, dt);
    while (this.offset >= this.spacing) {
      this.offset -= this.spacing;
      const gone = this.points.shift();
      if (gone.center && gone.trial) this.trials.delete(gone.trial);
      const head = this.pending[0];
      let p = { level: pickLevel(this.pLevels, this.rng), trial: null, center: false };
      if (head) {
        p = { level: head.trial.levels[head.pos], trial: head.trial.id, center: head.pos === 2 };
        head.pos += 1;
        if (head.pos >= head.trial.levels.length) this.pending.shift();
      }
      this.points.push(p);
    }
  }

  x(j) {
    return j * this.spacing - this.offset;
  }

  // The not yet prompted trial whose centre spike is at the marker, if any.
  atMarker() {
    const hit = Math.max(10, this.spacing * 1.25);
    for (let j = 0; j < this.points.length; j++) {
      const p = this.points[j];
      if (!p.center || !p.trial || Math.abs(this.x(j) - this.markerX) > hit) continue;
      const tr = this.trials.get(p.trial);
      if (tr && !tr.prompted) { tr.prompted = true; return tr; }
    }
    return null;
  }

  draw(g, w, h, activeId) {
    const base = h - 26;
    const y = (lvl) => base - (lvl === 2 ? 130 : lvl === 1 ? 86 : 48);
    g.clearRect(0, 0, w, h);
    g.strokeStyle = 'rgba(147,197,253,0.95)';
    g.lineWidth = 2;
    g.beginPath();
    this.points.forEach((p, j) => (j ? g.lineTo(this.x(j), y(p.level)) : g.moveTo(this.x(j), y(p.level))));
    g.stroke();
    this.points.forEach((p, j) => {
      const x = this.x(j);
      if (x < -10 || x > w + 10) return;
      const center = p.center && p.trial;
      g.strokeStyle = center && p.trial === activeId ? 'rgba(250,204,21,0.95)' : center ? 'rgba(250,204,21,0.35)' : p.trial ? 'rgba(255,255,255,0.22)' : 'rgba(255,255,255,0.10)';
      g.lineWidth = center && p.trial === activeId ? 3 : center ? 2 : 1;
      g.beginPath();
      g.moveTo(x, base);
      g.lineTo(x, y(p.level));
      g.stroke();
    });
  }
}
