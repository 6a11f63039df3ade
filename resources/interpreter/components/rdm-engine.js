// Random-dot field on a canvas. Motion is in px per second and advanced by each frame's real
// interval, so speed does not depend on the refresh rate (the reference moved dots per frame).
// Lifetime is in ms too. The canvas backing store is scaled by devicePixelRatio.

const TAU = Math.PI * 2;
const rad = (deg) => (deg * Math.PI) / 180;

// Direction expressions from the Builder: 90, "0,180" (pick one), "0-15" (uniform range).
export function resolveDirection(v, rng, fallback = 0) {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  const s = String(v ?? '').trim();
  if (!s) return fallback;
  if (s.includes(',')) return resolveDirection(rng.pick(s.split(',').map((x) => x.trim()).filter(Boolean)), rng, fallback);
  const m = /^(-?\d+(?:\.\d+)?)\s*-\s*(-?\d+(?:\.\d+)?)$/.exec(s);
  if (m) return rng.uniform(Number(m[1]), Number(m[2]));
  return Number.isFinite(Number(s)) ? Number(s) : fallback;
}

// 0 deg = rightwards, 90 = upwards.
export function sideOf(deg) {
  const c = Math.cos(rad(deg));
  const s = Math.sin(rad(deg));
  if (Math.abs(c) >= Math.abs(s)) return c >= 0 ? 'right' : 'left';
  return s >= 0 ? 'up' : 'down';
}

export function segmentOf(angleDeg, segments, startDeg) {
  const n = Math.max(1, Math.floor(segments));
  const a = (((angleDeg - startDeg) % 360) + 360) % 360;
  return Math.min(n - 1, Math.floor(a / (360 / n)));
}

export class DotField {
  constructor(canvas, { width, height, background, shape, diameter, dotSize, lifetimeMs, noiseType, centerX, centerY, outline }, rng) {
    const dpr = window.devicePixelRatio || 1;
    canvas.width = Math.round(width * dpr);
    canvas.height = Math.round(height * dpr);
    canvas.style.width = `${width}px`;
    canvas.style.height = `${height}px`;
    this.ctx = canvas.getContext('2d');
    this.ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    Object.assign(this, { width, height, background, shape, r: diameter / 2, dotSize, lifetimeMs, noiseType, rng, outline: Boolean(outline) });
    this.cx = Number.isFinite(centerX) ? centerX : width / 2;
    this.cy = Number.isFinite(centerY) ? centerY : height / 2;
    this.dots = [];
    this.border = null;
  }

  randomPoint() {
    for (;;) {
      const x = (this.rng() * 2 - 1) * this.r;
      const y = (this.rng() * 2 - 1) * this.r;
      if (this.shape === 'square' || x * x + y * y <= this.r * this.r) return [x, y];
    }
  }

  inside(x, y) {
    return this.shape === 'square' ? Math.abs(x) <= this.r && Math.abs(y) <= this.r : x * x + y * y <= this.r * this.r;
  }

  // groups: [{count, coherence, direction, speed (px/s), color}]
  setGroups(groups) {
    this.groups = groups;
    const want = groups.map((g) => g.count);
    const have = groups.map((_, i) => this.dots.filter((d) => d.g === i).length);
    if (want.some((w, i) => w !== have[i])) {
      this.dots = [];
      groups.forEach((g, gi) => { for (let i = 0; i < g.count; i++) this.dots.push(this.spawn(gi, this.rng() * this.lifetimeMs)); });
    } else {
      for (const d of this.dots) d.signal = this.rng() < groups[d.g].coherence;
    }
  }

  spawn(g, age = 0) {
    const [x, y] = this.randomPoint();
    return { g, x, y, age, signal: this.rng() < this.groups[g].coherence, noiseDir: this.rng() * TAU };
  }

  step(dtMs) {
    const dt = Math.min(dtMs, 100) / 1000; // a stalled tab must not fling dots across the field
    for (let i = 0; i < this.dots.length; i++) {
      let d = this.dots[i];
      const g = this.groups[d.g];
      d.age += dtMs;
      if (d.age > this.lifetimeMs) { d = this.dots[i] = this.spawn(d.g); continue; }
      const v = g.speed * dt;
      if (d.signal) {
        d.x += Math.cos(rad(g.direction)) * v;
        d.y -= Math.sin(rad(g.direction)) * v;
      } else if (this.noiseType === 'random_position') {
        [d.x, d.y] = this.randomPoint();
      } else {
        const dir = this.noiseType === 'random_walk' ? this.rng() * TAU : d.noiseDir;
        d.x += Math.cos(dir) * v;
        d.y -= Math.sin(dir) * v;
      }
      if (!this.inside(d.x, d.y)) { d.x = -d.x * 0.98; d.y = -d.y * 0.98; } // re-enter opposite
    }
  }

  clear() {
    const c = this.ctx;
    c.fillStyle = this.background;
    c.fillRect(0, 0, this.width, this.height);
  }

  drawFixation(color = '#ffffff') {
    this.clear();
    const c = this.ctx;
    c.strokeStyle = color;
    c.lineWidth = 2;
    c.beginPath();
    c.moveTo(this.cx - 10, this.cy); c.lineTo(this.cx + 10, this.cy);
    c.moveTo(this.cx, this.cy - 10); c.lineTo(this.cx, this.cy + 10);
    c.stroke();
  }

  strokeAperture(color, width) {
    const c = this.ctx;
    c.strokeStyle = color;
    c.lineWidth = width;
    c.beginPath();
    if (this.shape === 'square') c.rect(this.cx - this.r, this.cy - this.r, 2 * this.r, 2 * this.r);
    else c.arc(this.cx, this.cy, this.r + width / 2, 0, TAU);
    c.stroke();
  }

  // Dots are round, dot_size px across, one path per colour.
  draw() {
    this.clear();
    const c = this.ctx;
    if (this.outline) this.strokeAperture('rgba(255,255,255,0.35)', 1);
    if (this.border) this.strokeAperture(this.border.color, this.border.width);
    const rad = this.dotSize / 2;
    this.groups.forEach((g, gi) => {
      c.fillStyle = g.color;
      c.beginPath();
      for (const d of this.dots) {
        if (d.g !== gi) continue;
        c.moveTo(this.cx + d.x + rad, this.cy + d.y);
        c.arc(this.cx + d.x, this.cy + d.y, rad, 0, TAU);
      }
      c.fill();
    });
  }
}
