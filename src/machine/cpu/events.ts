// The event service: what a vCPU does at an instruction boundary when something may be
// pending (Cpu.run calls it when cpu.attention is set or the cycle clock reaches
// cpu.eventCycle). It is installed as cpu.serviceEvents, one per vCPU with a local APIC.
//
// Order at a boundary (SDM vol. 3, "Priority Among Concurrent Exceptions and Interrupts"):
//  1. the VMX-preemption timer (eventInterceptor.boundary): a VM exit ends the service;
//  2. the APIC timer, if its deadline has passed (it only raises IRR);
//  3. an NMI, unless NMIs are blocked (one is being handled: until the next IRET) or
//     the boundary is in an interrupt shadow; VMX may take it (NMI exiting);
//  4. the highest deliverable external interrupt from the local APIC, unless the
//     boundary is in an interrupt shadow; VMX may take it (external-interrupt exiting,
//     asked even with IF=0, since under that control RFLAGS.IF does not block: SDM
//     vol. 3, "Event Blocking" in VMX non-root operation); otherwise only with
//     RFLAGS.IF=1, acknowledged (IRR -> ISR) and delivered.
// At most one event is delivered per call. If more is pending the service sets
// cpu.attention again: run() calls it at the next boundary, which is the first
// instruction of the handler (before it runs, as on hardware: an interrupt gate's IF=0
// is what holds the next one off).
//
// Interrupt shadow: STI (with IF=0) and MOV SS set cpu.interruptShadow and attention,
// so the service sees the flag at the boundary right after them and notes the
// instruction count. The shadow blocks that one boundary, for NMIs as well (the SDM
// says MOV SS blocks NMIs, and that STI "may" on some processors: we choose to). The
// service then sets a deadline one cycle ahead, so that run() single-steps one
// instruction and calls it again: that call finds the count moved on and ends the
// shadow, so cpu.interruptShadow is true exactly while the architectural shadow lasts.
// (Whoever else sets interruptShadow, e.g. a VM entry, must set attention too.)
//
// HLT: a halted vCPU stays halted until an event is delivered (deliverEvent clears
// cpu.halted) or VMX takes it with a VM exit; an interrupt masked by IF=0 does not wake
// it. A vCPU waiting for SIPI recognises nothing.
//
// The service never leaves a deadline it has passed in place (the APIC timer moves or
// cancels its own; the shadow deadline is cancelled when the shadow ends), and it sets
// attention only after delivering something, so run() never spins.

import type { Cpu } from "./cpu.ts";
import { Interception, NMI } from "./cpu.ts";
import { deliverEvent } from "./interrupts.ts";
import type { LocalApic } from "../apic.ts";

const SHADOW_DEADLINE = "interrupt-shadow";

/** Installs the event service on `cpu` for its local APIC. */
export function installEventService(cpu: Cpu, apic: LocalApic): void {
  cpu.apic = apic;
  /** cpu.instructions when the service first saw the current shadow, or -1. */
  let shadowAt = -1;
  let shadowDeadline = false;

  /** Whether this boundary is in an interrupt shadow (and ends a shadow that has passed). */
  const inShadow = (): boolean => {
    if (!cpu.interruptShadow) {
      shadowAt = -1;
      return false;
    }
    if (shadowAt < 0) shadowAt = cpu.instructions;
    if (cpu.instructions === shadowAt) return true;
    cpu.interruptShadow = false;
    shadowAt = -1;
    return false;
  };

  /** Delivers an event; a VM exit during delivery (e.g. an EPT violation) is taken like run() takes it. */
  const deliver = (vector: number, kind: "nmi" | "external"): void => {
    try {
      deliverEvent(cpu, vector, -1, kind);
    } catch (e) {
      if (!(e instanceof Interception)) throw e;
      e.action(cpu);
    }
    // A shut-down processor executes nothing more: run() returns at its halted check.
    if (cpu.shutdown) cpu.halted = true;
  };

  cpu.serviceEvents = (c: Cpu): void => {
    if (apic.waitingForSipi) return;
    const vmx = c.eventInterceptor;
    if (vmx !== null && vmx.boundary(c)) {
      if (apic.hasPending) c.attention = true; // look again in the new context
      return;
    }
    apic.serviceTimer();

    const shadow = inShadow();
    let delivered = false;
    if (!shadow) {
      if (apic.nmiPending && !c.nmiBlocked) {
        apic.nmiPending = false;
        c.halted = false; // the NMI ends HLT, whether delivered or taken by VMX
        if (vmx === null || !vmx.nmi(c)) {
          c.nmiBlocked = true;
          deliver(NMI, "nmi");
        }
        delivered = true;
      } else if (apic.deliverableVector() >= 0) {
        if (vmx !== null && vmx.externalInterrupt(c, () => apic.acknowledge())) {
          delivered = true; // a VM exit: it left HLT (exit.ts), and the host decides what runs next
        } else if (c.interruptsEnabled) {
          deliver(apic.acknowledge(), "external");
          delivered = true;
        }
      }
    }
    if (delivered && (apic.nmiPending || apic.deliverableVector() >= 0)) c.attention = true;

    // During a shadow, come back after exactly one instruction to end it.
    if (shadow !== shadowDeadline) {
      shadowDeadline = shadow;
      c.setDeadline(SHADOW_DEADLINE, shadow ? c.cycles + 1 : Infinity);
    }
  };
}
