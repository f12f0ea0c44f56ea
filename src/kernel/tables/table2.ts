// The reference's Table 2: the cost of sensitive instructions natively and under the
// LVD hypervisor, measured by running them (arch/bench.S) in the kernel, before and after
// the late launch. Under the hypervisor WRMSR and OUT exit and are emulated; MOV to CR3
// does not exit while the value is in the CR3-target list (the row "not a target" loads
// five different address spaces in turn, so every load misses the four-entry list).

import type { Kernel } from "../kernel.ts";
import { call, type KernelPath } from "../thread.ts";
import { AddressSpace } from "../mm/address-space.ts";
import { lateLaunch } from "../late-launch.ts";
import { IA32_KERNEL_GS_BASE } from "../../machine/cpu/ops/msr.ts";

/** An unclaimed port (POST codes): an OUT to it reaches no device, as in the reference. */
const PORT = 0x80;
const N = 200;

export interface Table2Row {
  name: string;
  paper: { native: number; virtualized: number } | null;
  native: number;
  virtualized: number;
  /** VM exits per instruction under the hypervisor. */
  exits: number;
}

export function* table2(k: Kernel): KernelPath<Table2Row[]> {
  const spaces = [k.kernelMm, ...[1, 2, 3, 4].map((i) => new AddressSpace(`bench${i}`, k.mem, k.pages, k.kernelMm))];
  const list = k.heap.alloc(8 * spaces.length);
  spaces.forEach((s, i) => k.mem.write64(list + 8 * i, s.cr3));

  const exitsNow = () => [...(k.hypervisor?.exitCounts(k.cpu.id).values() ?? [])].reduce((a, b) => a + b, 0);
  /** Cycles per instruction (the loop subtracted) and VM exits per instruction, of each row. */
  const measure = function* (): KernelPath<{ cycles: number[]; exits: number[] }> {
    const s = k.symbols;
    const loop = yield* call(s.lvd_bench_loop, N);
    const cycles: number[] = [], exits: number[] = [];
    for (const [fn, ...args] of [
      [s.lvd_bench_wrmsr, N, IA32_KERNEL_GS_BASE, 0], [s.lvd_bench_out, N, PORT],
      [s.lvd_bench_write_cr3, N, k.kernelMm.cr3], [s.lvd_bench_cr3_rotate, N, list, spaces.length],
    ]) {
      const before = exitsNow();
      cycles.push(Math.round(((yield* call(fn, ...args)) - loop) / N));
      exits.push((exitsNow() - before) / N);
      yield* call(s.lvd_write_cr3, k.kernelMm.cr3); // the rotation leaves another address space loaded
    }
    return { cycles, exits };
  };

  // Pinned to vCPU 0 so both runs use the same core, its TLB and its VMCS.
  let native = { cycles: [] as number[], exits: [] as number[] };
  let virtualized = native;
  const bench = k.spawn("table2", function* () {
    native = yield* measure();
  }, 0);
  yield* k.join(bench);
  yield* lateLaunch(k);
  const again = k.spawn("table2", function* () {
    virtualized = yield* measure();
  }, 0);
  yield* k.join(again);
  const rows: [string, Table2Row["paper"]][] = [
    ["write MSR", { native: 127, virtualized: 1367 }],
    ["OUT", { native: 4213, virtualized: 5384 }],
    ["write CR3", { native: 130, virtualized: 143 }],
    ["write CR3, not a target", null],
  ];
  return rows.map(([name, paper], i) => ({
    name, paper, native: native.cycles[i], virtualized: virtualized.cycles[i], exits: virtualized.exits[i],
  }));
}

/** The table as text, ours beside the paper's. */
export function formatTable2(rows: Table2Row[]): string {
  const lines = [
    "Table 2: sensitive instructions, cycles (paper: Haswell E5-2660 v3; ours: modeled, measured by running them)",
    "",
    "  instruction               native  (paper)   virtualized  (paper)   ratio (paper)   exits/instr",
  ];
  for (const r of rows) {
    const ratio = (r.virtualized / r.native).toFixed(2);
    const p = r.paper;
    lines.push(
      `  ${r.name.padEnd(24)} ${String(r.native).padStart(7)}  ${(p ? `(${p.native})` : "").padStart(7)}   ${String(r.virtualized).padStart(11)}  ${(p ? `(${p.virtualized})` : "").padStart(7)}   ${ratio.padStart(5)} ${(p ? `(${(p.virtualized / p.native).toFixed(2)})` : "").padStart(7)}   ${r.exits.toFixed(2).padStart(11)}`,
    );
  }
  return lines.join("\n");
}
