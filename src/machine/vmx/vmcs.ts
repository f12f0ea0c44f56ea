// VMCS storage (SDM 25.2, 25.11). A VMCS region is a 4 KB page of physical memory whose
// first dword holds the revision identifier (bits 30:0; bit 31 the shadow-VMCS
// indicator) and whose second dword is the VMX-abort indicator; the format of the rest
// is implementation-specific, so field values live here, in a JS object tied to the
// region's physical address, not in the page. The launch state ("clear" or "launched")
// belongs to the VMCS too: VMCLEAR sets it clear, a successful VMLAUNCH launched.
//
// Values are kept as two 32-bit halves per field (exact for every 64-bit value, no
// BigInt), written through the field's width: a 16-bit field keeps 16 bits, and so on.

import type { PhysicalMemory } from "../memory.ts";
import { FIELD_NAMES, fieldWidth, WIDTH_16, WIDTH_32, WIDTH_64 } from "./fields.ts";

/** Dense slot + 1 of each supported field encoding (all encodings are below 8000H), 0 if unsupported. */
const SLOT = new Int16Array(0x8000);
let slots = 0;
for (const enc of FIELD_NAMES.keys()) SLOT[enc] = ++slots;

/** The slot of a field encoding (access type 0), or -1 if the field is not supported. */
export function fieldSlot(enc: number): number {
  return enc >= 0 && enc < 0x8000 ? SLOT[enc] - 1 : -1;
}

export type LaunchState = "clear" | "launched";

export class Vmcs {
  /** Physical address of the VMCS region. */
  readonly address: number;
  launchState: LaunchState = "clear";
  private readonly lo = new Int32Array(slots);
  private readonly hi = new Int32Array(slots);

  constructor(address: number) {
    this.address = address;
  }

  /** Low half of a field (a 16- or 32-bit field's whole value, zero-extended, as an int32). */
  lo32(enc: number): number {
    return this.lo[slotOf(enc)];
  }
  /** High half of a 64-bit or natural-width field. */
  hi32(enc: number): number {
    return this.hi[slotOf(enc)];
  }
  /** A 16- or 32-bit field as an unsigned number. */
  u32(enc: number): number {
    return this.lo[slotOf(enc)] >>> 0;
  }
  /**
   * A field as a number: the 64-bit value read as signed, which is exact for physical
   * addresses, canonical linear addresses (the CPU's form) and small negative values
   * such as all ones (-1). 16- and 32-bit fields are zero-extended.
   */
  get(enc: number): number {
    const s = slotOf(enc);
    return this.hi[s] * 4294967296 + (this.lo[s] >>> 0);
  }
  /** Exact 64-bit value. */
  get64(enc: number): bigint {
    const s = slotOf(enc);
    return (BigInt(this.hi[s] >>> 0) << 32n) | BigInt(this.lo[s] >>> 0);
  }

  /** Writes a field from halves, truncated to the field's width. */
  setHalves(enc: number, lo: number, hi: number): void {
    const s = slotOf(enc);
    switch (fieldWidth(enc)) {
      case WIDTH_16: this.lo[s] = lo & 0xffff; this.hi[s] = 0; return;
      case WIDTH_32: this.lo[s] = lo; this.hi[s] = 0; return;
      default: this.lo[s] = lo; this.hi[s] = hi;
    }
  }
  /** Writes a field from a number in get()'s form (a signed or unsigned 64-bit value, exact below 2^53). */
  set(enc: number, v: number): void {
    this.setHalves(enc, v | 0, Math.floor(v / 4294967296) | 0);
  }
  /** Writes only the high half of a 64-bit field (VMWRITE with access type 1). */
  setHigh(enc: number, hi: number): void {
    if (fieldWidth(enc) === WIDTH_64) this.hi[slotOf(enc)] = hi;
  }
}

function slotOf(enc: number): number {
  const s = SLOT[enc & 0x7fff] - 1;
  if (s < 0 || enc !== (enc & 0x7fff)) throw new Error(`VMCS field 0x${enc.toString(16)} is not supported`);
  return s;
}

/**
 * The VMCS data of each region, per physical memory (a VMCS may be cleared on one
 * processor and loaded on another, so the data belongs to the region, not to a CPU).
 */
const regions = new WeakMap<PhysicalMemory, Map<number, Vmcs>>();

/** The VMCS whose region is at `pa`, created (launch state clear) on first use. */
export function vmcsAt(mem: PhysicalMemory, pa: number): Vmcs {
  let m = regions.get(mem);
  if (!m) regions.set(mem, (m = new Map()));
  let v = m.get(pa);
  if (!v) m.set(pa, (v = new Vmcs(pa)));
  return v;
}
