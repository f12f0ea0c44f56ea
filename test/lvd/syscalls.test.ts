import { describe, it, expect } from "vitest";
import { runLvd, domainFromC } from "../helpers/lvd.ts";
import { DomainKilled, KIND, header, type Lvd } from "../../src/kernel/lvd/lvd.ts";
import type { Domain } from "../../src/kernel/lvd/domain.ts";
import type { KernelPath } from "../../src/kernel/thread.ts";
import { ERR } from "../../src/kernel/lvd/syscalls.ts";
import {
  MemoryRegion, grant, revoke, revokeGrant, destroyRegion, RIGHT_READ as R, RIGHT_WRITE as W, RIGHT_GRANT as G,
  CAP_REGION, CAP_DOMAIN,
} from "../../src/kernel/lvd/capabilities.ts";
import { MAPPINGS_OFFSET, MAPPINGS_SIZE } from "../../src/kernel/lvd/layout.ts";
import { hypercall } from "../../src/kernel/late-launch.ts";
import { HC_INVEPT, HC_EINVAL } from "../../src/hypervisor/hypercalls.ts";
import { VPID } from "../../src/machine/vmx/fields.ts";
import { headerKind } from "../../src/idl/wire.ts";
import { EptBuilder } from "../../src/machine/vmx/ept-tables.ts";

const REGIONS = "drivers/tests/domain_regions.c";
const PAGE = 4096;

/** The driver's functions (drivers/tests/domain_regions.c), called across the boundary; results as signed numbers. */
function driver(lvd: Lvd, d: Domain) {
  const fn = (index: number) => function* (...args: number[]): KernelPath<number> {
    const reply = yield* lvd.call(d, [header(KIND.RPC_PTR, index), ...args.map((a) => BigInt.asUintN(64, BigInt(a)))]);
    expect(headerKind(reply[0])).toBe(KIND.REPLY);
    return Number(BigInt.asIntN(64, reply[1]));
  };
  return {
    map: fn(0), peek: fn(1), poke: fn(2), unmap: fn(3), del: fn(4), revoke: fn(5), grant: fn(6), info: fn(7), say: fn(8), add: fn(9),
  };
}

