import { describe, it, expect } from "vitest";
import { runKernel, moduleFromC } from "../helpers/kernel.ts";
import { ModuleError } from "../../src/kernel/modules/loader.ts";

describe("module loader (native, non-isolated modules)", () => {
  it("links a gcc-compiled module into kernel space, runs init in kernel threads on 4 vCPUs, and unloads it", () => {
    const r = runKernel(function* (k) {
      const { module, status } = yield* k.modules.load("hello", moduleFromC("drivers/examples/hello.c"));
      expect(status).toBe(0);
      expect(module.image.base).toBe(-0x60000000);
      yield* k.modules.unload(module);
    }, { cpus: 4 });
    expect(r.run.stop).toBe("exit");
    const done = r.log.filter((l) => /^hello: worker \d done/.test(l));
    expect(done).toHaveLength(6);
    expect(r.log).toContain("hello: goodbye");
    expect(r.log.some((l) => /^hello: all workers done, checksum \d+$/.test(l))).toBe(true);
    expect(r.k.stats.oopses).toBe(0);
  });

  it("maps module text read-execute and data no-execute", () => {
    runKernel(function* (k) {
      const { module } = yield* k.modules.load("hello", moduleFromC("drivers/examples/hello.c"));
      const text = module.image.regions.find((r) => r.perms === "rx")!;
      const pte = k.kernelMm.lookup(text.start);
      expect(pte).toBeGreaterThan(0);
      // A kernel write to module text faults (CR0.WP): the GuestMemory write throws a #PF.
      expect(() => k.mem.write8(text.start, 0x90)).toThrow();
    });
  });

  it("a module that faults is killed with a report naming the exception, RIP and address; the kernel goes on", () => {
    const r = runKernel(function* (k) {
      yield* k.modules.load("fault", moduleFromC("drivers/tests/fault.c"));
      k.log("kernel still running");
    }, { cpus: 2 });
    expect(r.run.stop).toBe("exit");
    const oops = r.log.find((l) => l.startsWith("BUG:"));
    expect(oops).toMatch(/#PF at RIP 0x[0-9a-f]+ <fault:bad_worker\+0x[0-9a-f]+>.*address 0x0000000000001234 in faulty/);
    expect(r.log).toContain("fault: worker returned -1");
    expect(r.log).toContain("kernel still running");
  });

  it("an unresolved symbol is refused with its name, before anything is mapped", () => {
    let err: unknown;
    runKernel(function* (k) {
      const before = k.pages.freePages;
      try {
        k.modules.place("unresolved", moduleFromC("drivers/tests/unresolved.c"));
      } catch (e) {
        err = e;
      }
      expect(k.pages.freePages).toBe(before);
    });
    expect(err).toBeInstanceOf(ModuleError);
    expect(String(err)).toMatch(/undefined symbol 'no_such_kernel_function'/);
  });

  it("a failing init undoes the load and gives the pages back", () => {
    runKernel(function* (k) {
      yield* k.modules.load("init_fails", moduleFromC("drivers/tests/init_fails.c")); // the first load also builds page tables, which stay
      const before = k.pages.freePages;
      const { status } = yield* k.modules.load("init_fails", moduleFromC("drivers/tests/init_fails.c"));
      expect(status).toBe(-19);
      expect(k.modules.modules.has("init_fails")).toBe(false);
      expect(k.pages.freePages).toBe(before);
    });
  });
});
