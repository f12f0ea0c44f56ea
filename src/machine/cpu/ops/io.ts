// Port I/O: IN and OUT with an immediate port or DX. (INS/OUTS are string instructions.)
// The port bus is whatever the machine attached: devices natively, or the hypervisor's
// exit path once I/O exiting is on.

import { RAX, RDX, CpuFault, GP } from "../arch.ts";
import type { Cpu } from "../cpu.ts";
import type { Insn } from "../decoder.ts";
import { IOPL } from "../flags.ts";
import type { Handler } from "./index.ts";
import { interceptIo } from "../../vmx/intercepts.ts";

/**
 * Protected-mode I/O permission (SDM vol. 1, 19.5): when CPL > IOPL, every port of the
 * access must be allowed (bit clear) in the TSS I/O permission bit map, whose offset is
 * the 16-bit field at TSS+66H; a map (two bytes read) beyond the TSS limit denies. #GP(0).
 */
export function checkIoPermission(c: Cpu, port: number, size: number): void {
  if (c.cpl <= (c.rfl & IOPL) >> 12) return;
  if (c.trLimit < 0x67) throw new CpuFault(GP, 0);
  const mapBase = c.mem.read16(c.translateAs(c.trBase + 0x66, 1, false));
  const at = mapBase + (port >>> 3);
  if (at + 1 > c.trLimit) throw new CpuFault(GP, 0);
  const lo = c.mem.read8(c.translateAs(c.trBase + at, 1, false));
  const hi = c.mem.read8(c.translateAs(c.trBase + at + 1, 1, false));
  const bits = ((hi << 8) | lo) >>> (port & 7);
  if ((bits & ((1 << size) - 1)) !== 0) throw new CpuFault(GP, 0);
}

function portIn(c: Cpu, i: Insn, port: number, immediate: boolean): void {
  const size = i.opsize;
  checkIoPermission(c, port, size);
  if (c.vmx?.nonRoot) interceptIo(c, i, port, size, true, false, immediate); // VMX: I/O exiting and bitmaps
  c.writeReg(size, RAX, c.ports.in(port, size), 0);
}
function portOut(c: Cpu, i: Insn, port: number, immediate: boolean): void {
  const size = i.opsize;
  checkIoPermission(c, port, size);
  if (c.vmx?.nonRoot) interceptIo(c, i, port, size, false, false, immediate); // VMX: I/O exiting and bitmaps
  c.ports.out(port, size, c.readReg(size, RAX));
}

const inI: Handler = (c, i) => portIn(c, i, i.immLo & 0xff, true);
const outI: Handler = (c, i) => portOut(c, i, i.immLo & 0xff, true);
const inDX: Handler = (c, i) => portIn(c, i, c.lo[RDX] & 0xffff, false);
const outDX: Handler = (c, i) => portOut(c, i, c.lo[RDX] & 0xffff, false);

export const io: Record<string, Handler> = { inI, outI, inDX, outDX };
