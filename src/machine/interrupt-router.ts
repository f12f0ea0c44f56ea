// The APIC bus: carries IPIs from one local APIC's ICR and MSIs from devices to the
// local APICs they address.
//
// Destinations (SDM vol. 3, "Determining IPI Destination"): a shorthand (self, all
// including self, all excluding self) ignores the destination field. Otherwise, physical mode names one
// APIC ID (0xFF, or 0xFFFFFFFF in x2APIC format, broadcasts); logical mode matches each
// APIC's logical destination register: xAPIC flat model (DFR 0xF...) by a bitmask of
// LDR bits 31:24, xAPIC cluster model (DFR 0x0...) by cluster (high nibble) and a mask
// of four, x2APIC by cluster (bits 31:16) and a 16-bit mask against the LDR derived from
// the x2APIC ID. Lowest-priority delivery goes to the one target with the lowest TPR,
// the lowest APIC ID among equals (no focus processor).
//
// MSI (SDM vol. 3, "Message Signalled Interrupts"): a device writes `data` to `address`
// 0xFEExxxxx; address bits 19:12 are the destination ID, bit 3 the redirection hint,
// bit 2 the destination mode (logical only when the hint is set); data bits 7:0 are the
// vector, 10:8 the delivery mode, 15 the trigger mode, 14 the level.

import { LocalApic, type ApicBus, type InterruptMessage, DM_LOWEST, SH_NONE, SH_SELF, SH_ALL } from "./apic.ts";

export class InterruptRouter implements ApicBus {
  readonly apics: LocalApic[];

  constructor(apics: LocalApic[]) {
    this.apics = apics;
  }

  send(from: LocalApic | null, m: InterruptMessage): void {
    const targets = this.targets(from, m);
    if (targets.length === 0) return;
    if (m.mode === DM_LOWEST) {
      let best = targets[0];
      for (const t of targets) if ((t.tpr & 0xf0) < (best.tpr & 0xf0)) best = t;
      best.receive(m);
      return;
    }
    for (const t of targets) t.receive(m);
  }

  /** Delivers a message signalled interrupt (a device's 32-bit write of `data` to `address`). */
  msi(address: number, data: number): void {
    if (address >>> 20 !== 0xfee) return; // not an interrupt message (32-bit address, signed or not)
    const hint = (address & 8) !== 0;
    this.send(null, {
      vector: data & 0xff,
      mode: (data >>> 8) & 7,
      logical: hint && (address & 4) !== 0,
      dest: (address >>> 12) & 0xff,
      x2apic: false,
      shorthand: SH_NONE,
      levelTriggered: (data & 0x8000) !== 0,
      assert: (data & 0x4000) !== 0,
    });
  }

  /** The APICs a message addresses, in APIC ID order. */
  targets(from: LocalApic | null, m: InterruptMessage): LocalApic[] {
    switch (m.shorthand) {
      case SH_SELF: return from ? [from] : [];
      case SH_ALL: return this.apics.slice();
      case SH_NONE: return this.apics.filter((a) => this.matches(a, m));
      default: return this.apics.filter((a) => a !== from);
    }
  }

  private matches(a: LocalApic, m: InterruptMessage): boolean {
    const broadcast = m.x2apic ? 0xffffffff : 0xff;
    const dest = m.dest >>> 0;
    if (dest === broadcast) return true;
    if (!m.logical) return m.x2apic ? a.id === dest : (a.id & 0xff) === dest;
    if (m.x2apic) {
      // x2APIC logical ID: cluster id >> 4 in bits 31:16, bit (id & 15) below.
      return dest >>> 16 === a.id >>> 4 && (dest & 0xffff & (1 << (a.id & 15))) !== 0;
    }
    const ldr = a.logicalId;
    if (a.flatModel) return (ldr & dest) !== 0;
    return dest >>> 4 === ldr >>> 4 && (dest & ldr & 0xf) !== 0;
  }
}
