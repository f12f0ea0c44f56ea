// The watchdog (reference section 3): the VMX-preemption timer gives the hypervisor the
// CPU every period (HypervisorConfig.watchdogCycles), whatever the guest does with
// interrupts, so a domain that disables them and spins ("LVD never exits") is found.
// At each expiry it samples the vCPU's progress counter (SET_PROGRESS, kernel memory
// the kernel moves on as it makes progress); if an EPTP other than EPT_K is active and
// the counter has not changed since the previous expiry, a whole period went by with no
// progress: upcall. With EPT_K active the timer is only re-armed. The timer's remaining
// value is saved on every exit, so other exits do not restart the period.
//
// Stopped vCPUs. An expiry that finds the kernel halted with interrupts off (HLT under
// EPT_K, IF clear: a vCPU stopped for good, or a bare guest that is done) parks the
// watchdog: nothing can run in a domain before an NMI or an interrupt it does not take
// wakes it, so the timer is switched off and, instead, external interrupts and NMIs exit
// for as long as it is parked; the first one re-arms the timer, turns those exits off
// again, and lets the event through (an interrupt stays pending in the local APIC, which
// delivers it; an NMI taken by the exit is injected). Without this, a timer that never
// stops would keep a halted machine from ever being idle. An idle vCPU (HLT with
// interrupts on) keeps its timer: interrupts that wake it, like all others, never exit.

import {
  EXIT_PREEMPTION_TIMER, GUEST_ACTIVITY_STATE, ACTIVITY_HLT, PREEMPTION_TIMER_VALUE, PIN_BASED_CONTROLS,
  EXIT_CONTROLS, PIN_PREEMPTION_TIMER, PIN_EXTERNAL_INTERRUPT_EXITING, PIN_NMI_EXITING, EXIT_SAVE_PREEMPTION_TIMER,
  EXIT_INTERRUPTION_INFO, ENTRY_INTERRUPTION_INFO, INTR_VALID, INTR_TYPE_NMI, GUEST_RFLAGS,
} from "../machine/vmx/fields.ts";
import { IF } from "../machine/cpu/flags.ts";
import { NMI } from "../machine/cpu/arch.ts";
import { upcall, UPCALL_WATCHDOG } from "./upcall.ts";
import type { Vcpu } from "./vcpu.ts";

/** Exit 52. */
export function watchdogExit(v: Vcpu): void {
  const sample = readProgress(v);
  const previous = v.lastProgress;
  v.lastProgress = sample;
  if (v.fromKernel()) {
    if (v.read(GUEST_ACTIVITY_STATE) === ACTIVITY_HLT && (v.read(GUEST_RFLAGS) & IF) === 0) park(v);
    else rearm(v);
    return;
  }
  rearm(v);
  if (sample !== null && sample === previous) {
    const lo = Number(sample.split(":")[0]);
    upcall(v, { kind: UPCALL_WATCHDOG, reason: EXIT_PREEMPTION_TIMER, detail: lo });
  }
}

/** The progress counter as "lo:hi", or null when none is registered or it is not in EPT_K. */
function readProgress(v: Vcpu): string | null {
  if (v.progressGpa < 0) return null;
  const hpa = v.ept.translate(v.id, v.progressGpa, v.cpu);
  if (hpa < 0) return null;
  const mem = v.cpu.mem;
  return `${mem.read32(hpa) >>> 0}:${mem.read32(hpa + 4) >>> 0}`;
}

function rearm(v: Vcpu): void {
  v.write(PREEMPTION_TIMER_VALUE, v.watchdogTicks);
}

function park(v: Vcpu): void {
  v.write(PIN_BASED_CONTROLS, (v.read(PIN_BASED_CONTROLS) & ~PIN_PREEMPTION_TIMER) | PIN_EXTERNAL_INTERRUPT_EXITING | PIN_NMI_EXITING);
  v.write(EXIT_CONTROLS, v.read(EXIT_CONTROLS) & ~EXIT_SAVE_PREEMPTION_TIMER);
  v.parked = true;
}

/** Any exit of a parked vCPU: the timer runs again, interrupts and NMIs stop exiting. */
export function unpark(v: Vcpu): void {
  v.write(PIN_BASED_CONTROLS, (v.read(PIN_BASED_CONTROLS) & ~(PIN_EXTERNAL_INTERRUPT_EXITING | PIN_NMI_EXITING)) | PIN_PREEMPTION_TIMER);
  v.write(EXIT_CONTROLS, v.read(EXIT_CONTROLS) | EXIT_SAVE_PREEMPTION_TIMER);
  rearm(v);
  v.parked = false;
}

/** Exit 1 while parked: the interrupt stays pending in the local APIC, which delivers it after the resume. */
export function externalInterruptExit(_v: Vcpu): void {}

/** Exit 0 while parked: an NMI (the exception bitmap is 0, so no exception exits); it goes to the guest. */
export function nmiExit(v: Vcpu): boolean {
  const info = v.read(EXIT_INTERRUPTION_INFO);
  if ((info & INTR_VALID) === 0 || ((info >>> 8) & 7) !== INTR_TYPE_NMI) return false;
  v.write(ENTRY_INTERRUPTION_INFO, INTR_VALID | (INTR_TYPE_NMI << 8) | NMI);
  return true;
}
