// Guest memory as the guest's own instructions would reach it, for the instructions the
// hypervisor emulates (the memory operand of LGDT/SGDT/LTR..., the buffer of INS/OUTS,
// the GDT descriptor LTR reads) and for the upcall frame it writes: a linear address goes
// through the guest's 4-level page tables (guest CR3, CR0.WP, CR4.SMAP, RFLAGS.AC from
// the VMCS), each table entry and the final page through EPT_K, with the accessed and
// dirty flags set as the processor sets them.
//
// A translation the guest's tables refuse is the #PF (or #GP for a non-canonical
// address) the instruction would have raised: GuestFault, which the handler injects.
// One EPT_K refuses (the hypervisor's pool) is an EPT violation by the kernel:
// GuestEptViolation, which becomes an upcall. Only the exit's vCPU's EPT_K is used: the
// sensitive instructions are emulated only for the kernel.
//
// The walk reads entries like the processor's would (COSTS.pageWalkStep each, EPT_K's
// included); a page translated once is remembered for the rest of the exit, like a TLB.

import { PF_VEC, GP, SS_VEC, CR0_WP, CR4_SMAP } from "../machine/cpu/arch.ts";
import { PFE_P, PFE_W, PFE_U, PFE_RSVD, MAXPHYADDR } from "../machine/cpu/paging.ts";
import { AC } from "../machine/cpu/flags.ts";
import { COSTS } from "../machine/cost.ts";
import { GUEST_CR0, GUEST_CR3, GUEST_CR4, GUEST_RFLAGS } from "../machine/vmx/fields.ts";
import type { Vcpu } from "./vcpu.ts";

/** An exception the emulated instruction raises in the guest. */
export class GuestFault {
  constructor(
    readonly vector: number,
    readonly errorCode: number,
    /** For #PF: the faulting linear address (CR2). */
    readonly address = 0,
  ) {}
}

/** A guest-physical access EPT_K does not allow. */
export class GuestEptViolation {
  constructor(
    readonly gpa: number,
    readonly la: number,
    readonly write: boolean,
  ) {}
}

/** How an access is made: at the guest's CPL (user when 3), or implicitly by the processor (supervisor: descriptor tables). */
export interface Access {
  write: boolean;
  user: boolean;
  implicit?: boolean;
}

const P = 1, A = 0x20, D = 0x40, PS = 0x80;
const ADDR_HI = (1 << (MAXPHYADDR - 32)) - 1;
const HI_RESERVED = ((1 << 20) - 1) & ~ADDR_HI;

export function canonical(la: number): boolean {
  return la >= -(2 ** 47) && la < 2 ** 47;
}

export class GuestMemory {
  private loaded = false;
  private cr3 = 0;
  private wp = false;
  private smap = false;
  private ac = false;
  /** Pages translated during this exit: "vpn:kind" -> host-physical page. */
  private readonly pages = new Map<string, number>();

  constructor(private readonly v: Vcpu) {}

  private load(): void {
    if (this.loaded) return;
    this.loaded = true;
    const v = this.v;
    this.cr3 = v.read(GUEST_CR3) % 2 ** MAXPHYADDR;
    this.cr3 -= this.cr3 % 4096;
    this.wp = (v.read(GUEST_CR0) & CR0_WP) !== 0;
    this.smap = (v.read(GUEST_CR4) & CR4_SMAP) !== 0;
    this.ac = (v.read(GUEST_RFLAGS) & AC) !== 0;
  }

  /** Guest-physical to host-physical through this vCPU's EPT_K, or GuestEptViolation. */
  physical(gpa: number, la: number, write: boolean): number {
    const hpa = this.v.ept.translate(this.v.id, gpa, this.v.cpu);
    if (hpa < 0) throw new GuestEptViolation(gpa, la, write);
    return hpa;
  }

  /** Host-physical address of linear `la` for access `a`, or the fault the guest would take. */
  translate(la: number, a: Access, stack = false): number {
    if (!canonical(la)) throw new GuestFault(stack ? SS_VEC : GP, 0);
    const offset = mod(la, 4096);
    const key = `${(la - offset) / 4096}:${a.write ? 1 : 0}${a.user ? 1 : 0}${a.implicit ? 1 : 0}`;
    const hit = this.pages.get(key);
    if (hit !== undefined) return hit + offset;
    const hpa = this.walk(la, a);
    this.pages.set(key, hpa - offset);
    return hpa;
  }

