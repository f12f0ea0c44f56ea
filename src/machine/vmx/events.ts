// Events in VMX non-root operation: the VMX-preemption timer (exit 52), NMI exiting and
// external-interrupt exiting (exits 0 and 1), exceptions and the exception bitmap
// (exit 0, with the #PF error-code mask and match), and IDT-vectoring information for
// exits that happen while an exception is delivered through the guest IDT.
//
// The event service (the local APIC side) asks `cpu.eventInterceptor` before it delivers
// anything; `interceptFault` is installed on the CPU while the guest runs (entry.ts).

import type { Cpu, EventInterceptor } from "../cpu/cpu.ts";
import { Interception } from "../cpu/cpu.ts";
import { CpuFault, PF_VEC } from "../cpu/arch.ts";
import { PageFault } from "../cpu/paging.ts";
import { deliverEvent, hasErrorCode } from "../cpu/interrupts.ts";
import type { Vmx } from "./vmx.ts";
import {
  EXIT_PREEMPTION_TIMER, EXIT_EXCEPTION_OR_NMI, EXIT_EXTERNAL_INTERRUPT, PIN_NMI_EXITING,
  PIN_EXTERNAL_INTERRUPT_EXITING, EXIT_ACK_INTERRUPT_ON_EXIT, INTR_VALID, INTR_TYPE_NMI,
  INTR_TYPE_HARDWARE_EXCEPTION, INTR_ERROR_CODE_VALID, PF_ERROR_CODE_MASK, PF_ERROR_CODE_MATCH,
} from "./fields.ts";

export class VmxEvents implements EventInterceptor {
  constructor(private readonly vmx: Vmx) {}

  /** The VMX-preemption timer: a VM exit once it has counted down to 0 (SDM 26.5.1). */
  boundary(cpu: Cpu): boolean {
    const vmx = this.vmx;
    if (!vmx.nonRoot || cpu.cycles < vmx.timerDeadline) return false;
    vmx.exit({ reason: EXIT_PREEMPTION_TIMER });
    return true;
  }

  /** NMI exiting: the NMI becomes a VM exit with reason 0 (SDM 26.2). */
  nmi(_cpu: Cpu): boolean {
    const vmx = this.vmx;
    if (!vmx.nonRoot || (vmx.pin & PIN_NMI_EXITING) === 0) return false;
    vmx.exit({ reason: EXIT_EXCEPTION_OR_NMI, interruptionInfo: INTR_VALID | (INTR_TYPE_NMI << 8) | 2 });
    return true;
  }

  /**
   * External-interrupt exiting: the interrupt becomes a VM exit with reason 1; with
   * "acknowledge interrupt on exit" the vector is taken from the APIC and reported.
   * (RFLAGS.IF does not block it in that case, SDM 26.3.1.1: the event service should
   * ask even when the guest has IF = 0.)
   */
  externalInterrupt(_cpu: Cpu, acknowledge: () => number): boolean {
    const vmx = this.vmx;
    if (!vmx.nonRoot || (vmx.pin & PIN_EXTERNAL_INTERRUPT_EXITING) === 0) return false;
    const info = (vmx.exitControls & EXIT_ACK_INTERRUPT_ON_EXIT) !== 0 ? INTR_VALID | (acknowledge() & 0xff) : 0;
    vmx.exit({ reason: EXIT_EXTERNAL_INTERRUPT, interruptionInfo: info });
    return true;
  }

  /**
   * Every exception of the guest (installed as cpu.interceptFault in non-root operation):
   * a VM exit if the exception bitmap says so, else delivery through the guest IDT with
   * IDT-vectoring information kept for an exit during that delivery. Returns true: the
   * fault is dealt with either way.
   */
  readonly interceptFault = (cpu: Cpu, f: CpuFault): boolean => {
    const vmx = this.vmx;
    if (!vmx.nonRoot) return false;
    const vector = f.vector;
    const code = f.errorCode >= 0 && hasErrorCode(vector) ? f.errorCode : -1;
    const info = INTR_VALID | (INTR_TYPE_HARDWARE_EXCEPTION << 8) | vector | (code >= 0 ? INTR_ERROR_CODE_VALID : 0);
    if (this.exceptionExits(vector, code)) {
      let qualification = 0;
      if (f instanceof PageFault) {
        // The exit, not the guest, takes the #PF: CR2 keeps its value, the address is the qualification.
        qualification = cpu.cr2;
        cpu.cr2 = f.previousCr2;
      }
      vmx.exit({
        reason: EXIT_EXCEPTION_OR_NMI, qualification, interruptionInfo: info,
        interruptionError: code >= 0 ? code : undefined,
      });
      return true;
    }
    vmx.vectoring = info;
    vmx.vectoringError = code;
    try {
      deliverEvent(cpu, vector, code, "fault");
    } catch (e) {
      if (!(e instanceof Interception)) throw e;
      e.action(cpu);
    } finally {
      vmx.vectoring = 0;
    }
    return true;
  };

  /** Whether an exception causes a VM exit (SDM 26.2): its bit in the bitmap, and for #PF the error-code mask and match. */
  exceptionExits(vector: number, code: number): boolean {
    const vmx = this.vmx;
    const bit = (vmx.exceptionBitmap >>> vector) & 1;
    if (vector !== PF_VEC) return bit === 1;
    const v = vmx.vmcs;
    const matches = (code & v.u32(PF_ERROR_CODE_MASK)) === v.u32(PF_ERROR_CODE_MATCH);
    return bit === 1 ? matches : !matches;
  }
}
