// The kernel's local APIC driver: xAPIC registers through their MMIO page (mapped
// uncached in the kernel's address space). MMIO accesses do not exit under the LVD
// hypervisor (only MSRs do), so EOIs and timer programming stay exitless.

import type { GuestMemory } from "../guest-memory.ts";
import {
  APIC_DEFAULT_BASE, APIC_EOI, APIC_SVR, APIC_ICR_LO, APIC_ICR_HI, APIC_LVT_TIMER, APIC_TIMER_INITIAL,
  APIC_TIMER_DIVIDE, APIC_ID, APIC_ISR, DM_INIT, DM_STARTUP, DM_FIXED, SH_NONE,
} from "../../machine/apic.ts";
import { phys2virt } from "../layout.ts";

export const APIC_VA = phys2virt(APIC_DEFAULT_BASE);

/** The vectors the kernel uses. */
export const TIMER_VECTOR = 0x20;
export const STOP_VECTOR = 0xfa;
export const RESCHEDULE_VECTOR = 0xfd;
export const SPURIOUS_VECTOR = 0xff;

const TIMER_PERIODIC_BIT = 1 << 17;
const LEVEL_ASSERT = 1 << 14;

export class Lapic {
  constructor(private readonly mem: GuestMemory) {}

  private write(reg: number, v: number): void {
    this.mem.write32(APIC_VA + reg, v);
  }

  id(): number {
    return this.mem.read32(APIC_VA + APIC_ID) >>> 24;
  }

  /** Software-enables the APIC with the spurious vector. */
  enable(): void {
    this.write(APIC_SVR, 0x100 | SPURIOUS_VECTOR);
  }

  /** A periodic timer interrupt every `cycles` core cycles (divide by 1), by default the kernel's tick. */
  startTimer(cycles: number, vector = TIMER_VECTOR): void {
    this.write(APIC_TIMER_DIVIDE, 0xb);
    this.write(APIC_LVT_TIMER, TIMER_PERIODIC_BIT | vector);
    this.write(APIC_TIMER_INITIAL, cycles);
  }

  stopTimer(): void {
    this.write(APIC_TIMER_INITIAL, 0);
  }

  eoi(): void {
    this.write(APIC_EOI, 0);
  }

  /** Whether `vector` is in service (delivered by the APIC and not yet EOIed): INT n's vectors are not. */
  inService(vector: number): boolean {
    return ((this.mem.read32(APIC_VA + APIC_ISR + (vector >> 5) * 0x10) >>> (vector & 31)) & 1) === 1;
  }

  /** A fixed IPI with `vector` to the vCPU whose APIC ID is `dest`. */
  sendIpi(dest: number, vector: number): void {
    this.icr(dest, (DM_FIXED << 8) | vector);
  }

  /** INIT then STARTUP at page `page` (the AP starts at page * 4096). */
  startAp(dest: number, page: number): void {
    this.icr(dest, (DM_INIT << 8) | LEVEL_ASSERT);
    this.icr(dest, (DM_STARTUP << 8) | page);
  }

  private icr(dest: number, lo: number): void {
    this.write(APIC_ICR_HI, dest << 24);
    this.write(APIC_ICR_LO, lo | (SH_NONE << 18));
  }
}
