// Weighted up/down staircase (Kaernbach 1991) on RDM coherence: it converges where
// p(correct) = target_performance. Higher coherence is easier, so a correct answer lowers it.

export function createStaircase(opts) {
  const p = Math.min(0.99, Math.max(0.01, Number(opts.target_performance) || 0.75));
  const stepDown = Number(opts.step_size) > 0 ? Number(opts.step_size) : 0.05;
  const min = Number.isFinite(Number(opts.min_coherence)) ? Number(opts.min_coherence) : 0.01;
  const max = Number.isFinite(Number(opts.max_coherence)) ? Number(opts.max_coherence) : 1;
  const clamp = (v) => Math.min(max, Math.max(min, v));
  return {
    value: clamp(Number(opts.initial_coherence) || 0.5),
    stepDown,
    stepUp: stepDown * p / (1 - p),
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
