// Port I/O: IN and OUT with an immediate port or DX. (INS/OUTS are string instructions.)
// The port bus is whatever the machine attached: devices natively, or the hypervisor's
// exit path once I/O exiting is on.

import { RAX, RDX } from "../cpu.ts";
import type { Cpu } from "../cpu.ts";
import type { Insn } from "../decoder.ts";
import type { Handler } from "./index.ts";

function portIn(c: Cpu, i: Insn, port: number): void {
  const size = i.opsize;
  c.writeReg(size, RAX, c.ports.in(port, size), 0);
}
function portOut(c: Cpu, i: Insn, port: number): void {
  const size = i.opsize;
  c.ports.out(port, size, c.readReg(size, RAX));
}

const inI: Handler = (c, i) => portIn(c, i, i.immLo & 0xff);
const outI: Handler = (c, i) => portOut(c, i, i.immLo & 0xff);
const inDX: Handler = (c, i) => portIn(c, i, c.lo[RDX] & 0xffff);
const outDX: Handler = (c, i) => portOut(c, i, c.lo[RDX] & 0xffff);

export const io: Record<string, Handler> = { inI, outI, inDX, outDX };
