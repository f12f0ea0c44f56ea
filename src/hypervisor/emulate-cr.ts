// Control-register exits (reason 28): what the kernel's MOV to CR0/CR3/CR4 (and LMSW,
// CLTS) would have done natively, done to the VMCS guest state.
//
// - CR0/CR4: only writes that change a bit the hypervisor owns exit (OwnedBits). The
//   write gets the checks the native instruction makes (#GP for reserved bits, for PG
//   without PE, for leaving long mode; CR4.VMXE is reserved as the guest sees the
//   processor: no VMX); then the shadow takes the guest's owned bits and the real
//   register keeps the ones VMX needs.
// - CR3: a load whose operand is no CR3 target (cr3-cache.ts). The hypervisor loads it,
//   does to the TLB what the load would have done natively (non-global translations of
//   this VPID go, for every EPTP: INVVPID single-context-retaining-globals; kept with
//   CR4.PCIDE when bit 63 asks and the PCID stays), and adds the value to the targets.
//
// A TLB flush the native write would make (CR0.PG/WP/CD, CR4 paging bits) is INVVPID
// single-context here. Each emulated write charges a MOV to CR.

import { GP, CR0_PE, CR0_PG, CR0_NW, CR0_CD, CR0_WP, CR0_ET, CR0_TS, CR4_PAE, CR4_PCIDE, CR4_VMXE, EFER_LMA } from "../machine/cpu/arch.ts";
import { CR0_WRITABLE, CR4_SUPPORTED, CR4_FLUSH } from "../machine/cpu/ops/control-regs.ts";
import { MAXPHYADDR } from "../machine/cpu/paging.ts";
import { INVVPID_SINGLE_CONTEXT, INVVPID_SINGLE_CONTEXT_RETAINING_GLOBALS } from "../machine/vmx/capabilities.ts";
import {
  EXIT_QUALIFICATION, GUEST_CR0, GUEST_CR3, GUEST_CR4, GUEST_IA32_EFER, CR0_READ_SHADOW, CR4_READ_SHADOW,
  CR3_TARGET_VALUES, CR3_TARGET_COUNT,
} from "../machine/vmx/fields.ts";
import { GuestFault } from "./guest-memory.ts";
import { chargeInstruction } from "./emulated-cost.ts";
import type { Vcpu } from "./vcpu.ts";

const MOV_TO_CR = 0, MOV_FROM_CR = 1, CLTS = 2, LMSW = 3;

function gp(): never {
  throw new GuestFault(GP, 0);
}

/** Invalidates this vCPU's translations (all EPTPs), as a change of paging-mode bits does natively. */
function flushVpid(v: Vcpu, keepGlobal: boolean): void {
  const r = v.vmx.invvpid(keepGlobal ? INVVPID_SINGLE_CONTEXT_RETAINING_GLOBALS : INVVPID_SINGLE_CONTEXT, v.vpid);
  if (r !== 0) throw new Error(`INVVPID failed (${r})`);
}

/** Exit 28. Returns normally when the instruction is done (or a fault was thrown for injection). */
export function controlRegisterAccess(v: Vcpu): void {
  const q = v.read(EXIT_QUALIFICATION);
  const cr = q & 15, type = (q >>> 4) & 3, reg = (q >>> 8) & 15;
  switch (type) {
    case MOV_TO_CR: {
      chargeInstruction(v.cpu, "movToCr", `0F 22 /${cr}`);
      const [lo, hi] = v.regHalves(reg);
      if (cr === 0) writeCr0(v, lo, hi);
      else if (cr === 3) writeCr3(v, lo, hi);
      else if (cr === 4) writeCr4(v, lo, hi);
      else throw new Error(`unexpected MOV to CR${cr} exit`);
      break;
    }
    case CLTS:
      chargeInstruction(v.cpu, "clts");
      setCr0(v, v.read(CR0_READ_SHADOW) | (v.read(GUEST_CR0) & ~v.owned.cr0Mask), ~CR0_TS);
      break;
    case LMSW: {
      chargeInstruction(v.cpu, "lmsw");
      // LMSW loads PE, MP, EM, TS from bits 3:0 of its source; it can set PE, never clear it.
      const src = (q >>> 16) & 0xf;
      const cr0 = guestView(v);
      setCr0(v, (cr0 & ~0xe) | src | (cr0 & CR0_PE), -1);
      break;
    }
    case MOV_FROM_CR:
    default:
      throw new Error(`unexpected MOV from CR${cr} exit (CR3-store exiting is off)`);
  }
  v.skip();
}

