// `lvd tables`: the reference's tables beside ours, every figure of ours measured by
// running the code on the machine.

import { join } from "node:path";
import { Machine } from "../machine/machine.ts";
import { parseElf } from "../machine/elf.ts";
import { bootKernel } from "../kernel/boot/boot.ts";
import { table2, formatTable2, type Table2Row } from "../kernel/tables/table2.ts";
import { crossingCosts, formatCrossings, type CrossingRow } from "../kernel/tables/crossings.ts";
import { Lvd } from "../kernel/lvd/lvd.ts";
import { marshalCosts, formatMarshal, ksplitKernel, type MarshalRow } from "../kernel/tables/marshal.ts";
import { table3, formatTable3, type Table3Row } from "../kernel/tables/table3.ts";
import type { Kernel, KernelConfig } from "../kernel/kernel.ts";
import type { KernelPath } from "../kernel/thread.ts";
import { domainObjects, PROJECT_ROOT } from "./compile.ts";
import { buildGlue } from "./glue.ts";

export async function printTables(): Promise<number> {
  const driver = domainObjects(join(PROJECT_ROOT, "drivers", "tests", "domain_calls.c")).map((o) => parseElf(o.bytes, o.name));
  const glue = await buildGlue(join(PROJECT_ROOT, "idl", "ksplit_marshal.idl"));
  const marshalDriver = domainObjects(join(PROJECT_ROOT, "drivers", "bench", "ksplit_marshal.c"), "O2", [glue.cSource], [glue.dir])
    .map((o) => parseElf(o.bytes, o.name));
  const spinDriver = domainObjects(join(PROJECT_ROOT, "drivers", "bench", "interrupt_spin.c")).map((o) => parseElf(o.bytes, o.name));
  let t2: Table2Row[] = [];
  let t1: CrossingRow[] = [];
  let t4: MarshalRow[] = [];
  let t3: Table3Row[] = [];
  const runs = [
    onFreshMachine({}, function* (k) {
      t2 = yield* table2(k); // ends with the hypervisor launched
      const lvd = new Lvd(k);
      yield* lvd.start();
      t1 = yield* crossingCosts(k, lvd, driver);
      t4 = yield* marshalCosts(k, lvd, marshalDriver, (ch) => glue.bind(ch, ksplitKernel));
    }),
    // Table 3 compares two kernels: the vanilla interrupt entry, then LVD's (each launches its own hypervisor).
    onFreshMachine({ exitless: false }, function* (k) {
      t3 = yield* table3(k, spinDriver);
    }),
    onFreshMachine({}, function* (k) {
      t3 = [...t3, ...(yield* table3(k, spinDriver))];
    }),
  ];
  const failed = runs.find((stop) => stop !== "exit");
  if (failed || t2.length === 0 || t1.length === 0 || t4.length === 0 || t3.length !== 5) {
    process.stderr.write(`lvd: the measurement did not complete (${failed ?? "exit"})\n`);
    return 2;
  }
  process.stdout.write([formatCrossings(t1), formatTable2(t2), formatTable3(t3), formatMarshal(t4)].join("\n\n") + "\n");
  return 0;
}

/** Boots a kernel with `config` on a machine of its own, runs `main` and returns how the machine stopped. */
function onFreshMachine(config: KernelConfig, main: (k: Kernel) => KernelPath): string {
  const machine = new Machine({ cpus: 1, memoryBytes: 64 << 20, seed: 1 });
  bootKernel(machine, main, config);
  return machine.run(2_000_000_000).stop; // far more than the measurements take: a failure cannot hang
}
