// The functions the kernel exports to modules (drivers/include/lvd/kernel.h). Each is a
// native gate: a module's CALL reaches the kernel only through these addresses.

import type { Kernel } from "../kernel.ts";
import { call } from "../thread.ts";
import { RDI, RSI, RDX, RCX } from "../../machine/cpu/cpu.ts";
import { formatPrintk } from "./printk.ts";
import { regU64 } from "../registers.ts";

const VARARG_REGS = [RSI, RDX, RCX, 8, 9];

export function exportKernelFunctions(k: Kernel): void {
  k.export("printk", () => {
    const c = k.cpu;
    const fmt = k.mem.readString(c.reg64(RDI), 1024);
    const regs = VARARG_REGS.map((r) => regU64(c, r));
    let n = 0;
    const rsp = c.rsp;
    const next = (): bigint => {
      const k8 = n++;
      if (k8 < regs.length) return regs[k8];
      const at = rsp + 8 * (1 + k8 - regs.length); // stack arguments, above the return address
      return (BigInt(k.mem.read32(at + 4)) << 32n) | BigInt(k.mem.read32(at));
    };
    const text = formatPrintk(fmt, next, (va) => k.mem.readString(Number(BigInt.asIntN(64, va)), 1024));
    for (const line of text.replace(/\n$/, "").split("\n")) k.log(line);
    return text.length;
  });
  k.export("kmalloc", (size) => {
    k.charge("kmalloc");
    return k.heap.alloc(size);
  });
  k.export("kfree", (va) => {
    k.charge("kmalloc");
    if (va !== 0) k.heap.free(va);
  });
  k.export("smp_processor_id", () => k.cpu.id);
  k.export("kernel_fpu_begin", () => k.fpuBegin());
  k.export("kernel_fpu_end", () => k.fpuEnd());
  k.export("current_thread_id", () => k.current().id);
  k.export("schedule", () => k.scheduler.schedule());
  k.export("sleep_cycles", (cycles) => k.scheduler.sleep(cycles));

  const results = new Map<number, number>();
  k.export("kthread_run", (fn, arg, namePtr) => {
    const name = namePtr ? k.mem.readString(namePtr, 64) : "kthread";
    const t = k.spawn(name, function* () {
      results.set(t.id, yield* call(fn, arg));
    });
    return t.id;
  });
  k.export("kthread_join", function* (id) {
    const t = k.threads.get(id);
    if (t) yield* k.join(t);
    const r = results.get(id);
    results.delete(id);
    return r ?? -1;
  });
}
