import { describe, it, expect } from "vitest";
import { runLvd, domainFromC } from "../helpers/lvd.ts";
import { DomainKilled, KIND, header } from "../../src/kernel/lvd/lvd.ts";
import type { Domain } from "../../src/kernel/lvd/domain.ts";
import { call } from "../../src/kernel/thread.ts";
import { PAGE } from "../../src/kernel/layout.ts";

const HELLO = "drivers/tests/domain_hello.c";
const CALLS = "drivers/tests/domain_calls.c";
const TOUCH = "drivers/tests/domain_touch_kernel.c";

describe("domains: an isolated driver runs in its own EPT, entered with VMFUNC", () => {
  it("init runs in the domain through a crossing; printk and the heap work through domain syscalls; exit runs cleanup", () => {
    let status = 0;
    const r = runLvd(function* (k, lvd) {
      const { domain, status: s } = yield* lvd.create("hello", domainFromC(HELLO));
      status = s;
      yield* lvd.destroy(domain);
    });
    expect(r.run.stop).toBe("exit");
    expect(status).toBe(42);
    expect(r.log.some((l) => /^\[hello\] hello: inside the domain on cpu \d, sum 4950$/.test(l))).toBe(true);
    expect(r.log).toContain("[hello] hello: bye");
  });

  it("Inv 1-3: the domain's page table lies in its own guest-physical range, is read-only to it, and its window is not in the kernel's page tables", () => {
    runLvd(function* (k, lvd) {
      const { domain } = yield* lvd.create("calls", domainFromC(CALLS));
      expect(k.kernelMm.lookup(domain.window)).toBe(-1); // Inv 1: the kernel does not map the window
      const root = domain.tables.root;
      expect(root).toBeGreaterThanOrEqual(domain.gpa); // Inv 3: a guest-physical address of the domain's range
      // Inv 2: the domain may read its page table, not write it.
      const tablesVa = BigInt.asUintN(64, BigInt(domain.window + (root - domain.gpa)));
      const entry = yield* lvd.call(domain, [header(KIND.RPC_PTR, 3), tablesVa + 8n * 511n]);
      expect(entry[1] & 1n).toBe(1n); // the PML4 entry of the top 2 GB: present
      let error: unknown;
      try {
        yield* lvd.call(domain, [header(KIND.RPC_PTR, 4), tablesVa + 8n * 511n, 0n]);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(DomainKilled);
      expect(domain.dead).toMatch(/#PF at RIP .*, address 0xffffffffc3e/);
    });
  });

  it("a domain that touches kernel memory is killed with the kind, address and RIP; the kernel goes on; the driver can be started again", () => {
    const r = runLvd(function* (k, lvd) {
      let error: unknown;
      try {
        yield* lvd.create("touch", domainFromC(TOUCH));
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(DomainKilled);
      const { status } = yield* lvd.create("hello", domainFromC(HELLO));
      expect(status).toBe(42);
    });
    expect(r.run.stop).toBe("exit");
    expect(r.log.find((l) => l.startsWith("lvd: domain touch killed"))).toMatch(
      /exception #PF at RIP 0x[0-9a-f]+ <touch:init_module\+0x[0-9a-f]+>, address 0xffff888000100000/);
    expect(r.k.hypervisor!.incidents).toEqual([]);
  });

  it("each vCPU's IST stacks are mapped in that vCPU's EPT_I only", () => {
    runLvd(function* (k, lvd) {
      const d = (yield* lvd.create("calls", domainFromC(CALLS))).domain;
      const ist0 = k.kernelMm.lookup(k.percpus[0].istTops[0] - PAGE);
      const ist1 = k.kernelMm.lookup(k.percpus[1].istTops[0] - PAGE);
      const mapped = (c: number, gpa: number) => d.epts[c].entryFor(gpa) >= 0 && (k.machine.mem.readU64(d.epts[c].entryFor(gpa)) & 7) !== 0;
      expect(mapped(0, ist0)).toBe(true);
      expect(mapped(0, ist1)).toBe(false);
      expect(mapped(1, ist1)).toBe(true);
      expect(mapped(1, ist0)).toBe(false);
    }, { cpus: 2 });
  });

  it("two domains cannot see each other's memory", () => {
    const r = runLvd(function* (k, lvd) {
      const a = (yield* lvd.create("a", domainFromC(CALLS))).domain;
      const b = (yield* lvd.create("b", domainFromC(CALLS))).domain;
      const secretInB = BigInt.asUintN(64, BigInt(b.image.symbols.get("secret") ?? b.image.locals.get("domain_calls.c:secret") ?? 0));
      expect(secretInB).not.toBe(0n);
      // B reads its own secret; A reading B's is a page fault in A: A dies, B is unharmed.
      const own = yield* lvd.call(b, [header(KIND.RPC_PTR, 3), secretInB]);
      expect(own[1]).toBe(0x5ec12e7n);
      let error: unknown;
      try {
        yield* lvd.call(a, [header(KIND.RPC_PTR, 3), secretInB]);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(DomainKilled);
      expect(a.dead).toMatch(/#PF/);
      const again = yield* lvd.call(b, [header(KIND.RPC_PTR, 1), 2n, 3n]);
      expect(again[1]).toBe(5n);
    });
    expect(r.run.stop).toBe("exit");
  });

  it("the same domain runs on 4 vCPUs at once, each on its own stack", () => {
    const seen = new Set<number>();
    const r = runLvd(function* (k, lvd) {
      const d: Domain = (yield* lvd.create("calls", domainFromC(CALLS))).domain;
      const threads = k.percpus.map((pc) => k.spawn(`caller/${pc.id}`, function* () {
        for (let i = 0; i < 20; i++) {
          const reply = yield* lvd.call(d, [header(KIND.RPC_PTR, 1), BigInt(i), BigInt(pc.id)]);
          expect(reply[1]).toBe(BigInt(i + pc.id));
          seen.add(Number(reply[2]));
          yield* call(k.symbols.lvd_work, 1, 500); // some kernel work between crossings
        }
      }, pc.id));
      for (const t of threads) yield* k.join(t);
      expect(threads.every((t) => !t.killed)).toBe(true);
    }, { cpus: 4 });
    expect(r.run.stop).toBe("exit");
    expect([...seen].sort()).toEqual([0, 1, 2, 3]);
  });

  it("Inv 5: a thread that uses extended state gets it back after a domain clobbered it, and the domain never sees it", () => {
    const r = runLvd(function* (k, lvd) {
      const d = (yield* lvd.create("calls", domainFromC(CALLS))).domain;
      const xmm0 = () => k.cpu.xstate.slice(160, 168).join();
      k.cpu.xstate.fill(0x5a, 160, 416); // the kernel's XMM registers, live
      k.cpu.xstate[512] |= 2; // XSTATE_BV: SSE in use
      k.fpuBegin();
      const seen = yield* lvd.call(d, [header(KIND.RPC_PTR, 6)]);
      expect(seen[1]).toBe(0n); // the domain runs with the initial state, not the kernel's
      yield* lvd.call(d, [header(KIND.RPC_PTR, 5), 0xabn]);
      expect(xmm0()).toBe(new Array(8).fill(0x5a).join()); // restored
      k.fpuEnd();
      // Without the tracking flag nothing is saved: the domain's clobber stays (that is what the flag saves).
      yield* lvd.call(d, [header(KIND.RPC_PTR, 5), 0xabn]);
      expect(xmm0()).toBe(new Array(8).fill(0xab).join());
    });
    expect(r.run.stop).toBe("exit");
  });

  it("nested crossings: kernel -> domain -> kernel -> domain ..., five deep, each level on the stack below the last", () => {
    const r = runLvd(function* (k, lvd) {
      const d = (yield* lvd.create("calls", domainFromC(CALLS))).domain;
      let deepest = 0;
      lvd.rpc.set(d, function* (dom, w) {
        const depth = Number(w[1]);
        deepest = Math.max(deepest, d.nesting[k.cpu.id]);
        const inner = yield* lvd.call(dom, [header(KIND.RPC_PTR, 2), BigInt(depth - 1)]);
        return [header(KIND.REPLY), inner[1]];
      });
      const reply = yield* lvd.call(d, [header(KIND.RPC_PTR, 2), 5n]);
      expect(reply[1]).toBe(6n); // nest(5) -> kernel -> nest(4) ... -> nest(0): six levels in the domain
      expect(deepest).toBe(5);
      expect(d.nesting.every((n) => n === 0)).toBe(true);
    });
    expect(r.run.stop).toBe("exit");
  });

  it("nested crossings into two domains: A -> kernel -> B -> kernel -> A; slot 1 holds the domain being returned to, and is invalid once none is", () => {
    const r = runLvd(function* (k, lvd) {
      const a = (yield* lvd.create("a", domainFromC(CALLS))).domain;
      const b = (yield* lvd.create("b", domainFromC(CALLS))).domain;
      const slot1 = () => k.mem.read64(lvd.eptpList(k.cpu.id) + 8);
      // A's nest(n) asks the kernel for nest_back(n), served by calling B's nest(n - 1), whose nest_back calls A's...
      const serve = (other: Domain) => function* (_d: Domain, w: bigint[]) {
        const inner = yield* lvd.call(other, [header(KIND.RPC_PTR, 2), w[1] - 1n]);
        return [header(KIND.REPLY), inner[1]];
      };
      lvd.rpc.set(a, serve(b));
      lvd.rpc.set(b, serve(a));
      const reply = yield* lvd.call(a, [header(KIND.RPC_PTR, 2), 4n]);
      expect(reply[1]).toBe(5n);
      expect(slot1()).toBe(0);
    });
    expect(r.run.stop).toBe("exit");
    expect(r.log.some((l) => /killed/.test(l))).toBe(false);
  });
});