  private walk(la: number, a: Access): number {
    this.load();
    const mem = this.v.cpu.mem;
    const err = (a.write ? PFE_W : 0) | (a.user ? PFE_U : 0);
    let table = this.cr3;
    let rw = 1, us = 1;
    const entries: number[] = [];
    let shift = 39;
    for (;; shift -= 9) {
      const hpa = this.physical(table + (Math.floor(la / 2 ** shift) & 511) * 8, la, false);
      this.v.cpu.cycles += COSTS.pageWalkStep;
      const lo = mem.read32(hpa), hi = mem.read32(hpa + 4);
      if ((lo & P) === 0) throw new GuestFault(PF_VEC, err, la);
      const large = shift !== 12 && (lo & PS) !== 0;
      if ((hi & HI_RESERVED) !== 0 || (large && shift === 39)) throw new GuestFault(PF_VEC, err | PFE_P | PFE_RSVD, la);
      rw &= (lo >> 1) & 1;
      us &= (lo >> 2) & 1;
      entries.push(hpa);
      const frame = (hi & ADDR_HI) * 4294967296 + ((lo & ~0xfff) >>> 0);
      if (shift === 12 || large) {
        table = frame - (frame % 2 ** shift) + mod(la, 2 ** shift);
        break;
      }
      table = frame;
    }
    let ok: boolean;
    if (a.user) ok = us === 1 && (!a.write || rw === 1);
    else {
      ok = !a.write || rw === 1 || !this.wp;
      if (us === 1 && this.smap && (a.implicit || !this.ac)) ok = false;
    }
    if (!ok) throw new GuestFault(PF_VEC, err | PFE_P, la);
    // Accessed on every level, dirty on the leaf for a write (the processor's updates).
    for (const e of entries) {
      const lo = mem.read32(e);
      if ((lo & A) === 0) mem.write32(e, lo | A);
    }
    const leaf = entries[entries.length - 1];
    if (a.write && (mem.read32(leaf) & D) === 0) mem.write32(leaf, mem.read32(leaf) | D);
    return this.physical(table, la, a.write);
  }

  /** Reads `n` bytes at `la` (every page translated before any byte is read). */
  read(la: number, n: number, a: Omit<Access, "write">): Uint8Array {
    const at = this.span(la, n, { ...a, write: false });
    const out = new Uint8Array(n);
    for (let k = 0; k < n; k++) out[k] = this.v.cpu.mem.read8(at[k]);
    return out;
  }

  /** Faults now (as the access would) if any byte of [la, la + n) cannot be written. */
  checkWrite(la: number, n: number, a: Omit<Access, "write">): void {
    this.span(la, n, { ...a, write: true });
  }

  /** Writes `bytes` at `la`, all of whose pages are checked first, so a fault writes nothing. */
  write(la: number, bytes: Uint8Array, a: Omit<Access, "write">): void {
    const at = this.span(la, bytes.length, { ...a, write: true });
    for (let k = 0; k < bytes.length; k++) this.v.cpu.mem.write8(at[k], bytes[k]);
  }

  /** The host-physical address of each byte of [la, la + n), translating each page once (at its first byte). */
  private span(la: number, n: number, a: Access): number[] {
    const at: number[] = [];
    let base = 0;
    for (let k = 0; k < n; k++) {
      const b = la + k;
      if (k === 0 || mod(b, 4096) === 0) base = this.translate(b, a) - k;
      at.push(base + k);
    }
    return at;
  }
}

function mod(a: number, m: number): number {
  const r = a % m;
  return r < 0 ? r + m : r;
}

/** Little-endian helpers for the byte arrays above. */
export function u16(b: Uint8Array, at = 0): number {
  return b[at] | (b[at + 1] << 8);
}
export function halvesAt(b: Uint8Array, at: number): [number, number] {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return [dv.getInt32(at, true), dv.getInt32(at + 4, true)];
}
export function bytesOf(values: [number, number][]): Uint8Array {
  const out = new Uint8Array(values.reduce((s, [, size]) => s + size, 0));
  let at = 0;
  for (const [v, size] of values) {
    for (let k = 0; k < size; k++) out[at + k] = Math.floor(v / 2 ** (8 * k)) & 0xff;
    at += size;
  }
  return out;
}
