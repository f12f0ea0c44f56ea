// I/O-instruction exits (reason 30): every IN, OUT, INS and OUTS of the guest exits
// (unconditional I/O exiting), and the hypervisor performs it on the machine's port bus,
// so devices (the 0xE9 console, the exit port...) see exactly what they saw natively.
// The processor has checked I/O permission (CPL/IOPL, the TSS bitmap) before the exit.
//
// The exit qualification (SDM Table 28-5) gives size, direction, string, REP and port;
// string instructions also give the address size and segment in the instruction
// information. A string instruction runs like the native one (ops/string.ts): element by
// element, RSI/RDI/RCX describing the completed elements, at most MAX_ELEMENTS per
// execution, after which RIP stays on it and it exits again; a fault on an element
// leaves the completed ones done. Each execution charges the instruction's cost once,
// as natively.

import { RAX, RCX, RSI, RDI, FS, GS } from "../machine/cpu/arch.ts";
import { DF } from "../machine/cpu/flags.ts";
import { EXIT_QUALIFICATION, EXIT_INSTRUCTION_INFO, GUEST_RFLAGS, GUEST_FS_BASE, GUEST_GS_BASE, GUEST_CS_SELECTOR } from "../machine/vmx/fields.ts";
import { GuestMemory, bytesOf } from "./guest-memory.ts";
import { chargeInstruction } from "./emulated-cost.ts";
import type { Vcpu } from "./vcpu.ts";

/** Elements one execution of a REP INS/OUTS moves (ops/string.ts's MAX_ITERATIONS). */
const MAX_ELEMENTS = 4096;

/** Exit 30. */
export function ioExit(v: Vcpu): void {
  const q = v.read(EXIT_QUALIFICATION);
  const size = (q & 7) + 1, input = (q & 8) !== 0, string = (q & 16) !== 0, rep = (q & 32) !== 0;
  const port = (q >>> 16) & 0xffff;
  const c = v.cpu;
  if (!string) {
    chargeInstruction(c, input ? "inDX" : "outDX");
    if (input) c.writeReg(size, RAX, c.ports.in(port, size), 0);
    else c.ports.out(port, size, c.readReg(size, RAX));
    v.skip();
    return;
  }
  chargeInstruction(c, input ? "ins" : "outs");
  if (stringIo(v, port, size, input, rep)) v.skip();
  else c.instructions++; // one execution done; RIP stays on the instruction for the rest
}

/** One execution of INS/OUTS; true when the instruction is complete. */
function stringIo(v: Vcpu, port: number, size: number, input: boolean, rep: boolean): boolean {
  const c = v.cpu;
  const info = v.read(EXIT_INSTRUCTION_INFO);
  const a32 = ((info >>> 7) & 7) === 1;
  const seg = (info >>> 15) & 7;
  const step = (v.read(GUEST_RFLAGS) & DF) !== 0 ? -size : size;
  const user = (v.read(GUEST_CS_SELECTOR) & 3) === 3;
  // OUTS reads [seg:RSI] (FS/GS bases apply in 64-bit mode); INS writes [ES:RDI] (base 0).
  const base = input ? 0 : seg === FS ? v.read(GUEST_FS_BASE) : seg === GS ? v.read(GUEST_GS_BASE) : 0;
  if (rep && a32) c.hi[RCX] = 0; // a 67h REP writes ECX back zero-extended (ops/string.ts)
  const mem = new GuestMemory(v);
  let left = rep ? (a32 ? c.lo[RCX] >>> 0 : c.reg64(RCX)) : 1;
  for (let n = 0; left > 0 && n < MAX_ELEMENTS; n++) {
    const r = input ? RDI : RSI;
    const la = (a32 ? c.lo[r] >>> 0 : c.reg64(r)) + base;
    if (input) {
      mem.checkWrite(la, size, { user }); // fault before the port is read, so no input is lost
      mem.write(la, bytesOf([[c.ports.in(port, size) >>> 0, size]]), { user });
    } else {
      const b = mem.read(la, size, { user });
      let value = 0;
      for (let k = size - 1; k >= 0; k--) value = value * 256 + b[k];
      c.ports.out(port, size, value);
    }
    advance(v, r, step, a32);
    left--;
    if (rep) setCount(v, left, a32);
  }
  return left === 0;
}

/** Adds `d` to RSI/RDI, wrapping at the address size. */
function advance(v: Vcpu, r: number, d: number, a32: boolean): void {
  const c = v.cpu;
  if (a32) c.writeReg(4, r, (c.lo[r] + d) | 0, 0);
  else {
    const s = (c.lo[r] >>> 0) + d;
    c.lo[r] = s | 0;
    if (s > 0xffffffff) c.hi[r] = (c.hi[r] + 1) | 0;
    else if (s < 0) c.hi[r] = (c.hi[r] - 1) | 0;
  }
}

function setCount(v: Vcpu, left: number, a32: boolean): void {
  const c = v.cpu;
  if (a32) c.writeReg(4, RCX, left | 0, 0);
  else c.setReg64(RCX, left);
}

