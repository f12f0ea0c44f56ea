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
import { domainObjects, PROJECT_ROOT } from "./compile.ts";
import { buildGlue } from "./glue.ts";

export async function printTables(): Promise<number> {
  const driver = domainObjects(join(PROJECT_ROOT, "drivers", "tests", "domain_calls.c")).map((o) => parseElf(o.bytes, o.name));
  const glue = await buildGlue(join(PROJECT_ROOT, "idl", "ksplit_marshal.idl"));
  const marshalDriver = domainObjects(join(PROJECT_ROOT, "drivers", "bench", "ksplit_marshal.c"), "O2", [glue.cSource], [glue.dir])
    .map((o) => parseElf(o.bytes, o.name));
  const machine = new Machine({ cpus: 1, memoryBytes: 64 << 20, seed: 1 });
  let t2: Table2Row[] = [];
  let t1: CrossingRow[] = [];
  let t4: MarshalRow[] = [];
  bootKernel(machine, function* (k) {
    t2 = yield* table2(k); // ends with the hypervisor launched
    const lvd = new Lvd(k);
    yield* lvd.start();
    t1 = yield* crossingCosts(k, lvd, driver);
    t4 = yield* marshalCosts(k, lvd, marshalDriver, (ch) => glue.bind(ch, ksplitKernel));
  });
  const run = machine.run(2_000_000_000); // far more than the measurements take: a failure cannot hang
  if (run.stop !== "exit" || t2.length === 0 || t1.length === 0 || t4.length === 0) {
    process.stderr.write(`lvd: the measurement did not complete (${run.stop})\n`);
    return 2;
  }
  process.stdout.write(formatCrossings(t1) + "\n\n" + formatTable2(t2) + "\n\n" + formatMarshal(t4) + "\n");
  return 0;
}
