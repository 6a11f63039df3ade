"""A participant for Gabor trials and reward screens, shared by the browser tests.

Gabor trials are answered the way a participant does: by looking. A script installed in the page
reads the target patch's pixels from the canvas in the frame the stimulus is drawn (a structure
tensor over the patch centre gives the stripes' tilt) and leaves the answer in
`window.__gaborSeen`; the driver then presses that key with the real keyboard. So an answer is
right only if the patch on screen really has the recorded tilt. Reward screens are continued
with the key they name.
"""

from __future__ import annotations

import asyncio
from typing import Any

# Installed with page.add_init_script before the Interpreter loads.
PERCEIVE_JS = r"""
(() => {
  const seen = new WeakSet();
  let n = 0;
  window.__gaborSeen = [];
  const tiltAt = (canvas, cxCss, cyCss, halfCss) => {
    const dpr = canvas.width / parseFloat(canvas.style.width);
    const h = Math.round(halfCss * dpr);
    const x0 = Math.round(cxCss * dpr) - h;
    const y0 = Math.round(cyCss * dpr) - h;
    const img = canvas.getContext('2d').getImageData(x0, y0, 2 * h, 2 * h).data;
    const w = 2 * h;
    const g = (x, y) => img[(y * w + x) * 4];
    let jxx = 0, jyy = 0, jxy = 0;
    for (let y = 1; y < w - 1; y++) for (let x = 1; x < w - 1; x++) {
      const gx = (g(x + 1, y) - g(x - 1, y)) / 2;
      const gy = (g(x, y + 1) - g(x, y - 1)) / 2;
      jxx += gx * gx; jyy += gy * gy; jxy += gx * gy;
    }
    // Gradient direction (y down) = the grating's orientation: 0 = vertical stripes, + = clockwise.
    let deg = (0.5 * Math.atan2(2 * jxy, jxx - jyy) * 180) / Math.PI;
    if (deg > 90) deg -= 180;
    if (deg <= -90) deg += 180;
    return deg;
  };
  const pick = (p, k, d) => (p[k] ?? (p.values || {})[k] ?? (p.settings || {})[k] ?? d);
  const tick = () => {
    try {
      const c = document.querySelector('canvas[data-role="gabor"]');
      if (c && c.dataset.phase === 'stimulus' && !seen.has(c)) {
        seen.add(c);
        const cur = window.cogflowRun && window.cogflowRun.current;
        const p = cur ? cur.spec.params : {};
        const W = parseFloat(c.style.width);
        const H = parseFloat(c.style.height);
        const cy = Math.floor(H / 2);
        const half = 18;
        const left = tiltAt(c, Math.floor(W * 0.3), cy, half);
        const right = tiltAt(c, Math.floor(W * 0.7), cy, half);
        let side = String(p.target_location || '');
        if (side !== 'left' && side !== 'right') {
          // Learning blocks: the target is the oblique patch (distractors are 0 or 90 deg).
          const off = (a) => Math.min(Math.abs(a), Math.abs(90 - Math.abs(a)));
          side = off(left) >= off(right) ? 'left' : 'right';
        }
        const tilt = side === 'left' ? left : right;
        const key = pick(p, 'response_task', '') === 'detect_target'
          ? pick(p, 'yes_key', 'f')
          : (tilt < 0 ? pick(p, 'left_key', 'f') : pick(p, 'right_key', 'j'));
        n += 1;
        window.__gaborSeen.push({
          id: n, side, tilt, left, right, key: String(key).toLowerCase(), t: performance.now(),
        });
      }
    } catch (e) {
      window.__gaborError = String(e && e.stack ? e.stack : e);
    }
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
})();
"""

PROBE_JS = """() => {
  const rs = document.querySelector('[data-role="reward-screen"]');
  const seen = window.__gaborSeen || [];
  return {
    reward: rs ? rs.dataset.rewardScreen : null,
    rewardKey: rs ? rs.dataset.continueKey : null,
    rewardNode: rs ? (rs.__cfId || (rs.__cfId = Math.random())) : null,
    seen: seen.length ? seen[seen.length - 1] : null,
    error: window.__gaborError || null,
  };
}"""

PW_KEYS = {"space": "Space", " ": "Space", "enter": "Enter", "all_keys": "Space"}


def pw_key(name: str) -> str:
    return PW_KEYS.get(str(name).lower(), str(name))


class GaborParticipant:
    """Call `await step(page)` in a driver loop; it returns True when it pressed a key.
    `TYPES`: the component types during which it has something to do (a driver that polls
    often may call it only then)."""

    TYPES = frozenset({"gabor-trial", "gabor-quest", "gabor-learning", "reward-settings"})

    def __init__(self) -> None:
        self.answered: set[int] = set()
        self.rewards_done: set[float] = set()

    async def step(self, page: Any) -> bool:
        probe = await page.evaluate(PROBE_JS)
        if probe["error"]:
            raise AssertionError(f"the Gabor perception script failed: {probe['error']}")
        if probe["reward"] and probe["rewardNode"] not in self.rewards_done:
            self.rewards_done.add(probe["rewardNode"])
            await asyncio.sleep(0.12)
            await page.keyboard.press(pw_key(probe["rewardKey"] or "space"))
            return True
        seen = probe["seen"]
        if seen and seen["id"] not in self.answered:
            self.answered.add(seen["id"])
            await asyncio.sleep(0.05)
            await page.keyboard.press(pw_key(seen["key"]))
            return True
        return False
