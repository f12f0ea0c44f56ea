// Crossing costs beside the reference's (Table 1): VMFUNC alone (a primitive: the input
// the model is built from) and a null call/reply into a domain and back, measured by
// running the crossing code: the kernel's trampoline, two VMFUNCs, the domain library's
// entry and dispatcher, and the way back.

import type { Kernel } from "../kernel.ts";
import { call, type KernelPath } from "../thread.ts";
import type { Lvd } from "../lvd/lvd.ts";
import { KIND, header } from "../lvd/lvd.ts";
import type { ElfFile } from "../../machine/elf.ts";

export interface CrossingRow {
  name: string;
  paper: number;
  ours: number;
}

const N = 100;

/** `driver`: objects of a domain whose dispatcher answers RPC_PTR 0 with an empty reply (drivers/tests/domain_calls.c). */
export function* crossingCosts(k: Kernel, lvd: Lvd, driver: ElfFile[]): KernelPath<CrossingRow[]> {
  const rows: CrossingRow[] = [];
  const t = k.spawn("crossings", function* () {
    const loop = yield* call(k.symbols.lvd_bench_loop, N);
    const vmfunc = yield* call(k.symbols.lvd_bench_vmfunc, N);
    rows.push({ name: "VMFUNC (input)", paper: 169, ours: Math.round((vmfunc - loop) / N) });
    const { domain } = yield* lvd.create("null", driver);
    yield* lvd.call(domain, [header(KIND.RPC_PTR, 0)]); // warm: TLBs, decoded blocks
    const start = k.cpu.cycles;
    for (let i = 0; i < N; i++) yield* lvd.call(domain, [header(KIND.RPC_PTR, 0)]);
    rows.push({ name: "null call/reply into a domain", paper: 396, ours: Math.round((k.cpu.cycles - start) / N) });
    yield* lvd.destroy(domain);
  }, 0);
  yield* k.join(t);
  return rows;
}

export function formatCrossings(rows: CrossingRow[]): string {
  return [
    "Table 1: crossings, cycles (paper: Haswell E5-2660 v3; ours: modeled, measured by running the crossing code)",
    "",
    "  operation                           ours   paper   ratio",
    ...rows.map((r) => `  ${r.name.padEnd(34)} ${String(r.ours).padStart(5)}   ${String(r.paper).padStart(5)}   ${(r.ours / r.paper).toFixed(2)}`),
  ].join("\n");
}
