// The domain syscalls (reference §4: a domain's interface to the kernel that is not its
// driver's IDL): a message of kind SYSCALL whose index is the number. The C side is
// drivers/lib/lvd/syscalls.c; the numbers are drivers/include/lvd/domain.h's.

import type { Kernel } from "../kernel.ts";
import type { KernelPath } from "../thread.ts";
import type { Domain } from "./domain.ts";
import type { Lvd } from "./lvd.ts";
import { formatPrintk } from "../modules/printk.ts";
import { KIND_REPLY, KIND_ERROR, header } from "../../idl/wire.ts";

export const SYS = { EXIT: 0, PRINTK: 1, ALLOC_PAGES: 2, CPU: 3 } as const;

const reply = (...v: bigint[]) => [header(KIND_REPLY, 0, 1 + v.length), ...v];
const failed = () => [header(KIND_ERROR, 0, 1)];
const addr = (w: bigint) => Number(BigInt.asIntN(64, w));

/** Runs syscall `nr` of domain `d` (w: the whole message, header first); returns the reply message. */
export function* syscall(k: Kernel, lvd: Lvd, d: Domain, nr: number, w: bigint[]): KernelPath<bigint[]> {
  switch (nr) {
    case SYS.PRINTK: {
      let n = 2;
      const text = formatPrintk(d.readString(addr(w[1]), 512), () => w[n++] ?? 0n, (va) => d.readString(addr(va), 512));
      for (const line of text.replace(/\n$/, "").split("\n")) k.log(`[${d.name}] ${line}`);
      return reply(BigInt(text.length));
    }
    case SYS.ALLOC_PAGES:
      return reply(BigInt.asUintN(64, BigInt(d.allocPages(Number(w[1] > 4096n ? 0n : w[1])))));
    case SYS.CPU:
      return reply(BigInt(k.cpu.id));
    case SYS.EXIT:
      lvd.kill(d, `exited with code ${BigInt.asIntN(32, w[1])}`);
      return failed();
  }
  return failed();
}
