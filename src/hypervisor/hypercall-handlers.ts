// The hypercalls (their interface: hypercalls.ts). Each runs on the vCPU that made it;
// those that change the hypervisor's state are refused outside the kernel (an isolated
// domain executing the same CPUID leaf gets an upcall, not a service).

import { RAX, RBX, RCX, RDX } from "../machine/cpu/arch.ts";
import {
  EXIT_CPUID, EPTP_LIST_ADDR, VM_FUNCTION_CONTROLS, SECONDARY_CONTROLS, CPU2_ENABLE_VM_FUNCTIONS, VMFUNC_EPTP_SWITCHING,
} from "../machine/vmx/fields.ts";
import { INVEPT_SINGLE_CONTEXT, INVEPT_ALL_CONTEXT } from "../machine/vmx/capabilities.ts";
import { validEptp } from "../machine/vmx/ept.ts";
import {
  HC_PROBE, HC_INSTALL_EPTP_LIST, HC_MAP_PAGE, HC_ABORT, HC_READ_COUNTER, HC_REGISTER_UPCALL, HC_SET_PROGRESS, HC_INVEPT,
  HC_OK, HC_EINVAL, HC_EFAULT, HC_ENOMEM, HYPERVISOR_SIGNATURE, HYPERVISOR_VERSION,
} from "./hypercalls.ts";
import { EPT_K_LIMIT } from "./ept-k.ts";
import { canonical } from "./guest-memory.ts";
import { upcall, UPCALL_ABORT, UPCALL_SENSITIVE_EXIT } from "./upcall.ts";
import type { PagePool } from "./page-pool.ts";
import type { Vcpu } from "./vcpu.ts";

/** What hypercalls need beyond the vCPU. */
export interface HypervisorServices {
  pool: PagePool;
}

const PAGE = 4096;

/** Sets a 64-bit register from a number in the signed form (negative errno values included). */
function set(v: Vcpu, r: number, value: number): void {
  v.cpu.setReg64(r, value);
}

/** Handles hypercall `leaf` (a CPUID exit); the CPUID is done (RIP moved on) unless it became an upcall. */
export function hypercall(v: Vcpu, services: HypervisorServices, leaf: number): void {
  const c = v.cpu;
  const rbx = c.reg64(RBX), rcx = c.reg64(RCX);
  if (leaf === HC_ABORT) {
    upcall(v, { kind: UPCALL_ABORT, reason: EXIT_CPUID, detail: rbx });
    return;
  }
  if (leaf !== HC_PROBE && !v.fromKernel()) {
    upcall(v, { kind: UPCALL_SENSITIVE_EXIT, reason: EXIT_CPUID, detail: leaf });
    return;
  }
  let result = HC_OK;
  switch (leaf) {
    case HC_PROBE:
      set(v, RBX, HYPERVISOR_SIGNATURE);
      set(v, RDX, HYPERVISOR_VERSION);
      break;
    case HC_INSTALL_EPTP_LIST: {
      const hpa = rbx >= 0 && rbx % PAGE === 0 ? v.ept.translate(v.id, rbx, c) : -2;
      if (hpa === -2) result = HC_EINVAL;
      else if (hpa < 0) result = HC_EFAULT;
      else {
        // VMFUNC reads the list at a host-physical address: the page EPT_K maps here (per-CPU pages included).
        v.write(EPTP_LIST_ADDR, hpa);
        v.write(VM_FUNCTION_CONTROLS, VMFUNC_EPTP_SWITCHING);
        v.write(SECONDARY_CONTROLS, v.read(SECONDARY_CONTROLS) | CPU2_ENABLE_VM_FUNCTIONS);
        set(v, RBX, v.eptp);
      }
      break;
    }
    case HC_MAP_PAGE:
      result = mapPage(v, services.pool, rbx, rcx);
      break;
    case HC_READ_COUNTER: {
      const n = v.counters.read(rbx);
      result = n < 0 ? HC_EINVAL : n;
      break;
    }
    case HC_REGISTER_UPCALL:
      if (!canonical(rbx) || !canonical(rcx) || !canonical(rcx - 4096)) result = HC_EINVAL;
      else v.upcall = { entry: rbx, stackTop: rcx };
      break;
    case HC_SET_PROGRESS:
      if (rbx < 0 || rbx % 8 !== 0) result = HC_EINVAL;
      else if (v.ept.translate(v.id, rbx, c) < 0) result = HC_EFAULT;
      else {
        v.progressGpa = rbx;
        v.lastProgress = null;
      }
      break;
    case HC_INVEPT:
      result = invept(v, rbx);
      break;
  }
  set(v, RAX, result);
  v.skip();
}

/** MAP_PAGE: guest-physical page `gpa` of this vCPU's EPT_K to machine page `hpa` (RAM, not the pool). */
function mapPage(v: Vcpu, pool: PagePool, gpa: number, hpa: number): number {
  const mem = v.cpu.mem;
  if (gpa < 0 || hpa < 0 || gpa % PAGE !== 0 || hpa % PAGE !== 0 || gpa >= EPT_K_LIMIT) return HC_EINVAL;
  if (!mem.isRam(hpa, PAGE) || pool.contains(gpa) || pool.contains(hpa)) return HC_EFAULT;
  if (!v.ept.remap(v.id, gpa, hpa)) return HC_ENOMEM;
  // This vCPU's cached translations through its EPT_K may hold the old page.
  const r = v.vmx.invept(INVEPT_SINGLE_CONTEXT, v.eptp);
  if (r !== 0) throw new Error(`INVEPT failed (${r})`);
  return HC_OK;
}

/** INVEPT for the kernel: single-context for `eptp`, all-context for 0; a malformed EPTP is refused, not executed. */
function invept(v: Vcpu, eptp: number): number {
  if (eptp !== 0 && (eptp < 0 || !validEptp(eptp % 4294967296, Math.floor(eptp / 4294967296)))) return HC_EINVAL;
  const r = eptp === 0 ? v.vmx.invept(INVEPT_ALL_CONTEXT, 0) : v.vmx.invept(INVEPT_SINGLE_CONTEXT, eptp);
  if (r !== 0) throw new Error(`INVEPT failed (${r})`);
  return HC_OK;
}
