// Bayesian QUEST (Watson & Pelli, 1983) on a grid: a prior over the threshold T, a
// psychometric function with slope beta, lapse rate delta and guess rate gamma, a posterior
// updated by Bayes' rule after every trial, and the next intensity placed at the posterior
// mean (King-Smith et al., 1994). T is defined as the intensity where p(correct) equals
// target_performance, so the estimate is directly the threshold the researcher asked for.
// Pure: no DOM, no randomness.

const GRID = 400;

const finite = (v) => v !== null && v !== undefined && v !== '' && Number.isFinite(Number(v));
const clamp = (x, lo, hi) => Math.min(hi, Math.max(lo, x));

// Weibull in log10 units, as QUEST defines it:
//   p(x) = delta*gamma + (1 - delta) * (1 - (1 - gamma) * exp(-10^(beta * (log10 x - log10 T + eps))))
// with eps chosen so p(T) = target. Logistic in linear units (the reference Interpreter's form):
//   p(x) = gamma + (1 - gamma - delta) * sigmoid(beta * (x - T) + logit(s)), s = (target - gamma)/(1 - gamma - delta).
function makePsychometric(kind, { beta, delta, gamma, target }) {
  if (kind === 'logistic') {
    const s = clamp((target - gamma) / Math.max(1e-9, 1 - gamma - delta), 1e-6, 1 - 1e-6);
    const shift = Math.log(s / (1 - s));
    return (x, t) => gamma + (1 - gamma - delta) / (1 + Math.exp(-(beta * (x - t) + shift)));
  }
  const q = clamp(1 - (target - delta * gamma) / (1 - delta), 1e-9, 1);
  const eps = Math.log10(-Math.log(q / (1 - gamma))) / beta;
  return (x, t) => delta * gamma + (1 - delta) * (1 - (1 - gamma) * Math.exp(-(10 ** (beta * (Math.log10(x) - Math.log10(t) + eps)))));
}

// opts: start_value, start_sd (prior mean and SD of T, in the parameter's units), beta, delta,
// gamma, target_performance, min_value, max_value, psychometric ('weibull' | 'logistic').
export function createQuest(opts = {}) {
  const kind = opts.psychometric === 'logistic' ? 'logistic' : 'weibull';
  const beta = finite(opts.beta) && Number(opts.beta) > 0 ? Number(opts.beta) : 3.5;
  const delta = finite(opts.delta) ? clamp(Number(opts.delta), 0, 0.5) : 0.01;
  const gamma = finite(opts.gamma) ? clamp(Number(opts.gamma), 0, 0.99) : 0.5;
  const target = finite(opts.target_performance) ? clamp(Number(opts.target_performance), gamma + 1e-3, 1 - delta - 1e-3) : 0.82;
  let lo = finite(opts.min_value) ? Number(opts.min_value) : -Infinity;
  let hi = finite(opts.max_value) ? Number(opts.max_value) : Infinity;
  if (lo > hi) [lo, hi] = [hi, lo];
  const start = clamp(finite(opts.start_value) ? Number(opts.start_value) : (Number.isFinite(lo + hi) ? (lo + hi) / 2 : 1), lo, hi);
  const sd = finite(opts.start_sd) && Number(opts.start_sd) > 0 ? Number(opts.start_sd) : Math.max(Math.abs(start) / 2, 1e-3);
  // The Weibull lives on log intensity: the grid (and every intensity) must stay positive.
  if (kind === 'weibull') lo = Math.max(lo, Math.min(start, hi) / 1000, 1e-9);
  const gLo = clamp(start - 5 * sd, lo, hi);
  const gHi = clamp(start + 5 * sd, lo, hi);
  const grid = new Float64Array(GRID);
  const logPost = new Float64Array(GRID);
  for (let i = 0; i < GRID; i++) {
    grid[i] = gHi > gLo ? gLo + ((gHi - gLo) * i) / (GRID - 1) : gLo;
    const z = (grid[i] - start) / sd;
    logPost[i] = -0.5 * z * z;
  }
  const p = makePsychometric(kind, { beta, delta, gamma, target });

  const q = {
    algorithm: 'quest', psychometric: kind, beta, delta, gamma, target_performance: target,
    min_value: lo, max_value: hi, prior_mean: start, prior_sd: sd,
    trials: 0, lastValue: null,
    // Posterior weights, normalised (computed in log space so long runs never underflow).
    weights() {
      let m = -Infinity;
      for (let i = 0; i < GRID; i++) m = Math.max(m, logPost[i]);
      const w = new Float64Array(GRID);
      let s = 0;
      for (let i = 0; i < GRID; i++) { w[i] = Math.exp(logPost[i] - m); s += w[i]; }
      for (let i = 0; i < GRID; i++) w[i] /= s;
      return w;
    },
    mean() {
      const w = this.weights();
      let m = 0;
      for (let i = 0; i < GRID; i++) m += w[i] * grid[i];
      return m;
    },
    sd() {
      const w = this.weights();
      const m = this.mean();
      let v = 0;
      for (let i = 0; i < GRID; i++) v += w[i] * (grid[i] - m) ** 2;
      return Math.sqrt(v);
    },
    // Next intensity: the posterior mean of T (the target-performance point), kept in range.
    next() {
      this.lastValue = clamp(this.mean(), Math.max(lo, gLo), Math.min(hi, gHi));
      return this.lastValue;
    },
    // Bayes' rule for the response at `value` (default: the last intensity handed out).
    update(correct, value = this.lastValue) {
      const x = Number(value);
      if (!Number.isFinite(x)) return;
      const xx = kind === 'weibull' ? Math.max(x, 1e-12) : x;
      for (let i = 0; i < GRID; i++) {
        const pc = clamp(p(xx, grid[i]), 1e-9, 1 - 1e-9);
        logPost[i] += Math.log(correct === true ? pc : 1 - pc);
      }
      this.trials += 1;
    },
    probability(x, t) {
      return p(kind === 'weibull' ? Math.max(x, 1e-12) : x, t);
    },
  };
  return q;
}
