import { describe, it, expect } from "vitest";
import { join } from "node:path";
import { runLvd } from "../helpers/lvd.ts";
import { buildGlue } from "../../src/cli/glue.ts";
import { domainObjects, PROJECT_ROOT } from "../../src/cli/compile.ts";
import { parseElf } from "../../src/machine/elf.ts";
import { marshalCosts, ksplitKernel, type MarshalRow } from "../../src/kernel/tables/marshal.ts";
import { COSTS } from "../../src/machine/cost.ts";
import { dummyBus } from "../../src/kernel/lvd/apis/dummy-bus.ts";

describe("IDL-generated glue across a real domain boundary", async () => {
  const glue = await buildGlue(join(PROJECT_ROOT, "idl", "ksplit_marshal.idl"));
  const driver = domainObjects(join(PROJECT_ROOT, "drivers", "bench", "ksplit_marshal.c"), "O2", [glue.cSource], [glue.dir])
    .map((o) => parseElf(o.bytes, o.name));
  let rows: MarshalRow[] = [];
  const r = runLvd(function* (k, lvd) {
    rows = yield* marshalCosts(k, lvd, driver, (ch) => glue.bind(ch, ksplitKernel));
  });

  it("the driver calls the kernel through its C glue, the kernel answers through its TypeScript glue (integer + 1, the union's point x + y)", () => {
    expect(r.run.stop).toBe("exit");
    expect(r.log).toContain("lvd: domain ksplit_marshal: init returned 0"); // init checks integer(41) == 42, union_call == 7
    expect(rows).toHaveLength(6);
  });

  it("every call crosses twice (two VMFUNCs at least), and bigger arguments cost more", () => {
    const cost = Object.fromEntries(rows.map((x) => [x.name, x.ours]));
    for (const x of rows) expect(x.ours).toBeGreaterThan(2 * COSTS.vmfunc);
    expect(cost["integer"]).toBeGreaterThan(cost["null call"]);
    expect(cost["array of 32 x 8 bytes"]).toBeGreaterThan(cost["integer"]);
    expect(cost["4 KB void buffer"]).toBeGreaterThan(cost["array of 32 x 8 bytes"]);
  });
});

describe("isolating the dummy driver with its IDL", async () => {
  const glue = await buildGlue(join(PROJECT_ROOT, "idl", "dummy.idl"));
  const driver = domainObjects(join(PROJECT_ROOT, "drivers", "examples", "dummy", "dummy.c"), "O2", [glue.cSource], [glue.dir, join(PROJECT_ROOT, "idl")])
    .map((o) => parseElf(o.bytes, o.name));

  it("the driver registers a device; the kernel probes it through the rpc_ptr trampoline (a nested crossing) and removes it at exit", () => {
    let status = -1;
    const r = runLvd(function* (k, lvd) {
      const { domain, status: s } = yield* lvd.create("dummy", driver, (ch) => glue.bind(ch, dummyBus(k)));
      status = s;
      yield* lvd.destroy(domain);
    });
    expect(r.run.stop).toBe("exit");
    expect(status).toBe(0);
    const lines = r.log.filter((l) => l.startsWith("dummy bus:") || l.startsWith("[dummy]"));
    expect(lines).toEqual([
      'dummy bus: driver says "hello from the dummy driver"',
      'dummy bus: device 7 "dummy0" registered; probing',
      "[dummy] dummy: probe of device 7 (dummy0): state 1",
      "dummy bus: probe of device 7 returned 0",
      "[dummy] dummy: registered, status 0, state 1",
      "[dummy] dummy: remove of device 7",
      "dummy bus: device 7 removed",
      "[dummy] dummy: unregistered, state 0",
    ]);
  });
});
