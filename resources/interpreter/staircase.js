// Coherence staircases for rdm-adaptive, as the reference defines them. Higher coherence is
// easier, so a correct answer lowers it. "staircase": weighted up/down (Kaernbach 1991),
// wrong -> +step_size, correct -> -step_size*(1-p)/p, so it converges where p(correct) =
// target_performance. "simple": 1-up-1-down with step_size both ways.

export function createStaircase(opts) {
  const p = Math.min(0.999, Math.max(0.001, Number(opts.target_performance) || 0.82));
  const step = Number(opts.step_size) > 0 ? Number(opts.step_size) : 0.05;
  const simple = String(opts.algorithm ?? 'staircase').toLowerCase() === 'simple';
  const min = Number.isFinite(Number(opts.min_coherence)) ? Number(opts.min_coherence) : 0;
  const max = Number.isFinite(Number(opts.max_coherence)) ? Number(opts.max_coherence) : 1;
  const clamp = (v) => Math.min(max, Math.max(min, v));
  return {
    value: clamp(Number.isFinite(Number(opts.initial_coherence)) ? Number(opts.initial_coherence) : 0.5),
    stepUp: step,
    stepDown: simple ? step : step * (1 - p) / p,
    reversals: 0,
    lastDirection: 0,
    trials: 0,
    update(correct) {
      const dir = correct ? -1 : +1; // no response counts as an error
      this.value = clamp(this.value + (correct ? -this.stepDown : this.stepUp));
      if (this.lastDirection !== 0 && dir !== this.lastDirection) this.reversals += 1;
      this.lastDirection = dir;
      this.trials += 1;
      return this.value;
    },
  };
}
