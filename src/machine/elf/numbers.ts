// 64-bit arithmetic on plain JavaScript numbers.
//
// LVD represents virtual addresses as signed doubles: the upper-half kernel
// address 0xFFFFFFFF80000000 is the number -2147483648. Every canonical
// 48-bit address (and every sum of such an address and a 32-bit addend)
// fits exactly in a double, so no BigInt is needed on the hot paths; BigInt
// is only used to print numbers in error messages.

const TWO32 = 2 ** 32;

/** Read a 64-bit field as a signed value (addresses, addends). */
export function readS64(view: DataView, offset: number): number {
  const lo = view.getUint32(offset, true);
  const hi = view.getInt32(offset + 4, true);
  return hi * TWO32 + lo;
}

/**
 * Read a 64-bit field as an unsigned value (file offsets, sizes). Values
 * above 2^53 lose precision, which is harmless: they are far outside any
 * file and get rejected by range checks.
 */
export function readU64(view: DataView, offset: number): number {
  const lo = view.getUint32(offset, true);
  const hi = view.getUint32(offset + 4, true);
  return hi * TWO32 + lo;
}

/** Write an exact integer (signed or unsigned, |v| < 2^53) as 64 bits. */
export function writeU64(view: DataView, offset: number, value: number): void {
  const lo = ((value % TWO32) + TWO32) % TWO32;
  const hi = Math.floor(value / TWO32) | 0;
  view.setUint32(offset, lo, true);
  view.setUint32(offset + 4, hi >>> 0, true);
}

/** Round up to a power-of-two (or 0/1 meaning "no") alignment; works for negative addresses. */
export function alignUp(value: number, align: number): number {
  if (align <= 1) return value;
  return Math.ceil(value / align) * align;
}

/** Hex as a 64-bit two's-complement pattern: -2147483648 -> "0xffffffff80000000". */
export function hex(value: number): string {
  if (!Number.isInteger(value)) return String(value);
  let big = BigInt(value);
  if (big < 0n) big += 1n << 64n;
  return `0x${big.toString(16)}`;
}
