// `lvd tables`: the reference's tables beside ours, every figure of ours measured by
// running the code on the machine.

import { Machine } from "../machine/machine.ts";
import { bootKernel } from "../kernel/boot/boot.ts";
import { table2, formatTable2, type Table2Row } from "../kernel/tables/table2.ts";

export function printTables(): number {
  const machine = new Machine({ cpus: 1, memoryBytes: 64 << 20, seed: 1 });
  let rows: Table2Row[] = [];
  bootKernel(machine, function* (k) {
    rows = yield* table2(k);
  });
  const run = machine.run();
  if (run.stop !== "exit" || rows.length === 0) {
    process.stderr.write(`lvd: the measurement did not complete (${run.stop})\n`);
    return 2;
  }
  process.stdout.write(formatTable2(rows) + "\n");
  return 0;
}