/** CR0 as the guest reads it: owned bits from the shadow. */
function guestView(v: Vcpu): number {
  const mask = v.owned.cr0Mask;
  return ((v.read(GUEST_CR0) & ~mask) | (v.read(CR0_READ_SHADOW) & mask)) >>> 0;
}

function writeCr0(v: Vcpu, lo: number, hi: number): void {
  if (hi !== 0) gp();
  const value = (lo & CR0_WRITABLE) | CR0_ET;
  if ((value & CR0_PG) !== 0 && (value & CR0_PE) === 0) gp();
  if ((value & CR0_NW) !== 0 && (value & CR0_CD) === 0) gp();
  if ((value & CR0_PG) === 0 && (v.read(GUEST_IA32_EFER) & EFER_LMA) !== 0) gp(); // would leave long mode
  setCr0(v, value, -1);
}

/** Loads the guest's CR0 with `value` (as the guest sees it) `& keep`; the real CR0 keeps what VMX needs. */
function setCr0(v: Vcpu, value: number, keep: number): void {
  const mask = v.owned.cr0Mask;
  const view = (value & keep) >>> 0;
  const old = v.read(GUEST_CR0);
  const real = ((view & ~mask) | v.owned.cr0MustBe1) >>> 0;
  v.write(CR0_READ_SHADOW, (view & mask) >>> 0);
  v.write(GUEST_CR0, real);
  if (((old ^ real) & (CR0_PG | CR0_PE | CR0_WP | CR0_CD)) !== 0) flushVpid(v, false);
}

function writeCr4(v: Vcpu, lo: number, hi: number): void {
  // The guest's processor has no VMX: CR4.VMXE is a reserved bit to it.
  if (hi !== 0 || (lo & ~(CR4_SUPPORTED & ~CR4_VMXE)) !== 0) gp();
  if ((lo & CR4_PAE) === 0) gp(); // long mode needs PAE
  const old = v.read(GUEST_CR4);
  if ((lo & CR4_PCIDE) !== 0 && (old & CR4_PCIDE) === 0 && v.read(GUEST_CR3) % 4096 !== 0) gp();
  const mask = v.owned.cr4Mask;
  const real = ((lo & ~mask) | v.owned.cr4MustBe1 | CR4_VMXE) >>> 0;
  v.write(CR4_READ_SHADOW, (lo & mask) >>> 0);
  v.write(GUEST_CR4, real);
  if (((old ^ real) & CR4_FLUSH) !== 0) flushVpid(v, false);
}

function writeCr3(v: Vcpu, lo: number, hi: number): void {
  const pcide = (v.read(GUEST_CR4) & CR4_PCIDE) !== 0;
  const keepTlb = pcide && hi < 0; // bit 63: keep this PCID's translations
  const h = pcide ? hi & 0x7fffffff : hi;
  if (h >>> (MAXPHYADDR - 32) !== 0) gp();
  const [oldLo, oldHi] = v.readHalves(GUEST_CR3);
  v.writeHalves(GUEST_CR3, lo, h);
  if (!(keepTlb && (lo & 0xfff) === (oldLo & 0xfff))) flushVpid(v, true);

  // The CR3 being left was in use until now; the new operand becomes a target.
  const cache = v.cr3;
  cache.touch(oldLo, oldHi);
  const before = cache.count;
  const { slot } = cache.insert(lo, hi);
  v.writeHalves(CR3_TARGET_VALUES[slot], lo, hi);
  if (cache.count !== before) v.write(CR3_TARGET_COUNT, cache.count);
}
