// A seeded pseudo-random generator for the scheduler (and anything else that must be
// random yet reproducible): xorshift128 (Marsaglia 2003), its state filled from the
// seed by splitmix32. 32-bit integer operations only, so every JS engine gives the same
// sequence for the same seed.

/** One splitmix32 step: the next state and its output. */
function splitmix32(state: number): [number, number] {
  const s = (state + 0x9e3779b9) | 0;
  let z = s;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return [s, (z ^ (z >>> 16)) | 0];
}

export class Prng {
  private x: number;
  private y: number;
  private z: number;
  private w: number;

  constructor(seed: number) {
    let s = seed | 0;
    const words: number[] = [];
    for (let k = 0; k < 4; k++) {
      const [next, out] = splitmix32(s);
      s = next;
      words.push(out);
    }
    [this.x, this.y, this.z, this.w] = words;
    if ((this.x | this.y | this.z | this.w) === 0) this.w = 1; // xorshift's one bad state
  }

  /** The next 32-bit value, unsigned. */
  next(): number {
    const t = this.x ^ (this.x << 11);
    this.x = this.y;
    this.y = this.z;
    this.z = this.w;
    this.w = this.w ^ (this.w >>> 19) ^ (t ^ (t >>> 8));
    return this.w >>> 0;
  }

  /** A value in [0, n) for 0 < n <= 2^32 (by scaling: exact in doubles, deterministic). */
  below(n: number): number {
    return Math.floor((this.next() / 4294967296) * n);
  }
}