/** Runs `path`, expecting the domain to be killed by it; returns the reason. */
function* killedBy(d: Domain, path: KernelPath<unknown>): KernelPath<string> {
  let error: unknown;
  try {
    yield* path;
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(DomainKilled);
  return d.dead!;
}

/** Whether domain `d`'s EPT_I on vCPU `c` maps the page at `offset` in the mappings area, and with which rights (R=1 W=2 X=4). */
function eptRights(d: Domain, c: number, offset: number): number {
  return d.epts[c].lookup(d.gpa + MAPPINGS_OFFSET + offset)?.rights ?? 0;
}

function* create(lvd: Lvd, name: string) {
  const { domain } = yield* lvd.create(name, domainFromC(REGIONS));
  return domain;
}

describe("domain syscalls: kernel-granted memory and capabilities", () => {
  it("a granted region mapped read/write: the kernel's writes and the domain's are seen on both sides; EPT_I maps it RW, not X", () => {
    const r = runLvd(function* (k, lvd) {
      const d = yield* create(lvd, "regions");
      const f = driver(lvd, d);
      const region = MemoryRegion.allocate(k, 2);
      const cap = grant(d, region, R | W);
      k.mem.write64(region.kernelAddress(8), 0x1234567);
      k.mem.write64(region.kernelAddress(PAGE + 16), 0x7654321);
      k.mem.writeBytes(region.kernelAddress(256), new TextEncoder().encode("lent by the kernel\0"));
      expect(eptRights(d, 0, 0)).toBe(0);
      expect(yield* f.map(cap, 0, R | W)).toBe(0);
      expect(eptRights(d, 0, 0)).toBe(3);
      expect(eptRights(d, 1, PAGE)).toBe(3);
      expect(yield* f.peek(8)).toBe(0x1234567);
      expect(yield* f.peek(PAGE + 16)).toBe(0x7654321);
      yield* f.poke(PAGE + 24, 0xabcdef);
      expect(k.mem.read64(region.kernelAddress(PAGE + 24))).toBe(0xabcdef);
      k.mem.write64(region.kernelAddress(8), 42); // the kernel writes again: the domain sees it at once
      expect(yield* f.peek(8)).toBe(42);
      yield* f.say(256);
      expect(yield* f.info(cap)).toBe(CAP_REGION | ((R | W) << 8) | (2 << 16));
    }, { cpus: 2 });
    expect(r.log).toContain('[regions] regions: the kernel says "lent by the kernel"');
  });

  it("read-only rights: the domain reads; mapping read/write is refused; a write kills it with the reason", () => {
    runLvd(function* (k, lvd) {
      const d = yield* create(lvd, "ro");
      const f = driver(lvd, d);
      const region = MemoryRegion.allocate(k, 1);
      k.mem.write64(region.kernelAddress(0), 77);
      const cap = grant(d, region, R);
      expect(yield* f.map(cap, 0, R | W)).toBe(ERR.PERM);
      expect(eptRights(d, 0, 0)).toBe(0);
      expect(yield* f.map(cap, 0, R)).toBe(0);
      expect(eptRights(d, 0, 0)).toBe(1);
      expect(yield* f.peek(0)).toBe(77);
      const why = yield* killedBy(d, f.poke(0, 1));
      expect(why).toMatch(/^EPT violation at RIP 0x[0-9a-f]+ <ro:lvd_dispatch\+0x[0-9a-f]+>, guest-physical 0x[0-9a-f]+, linear 0xffffffffc3800000$/);
      expect(k.mem.read64(region.kernelAddress(0))).toBe(77);
    });
  });

  it("unmap takes effect at once: the region can be mapped elsewhere, and the old place kills the domain", () => {
    runLvd(function* (k, lvd) {
      const d = yield* create(lvd, "unmap");
      const f = driver(lvd, d);
      const region = MemoryRegion.allocate(k, 1);
      k.mem.write64(region.kernelAddress(0), 5);
      const cap = grant(d, region, R | W);
      expect(yield* f.map(cap, 0, R | W)).toBe(0);
      expect(yield* f.peek(0)).toBe(5); // a translation cached on this vCPU
      expect(yield* f.unmap(0)).toBe(0);
      expect(yield* f.unmap(0)).toBe(ERR.NOENT);
      expect(yield* f.map(cap, 8 * PAGE, R)).toBe(0);
      expect(yield* f.peek(8 * PAGE)).toBe(5);
      const why = yield* killedBy(d, f.peek(0));
      expect(why).toMatch(/^EPT violation at RIP .* <unmap:lvd_dispatch\+0x[0-9a-f]+>, .*linear 0xffffffffc3800000$/);
    });
  });

  it("the kernel's revocation takes effect on every vCPU: a translation cached on another vCPU is dropped too", () => {
    runLvd(function* (k, lvd) {
      const d = yield* create(lvd, "revoked");
      const f = driver(lvd, d);
      const region = MemoryRegion.allocate(k, 1);
      k.mem.write64(region.kernelAddress(0), 9);
      const cap = grant(d, region, R);
      expect(yield* f.map(cap, 0, R)).toBe(0);
      const onVcpu1 = (body: () => KernelPath) => k.spawn("on-vcpu-1", body, 1);
      let seen = 0;
      const reader = onVcpu1(function* () {
        seen = yield* f.peek(0);
      });
      yield* k.join(reader);
      expect(seen).toBe(9); // vCPU 1 now caches the translation
      const cpu1 = k.machine.cpus[1].vmx!;
      const cached = () => cpu1.tlbs.validEntries(cpu1.vmcs.get(VPID), d.eptps[1] - (d.eptps[1] % PAGE));
      expect(cached()).toBeGreaterThan(0);
      yield* revoke(k, region);
      expect(cached()).toBe(0); // dropped by the kernel's thread on vCPU 1 before revoke returned
      expect(d.staleOn).toEqual([false, false]);
      expect(d.cspace.size).toBe(0);
      expect([eptRights(d, 0, 0), eptRights(d, 1, 0)]).toEqual([0, 0]);
      expect(yield* f.info(cap)).toBe(ERR.NOENT);
      let why = "";
      const late = onVcpu1(function* () {
        why = yield* killedBy(d, f.peek(0));
      });
      yield* k.join(late);
      expect(late.killed).toBeNull();
      expect(why).toMatch(/^EPT violation at RIP .* <revoked:lvd_dispatch\+/);
      yield* destroyRegion(k, region);
    }, { cpus: 2 });
  });

  it("a domain's unmap on one vCPU: every vCPU is flushed before the syscall returns", () => {
    runLvd(function* (k, lvd) {
      const d = yield* create(lvd, "spread");
      const f = driver(lvd, d);
      const region = MemoryRegion.allocate(k, 1);
      k.mem.write64(region.kernelAddress(0), 13);
      expect(yield* f.map(grant(d, region, R), 0, R)).toBe(0);
      const on = (c: number, body: () => KernelPath) => k.spawn(`on-vcpu-${c}`, body, c);
      let seen = 0;
      yield* k.join(on(1, function* () {
        seen = yield* f.peek(0);
      }));
      expect(seen).toBe(13);
      const cpu1 = k.machine.cpus[1].vmx!;
      const cachedOn1 = () => cpu1.tlbs.validEntries(cpu1.vmcs.get(VPID), d.eptps[1] - (d.eptps[1] % PAGE));
      expect(cachedOn1()).toBeGreaterThan(0);
      let afterUnmap = { here: true, there: false };
      yield* k.join(on(0, function* () {
        expect(yield* f.unmap(0)).toBe(0);
        // Both vCPUs are flushed by the time the syscall returns.
        afterUnmap = { here: d.staleOn[0], there: d.staleOn[1] || cachedOn1() === 0 };
      }));
      expect(afterUnmap).toEqual({ here: false, there: true });
      let why = "";
      yield* k.join(on(1, function* () {
        why = yield* killedBy(d, f.peek(0));
      }));
      expect(d.staleOn).toEqual([false, false]);
      expect(why).toMatch(/^EPT violation .* <spread:lvd_dispatch\+/);
    }, { cpus: 2 });
  });

  it("bad arguments return error codes and the domain goes on", () => {
    runLvd(function* (k, lvd) {
      const d = yield* create(lvd, "bad");
      const other = yield* create(lvd, "other");
      const f = driver(lvd, d);
      const two = MemoryRegion.allocate(k, 2);
      const rw = grant(d, two, R | W);
      const ro = grant(d, MemoryRegion.allocate(k, 1), R);
      const toOther = grant(d, other, G);
      // No such capability, a capability of the wrong type.
      for (const c of [0, 999, -1, 2 ** 40]) expect(yield* f.map(c, 0, R)).toBe(ERR.NOENT);
      expect(yield* f.map(toOther, 0, R)).toBe(ERR.INVAL);
      // Rights: write-only, unknown bits, GRANT is not a mapping right, more than the capability's.
      expect(yield* f.map(rw, 0, W)).toBe(ERR.INVAL);
      expect(yield* f.map(rw, 0, 8 | R)).toBe(ERR.INVAL);
      expect(yield* f.map(rw, 0, R | G)).toBe(ERR.INVAL);
      expect(yield* f.map(ro, 0, R | W)).toBe(ERR.PERM);
      // Addresses: below the area (the heap), running past its end, misaligned.
      expect(yield* f.map(rw, -PAGE, R)).toBe(ERR.INVAL);
      expect(yield* f.map(rw, MAPPINGS_SIZE - PAGE, R)).toBe(ERR.INVAL);
      expect(yield* f.map(rw, MAPPINGS_SIZE, R)).toBe(ERR.INVAL);
      expect(yield* f.map(rw, 8, R)).toBe(ERR.INVAL);
      // Mapped already; something else in the way.
      expect(yield* f.map(rw, 0, R | W)).toBe(0);
      expect(yield* f.map(rw, 4 * PAGE, R)).toBe(ERR.BUSY);
      expect(yield* f.map(ro, PAGE, R)).toBe(ERR.EXIST);
      expect(yield* f.map(ro, 2 * PAGE, R)).toBe(0);
      // Grants: not to a region, not without GRANT, not with more rights than held.
      expect(yield* f.grant(rw, ro, R)).toBe(ERR.INVAL);
      expect(yield* f.grant(rw, toOther, R)).toBe(ERR.PERM);
      expect(yield* f.grant(rw, 999, R)).toBe(ERR.NOENT);
      const passable = grant(d, two, R | G);
      expect(yield* f.grant(passable, toOther, R | W)).toBe(ERR.PERM);
      expect(yield* f.grant(passable, toOther, 0)).toBe(ERR.INVAL);
      expect(other.cspace.size).toBe(0);
      // Removing what is not there.
      expect(yield* f.del(999)).toBe(ERR.NOENT);
      expect(yield* f.revoke(0)).toBe(ERR.NOENT);
      expect(yield* f.unmap(5 * PAGE)).toBe(ERR.NOENT);
      expect(yield* f.info(12345)).toBe(ERR.NOENT);
      expect(yield* f.info(toOther)).toBe(CAP_DOMAIN | (G << 8) | (other.id << 16));
      // Still alive, and its mapping works.
      expect(d.dead).toBeNull();
      expect(yield* f.add(2, 3)).toBe(5);
      yield* f.poke(PAGE, 11);
      expect(k.mem.read64(two.kernelAddress(PAGE))).toBe(11);
    });
  });

  it("two domains share one granted page: each sees the other's writes and the kernel's", () => {
    runLvd(function* (k, lvd) {
      const a = yield* create(lvd, "a");
      const b = yield* create(lvd, "b");
      const fa = driver(lvd, a), fb = driver(lvd, b);
      const page = MemoryRegion.allocate(k, 1);
      expect(yield* fa.map(grant(a, page, R | W), 0, R | W)).toBe(0);
      expect(yield* fb.map(grant(b, page, R | W), 3 * PAGE, R | W)).toBe(0);
      yield* fa.poke(40, 1111);
      expect(yield* fb.peek(3 * PAGE + 40)).toBe(1111);
      yield* fb.poke(3 * PAGE + 48, 2222);
      expect(yield* fa.peek(48)).toBe(2222);
      k.mem.write64(page.kernelAddress(56), 3333);
      expect(yield* fa.peek(56)).toBe(3333);
      expect(yield* fb.peek(3 * PAGE + 56)).toBe(3333);
      expect(k.mem.read64(page.kernelAddress(40)) + k.mem.read64(page.kernelAddress(48))).toBe(3333);
    });
  });

  it("a domain passes a region on with fewer rights; the kernel's revocation cascades to the domain it went to", () => {
    runLvd(function* (k, lvd) {
      const a = yield* create(lvd, "a");
      const b = yield* create(lvd, "b");
      const fa = driver(lvd, a), fb = driver(lvd, b);
      const region = MemoryRegion.allocate(k, 1);
      k.mem.write64(region.kernelAddress(0), 31);
      const inA = grant(a, region, R | W | G);
      const bFromA = grant(a, b, G);
      const inB = yield* fa.grant(inA, bFromA, R);
      expect(inB).toBeGreaterThan(0);
      expect(yield* fb.info(inB)).toBe(CAP_REGION | (R << 8) | (1 << 16));
      expect(yield* fb.map(inB, 0, R | W)).toBe(ERR.PERM); // A passed on read only
      expect(yield* fb.map(inB, 0, R)).toBe(0);
      expect(yield* fb.grant(inB, inB, R)).toBe(ERR.INVAL);
      expect(yield* fa.map(inA, 0, R | W)).toBe(0);
      yield* fa.poke(0, 32);
      expect(yield* fb.peek(0)).toBe(32);
      yield* revoke(k, region);
      expect([a.cspace.size, b.cspace.size]).toEqual([1, 0]); // A keeps only its capability to B
      expect(yield* fa.info(inA)).toBe(ERR.NOENT);
      expect(yield* fb.info(inB)).toBe(ERR.NOENT);
      expect(yield* killedBy(b, fb.peek(0))).toMatch(/^EPT violation .* <b:lvd_dispatch\+/);
      expect(yield* killedBy(a, fa.peek(0))).toMatch(/^EPT violation .* <a:lvd_dispatch\+/);
    });
  });

  it("a domain's own revoke takes back what it passed on and keeps its mapping; its delete drops its mapping too", () => {
    runLvd(function* (k, lvd) {
      const a = yield* create(lvd, "a");
      const b = yield* create(lvd, "b");
      const fa = driver(lvd, a), fb = driver(lvd, b);
      const region = MemoryRegion.allocate(k, 1);
      k.mem.write64(region.kernelAddress(0), 51);
      const inA = grant(a, region, R | G);
      expect(yield* fa.map(inA, 0, R)).toBe(0);
      const inB = yield* fa.grant(inA, grant(a, b, G), R);
      expect(yield* fb.map(inB, 0, R)).toBe(0);
      expect(yield* fb.peek(0)).toBe(51);
      expect(yield* fa.revoke(inA)).toBe(0);
      expect(yield* fa.peek(0)).toBe(51);
      expect(yield* fb.info(inB)).toBe(ERR.NOENT);
      expect(yield* killedBy(b, fb.peek(0))).toMatch(/^EPT violation .* <b:lvd_dispatch\+/);
      expect(yield* fa.del(inA)).toBe(0);
      expect(yield* fa.info(inA)).toBe(ERR.NOENT);
      expect(yield* killedBy(a, fa.peek(0))).toMatch(/^EPT violation .* <a:lvd_dispatch\+/);
      expect(yield* revokeGrant(k, a, inA)).toBe(false); // nothing left to revoke
    });
  });

  it("destroying a domain takes back what it passed on, and the capabilities others held to it", () => {
    runLvd(function* (k, lvd) {
      const a = yield* create(lvd, "a");
      const b = yield* create(lvd, "b");
      const fb = driver(lvd, b);
      const region = MemoryRegion.allocate(k, 1);
      const inA = grant(a, region, R | G);
      const inB = yield* driver(lvd, a).grant(inA, grant(a, b, G), R);
      const bToA = grant(b, a, G);
      expect(yield* fb.map(inB, 0, R)).toBe(0);
      yield* lvd.destroy(a);
      expect(yield* fb.info(inB)).toBe(ERR.NOENT);
      expect(yield* fb.info(bToA)).toBe(ERR.NOENT);
      expect(b.cspace.size).toBe(0);
      expect(yield* killedBy(b, fb.peek(0))).toMatch(/^EPT violation/);
    });
  });

  it("the INVEPT hypercall drops this vCPU's cached translations of one EPT_I; a malformed EPTP is refused", () => {
    runLvd(function* (k, lvd) {
      const d = yield* create(lvd, "tlb");
      const f = driver(lvd, d);
      expect(yield* f.add(1, 2)).toBe(3);
      const cpu = k.cpu;
      const vpid = cpu.vmx!.vmcs.get(VPID);
      const ep4ta = d.eptps[cpu.id] - (d.eptps[cpu.id] % PAGE);
      expect(cpu.vmx!.tlbs.validEntries(vpid, ep4ta)).toBeGreaterThan(0);
      const bad = yield* hypercall(k, HC_INVEPT, d.eptps[cpu.id] | 0x80); // reserved EPTP bits
      expect(bad.rax).toBe(HC_EINVAL);
      expect(cpu.vmx!.tlbs.validEntries(vpid, ep4ta)).toBeGreaterThan(0);
      const ok = yield* hypercall(k, HC_INVEPT, d.eptps[cpu.id]);
      expect(ok.rax).toBe(0);
      expect(cpu.vmx!.tlbs.validEntries(vpid, ep4ta)).toBe(0);
    });
  });
});

describe("EptBuilder.unmap (what the mapping syscalls remove entries with)", () => {
  /** Tables in a plain buffer: physical address = offset. */
  function tables() {
    const bytes = new Uint8Array(64 * PAGE);
    const view = new DataView(bytes.buffer);
    let next = 0;
    const mem = {
      read32: (pa: number) => view.getUint32(pa, true),
      write64: (pa: number, lo: number, hi: number) => {
        view.setUint32(pa, lo >>> 0, true);
        view.setUint32(pa + 4, hi >>> 0, true);
      },
      load: (pa: number, data: Uint8Array) => bytes.set(data, pa),
    };
    return new EptBuilder(mem, () => (next += PAGE) - PAGE);
  }

  it("clears 4 KB leaves, builds no tables for what was never mapped, and splits a 2 MB page keeping the rest of it", () => {
    const ept = tables();
    ept.map(0x200000, 0x400000, 0x200000, { read: true, write: true }, 0x200000);
    ept.map(0x1000, 0x9000, 2 * PAGE, { read: true });
    ept.unmap(0x1000, PAGE);
    expect(ept.lookup(0x1000)).toBeNull();
    expect(ept.lookup(0x2000)).toEqual({ hpa: 0xa000, rights: 1 });
    ept.unmap(0x80000000, 4 * PAGE); // nothing there: nothing happens
    expect(ept.lookup(0x80000000)).toBeNull();
    ept.unmap(0x203000, PAGE);
    expect(ept.lookup(0x203000)).toBeNull();
    expect(ept.lookup(0x202008)).toEqual({ hpa: 0x402008, rights: 3 });
    expect(ept.lookup(0x204000)).toEqual({ hpa: 0x404000, rights: 3 });
    expect(ept.lookup(0x3ff000)).toEqual({ hpa: 0x5ff000, rights: 3 });
  });

  it("removes a whole large page when the range covers it", () => {
    const ept = tables();
    ept.map(0x200000, 0x400000, 0x400000, { read: true }, 0x200000);
    ept.unmap(0x200000, 0x200000);
    expect(ept.lookup(0x300000)).toBeNull();
    expect(ept.lookup(0x400000)).toEqual({ hpa: 0x600000, rights: 1 });
  });
});
