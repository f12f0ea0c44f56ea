// The machine's current speed, for reading benchmark numbers on a shared machine whose
// speed drifts (up to 2x between runs): a fixed pure-JS loop (integer arithmetic, a
// typed array, a data-dependent branch), in millions of iterations per second, best of
// a few runs. Compare MIPS only between runs with similar speeds, or as ratios to it.

export function machineSpeed(runs = 3): number {
  let best = 0;
  for (let r = 0; r < runs; r++) {
    const arr = new Int32Array(1024);
    let a = 1, b = 2;
    const t = performance.now();
    for (let i = 0; i < 2e7; i++) {
      a = (a * 31 + b) | 0;
      b ^= a >>> 3;
      arr[i & 1023] = a;
      if (arr[(i * 7) & 1023] & 1) b++;
    }
    best = Math.max(best, 2e4 / (performance.now() - t) + (a & 0));
  }
  return best;
}
