// `lvd tables`: the reference's tables beside ours, every figure of ours measured by
// running the code on the machine.

import { join } from "node:path";
import { Machine } from "../machine/machine.ts";
import { parseElf } from "../machine/elf.ts";
import { bootKernel } from "../kernel/boot/boot.ts";
import { table2, formatTable2, type Table2Row } from "../kernel/tables/table2.ts";
import { crossingCosts, formatCrossings, type CrossingRow } from "../kernel/tables/crossings.ts";
import { Lvd } from "../kernel/lvd/lvd.ts";
import { domainObjects, PROJECT_ROOT } from "./compile.ts";

export function printTables(): number {
  const driver = domainObjects(join(PROJECT_ROOT, "drivers", "tests", "domain_calls.c")).map((o) => parseElf(o.bytes, o.name));
  const machine = new Machine({ cpus: 1, memoryBytes: 64 << 20, seed: 1 });
  let t2: Table2Row[] = [];
  let t1: CrossingRow[] = [];
  bootKernel(machine, function* (k) {
    t2 = yield* table2(k); // ends with the hypervisor launched
    const lvd = new Lvd(k);
    yield* lvd.start();
    t1 = yield* crossingCosts(k, lvd, driver);
  });
  const run = machine.run();
  if (run.stop !== "exit" || t2.length === 0 || t1.length === 0) {
    process.stderr.write(`lvd: the measurement did not complete (${run.stop})\n`);
    return 2;
  }
  process.stdout.write(formatCrossings(t1) + "\n\n" + formatTable2(t2) + "\n");
  return 0;
}
