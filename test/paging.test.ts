// 4-level paging as the Intel SDM Vol. 3A chapter 4 describes it: the walk and its
// page sizes (4.5), access rights (4.6), page-fault error codes and CR2 (4.7), accessed
// and dirty flags (4.8), the TLB and its invalidation (4.10), plus the paging-related
// parts of the memory paths: canonical checks, page-crossing accesses and fetches, and
// self-modifying code.
//
// Most rules are checked through Cpu.translate/readMem/writeMem from TypeScript; rules
// that involve the fetch and execution paths run real instructions with exact
// instruction counts (the snippet IDT sends every vector to a stub at HANDLERS + 16*v).
// Control registers are written directly, followed by what the MOV-to-CR handler must
// do (controlRegistersWritten / flushTlb); tests through MOV CR, INVLPG, CLAC/STAC and
// IRET run once those handlers exist.

import { describe, it, expect } from "vitest";
import { snippet, CODE, type Snippet } from "./helpers/snippet.ts";
import { assemble } from "./helpers/asm.ts";
import {
  CpuFault, CR0_WP, CR4_PGE, CR4_SMEP, CR4_SMAP, EFER_NXE, GP, SS_VEC, PF_VEC, RAX, RCX, RDX,
} from "../src/machine/cpu/cpu.ts";
import {
  ACC_READ, ACC_WRITE, ACC_EXEC, PFE_P, PFE_W, PFE_U, PFE_RSVD, PFE_I, MAXPHYADDR, controlRegistersWritten,
} from "../src/machine/cpu/paging.ts";
import { PTE_P, PTE_RW, PTE_US, PTE_A, PTE_D, PTE_PS, PTE_G, PTE_NX_HI, type PageFlags } from "../src/machine/page-tables.ts";
import { AC } from "../src/machine/cpu/flags.ts";
import { HANDLERS as OPS } from "../src/machine/cpu/ops/index.ts";

// ------------------------------------------------------------------ helpers

/** Snippet layout (test/helpers/snippet.ts). */
const IDT = 0x900000, HANDLERS = 0x903000;
/** Test region: 1 GB, outside the snippet's identity map (PML4[0], PDPT[1]). */
const T = 0x4000_0000;
/** An upper-half address (PML4[511], PDPT[510]). */
const HI = -(2 ** 31);
/** A 2 MB page region (PDPT[2]) and a 1 GB page region (PML4[1]). */
const L2 = 0x8000_0000, L1G = 0x80_0000_0000;
const MB2 = 0x20_0000, GB1 = 0x4000_0000;

const PML4E = 4, PDPTE = 3, PDE = 2, PTE = 1;
const LEVEL_NAMES: Record<number, string> = { 4: "PML4E", 3: "PDPTE", 2: "PDE", 1: "PTE" };

/** A kernel-mode snippet machine (its identity map of 0-16 MB is supervisor-only unless user). */
function machine(code = "nop", opts: { user?: boolean } = {}): Snippet {
  return snippet(code, opts);
}

/** Maps a fresh zeroed physical page at `va`; returns its physical address. */
function mapPage(s: Snippet, va: number, flags: PageFlags = { write: true }): number {
  const pa = s.allocPage();
  s.pt.map(va, pa, 4096, flags);
  return pa;
}

/** Physical address of the paging-structure entry of `level` (4 = PML4E ... 1 = PTE) for `va`. */
function entryPa(s: Snippet, va: number, level: number): number {
  let table = s.cpu.cr3 - (s.cpu.cr3 % 4096);
  for (let l = 4; ; l--) {
    const ea = table + (Math.floor(va / 2 ** (12 + 9 * (l - 1))) & 511) * 8;
    if (l === level) return ea;
    const lo = s.mem.read32(ea) >>> 0, hi = s.mem.read32(ea + 4) & 0xfffff;
    if ((lo & PTE_P) === 0 || (lo & PTE_PS) !== 0) throw new Error(`no level-${level} entry for 0x${va.toString(16)}`);
    table = hi * 4294967296 + ((lo & ~0xfff) >>> 0);
  }
}
const entryLo = (s: Snippet, ea: number) => s.mem.read32(ea) >>> 0;
const setLo = (s: Snippet, ea: number, set: number, clear = 0) => s.mem.write32(ea, (s.mem.read32(ea) & ~clear) | set);
const setHi = (s: Snippet, ea: number, set: number, clear = 0) => s.mem.write32(ea + 4, (s.mem.read32(ea + 4) & ~clear) | set);
/** Points a leaf entry at another frame, keeping its flags. */
function setFrame(s: Snippet, ea: number, pa: number): void {
  s.mem.write32(ea, ((s.mem.read32(ea) & 0xfff) | (pa % 4294967296)) | 0);
  s.mem.write32(ea + 4, (s.mem.read32(ea + 4) & ~0xfffff) | Math.floor(pa / 4294967296));
}

/** Runs fn, which must raise a CpuFault; returns it with CR2 as it stands afterwards. */
function fault(s: Snippet, fn: () => unknown): { vector: number; code: number; cr2: number } {
  try {
    fn();
  } catch (e) {
    if (e instanceof CpuFault) return { vector: e.vector, code: e.errorCode, cr2: s.cpu.cr2 };
    throw e;
  }
  throw new Error("expected a fault");
}
const pf = (code: number, cr2: number) => ({ vector: PF_VEC, code, cr2 });

/** Control-register writes as MOV to CR0/CR4 and WRMSR(EFER) perform them. */
function setControl(s: Snippet, v: { cr0?: number; cr4?: number; efer?: number }): void {
  const { cr0, cr4, efer } = s.cpu;
  if (v.cr0 !== undefined) s.cpu.cr0 = v.cr0;
  if (v.cr4 !== undefined) s.cpu.cr4 = v.cr4;
  if (v.efer !== undefined) s.cpu.efer = v.efer;
  controlRegistersWritten(s.cpu, cr0, cr4, efer);
}

/** The exception the snippet stopped in: vector (-1 if none), error code, faulting RIP. */
function stopped(s: Snippet): { vector: number; code: number; rip: number } {
  const off = s.cpu.rip - HANDLERS;
  if (off < 0 || off >= 256 * 16 || off % 16 > 1) return { vector: -1, code: -1, rip: s.cpu.rip };
  const vector = Math.floor(off / 16);
  const hasCode = vector === 8 || (vector >= 10 && vector <= 14) || vector === 17;
  const sp = s.cpu.rsp; // identity-mapped stack
  const at = sp + (hasCode ? 8 : 0);
  return {
    vector,
    code: hasCode ? s.mem.read32(sp) : -1,
    rip: (s.mem.read32(at + 4) | 0) * 4294967296 + (s.mem.read32(at) >>> 0),
  };
}

/** Linear address of instruction k (0-based) of `lines` placed at `base`. */
function insnAt(lines: string[], k: number, base = CODE): number {
  return k === 0 ? base : base + assemble(lines.slice(0, k).join("\n")).length;
}

const has = (handler: string) => handler in OPS;

const USER_RWX: PageFlags = { write: true, user: true, exec: true };

// ------------------------------------------------------------------ 4.7 not-present entries

describe("4.7 page-fault error code and CR2 for not-present entries", () => {
  const accesses = [
    { name: "supervisor read", acc: ACC_READ, user: false, code: 0 },
    { name: "supervisor write", acc: ACC_WRITE, user: false, code: PFE_W },
    { name: "user read", acc: ACC_READ, user: true, code: PFE_U },
    { name: "user write", acc: ACC_WRITE, user: true, code: PFE_U | PFE_W },
    { name: "supervisor fetch", acc: ACC_EXEC, user: false, code: PFE_I },
    { name: "user fetch", acc: ACC_EXEC, user: true, code: PFE_U | PFE_I },
  ];
  for (const level of [PML4E, PDPTE, PDE, PTE]) {
    for (const a of accesses) {
      it(`P=0 in the ${LEVEL_NAMES[level]}: ${a.name} faults with P=0${a.code ? " and " + errName(a.code) : ""}, CR2 = the address`, () => {
        const s = machine();
        const va = L1G * 3 + T + 0x5678; // PML4[3], PDPT[1]: every level private to this test
        mapPage(s, va - 0x678, USER_RWX);
        expect(s.cpu.translateAs(va, a.acc, a.user)).toBeGreaterThan(0);
        setLo(s, entryPa(s, va, level), 0, PTE_P);
        s.cpu.flushTlb(true);
        expect(fault(s, () => s.cpu.translateAs(va, a.acc, a.user))).toEqual(pf(a.code, va));
      });
    }
  }

  it("CR2 holds an upper-half faulting address in canonical (sign-extended) form", () => {
    const s = machine();
    const la = -(2 ** 47) + 0x1234; // 0xffff800000001234
    expect(fault(s, () => s.cpu.readMem(la, 4))).toEqual(pf(0, la));
    expect(s.cpu.cr2).toBe(-(2 ** 47) + 0x1234);
  });

  it("reserved bits of a not-present entry are ignored (P=0 fault, RSVD clear)", () => {
    const s = machine();
    mapPage(s, T);
    const e = entryPa(s, T, PTE);
    s.mem.write32(e, 0xfffffffe | 0); // everything but P
    s.mem.write32(e + 4, -1);
    expect(fault(s, () => s.cpu.readMem(T, 1))).toEqual(pf(0, T));
  });

  it("a not-present fault from an instruction reports W for a write and RIP = the instruction", () => {
    const lines = [`mov rax, ${T + 0x3000}`, "mov ebx, 5", "add [rax], ebx"];
    const s = machine(lines.join("\n"));
    mapPage(s, T);
    s.cpu.cr2 = 0;
    s.cpu.run(3);
    expect(stopped(s)).toEqual({ vector: PF_VEC, code: PFE_W, rip: insnAt(lines, 2) });
    expect(s.cpu.cr2).toBe(T + 0x3000);
  });

  it("a user-mode read of an unmapped address reports U and stops at the faulting instruction", () => {
    const lines = [`mov rax, ${T + 0x2008}`, "mov ebx, [rax]"];
    const s = machine(lines.join("\n"), { user: true });
    mapPage(s, T, USER_RWX);
    s.cpu.run(2);
    expect(stopped(s)).toEqual({ vector: PF_VEC, code: PFE_U, rip: insnAt(lines, 1) });
    expect(s.cpu.cr2).toBe(T + 0x2008);
  });
});

function errName(code: number): string {
  const names: [number, string][] = [[PFE_P, "P"], [PFE_W, "W"], [PFE_U, "U"], [PFE_RSVD, "RSVD"], [PFE_I, "I"]];
  return names.filter(([b]) => (code & b) !== 0).map(([, n]) => n).join("|");
}

// ------------------------------------------------------------------ 4.6 access rights

describe("4.6 access rights: R/W, U/S and CR0.WP", () => {
  it("user-mode write to a read-only page faults with P|W|U", () => {
    const s = machine();
    mapPage(s, T, { user: true });
    expect(s.cpu.translateAs(T + 8, ACC_READ, true)).toBeGreaterThan(0);
    expect(fault(s, () => s.cpu.translateAs(T + 8, ACC_WRITE, true))).toEqual(pf(PFE_P | PFE_W | PFE_U, T + 8));
  });

  it("user-mode write to a read-only page faults with P|W|U through an instruction at CPL 3", () => {
    const lines = [`mov rax, ${T + 0x10}`, "mov ebx, 7", "mov [rax], ebx"];
    const s = machine(lines.join("\n"), { user: true });
    const pa = mapPage(s, T, { user: true });
    s.mem.write32(pa + 0x10, 0x55);
    s.cpu.run(3);
    expect(stopped(s)).toEqual({ vector: PF_VEC, code: PFE_P | PFE_W | PFE_U, rip: insnAt(lines, 2) });
    expect(s.cpu.cr2).toBe(T + 0x10);
    expect(s.mem.read32(pa + 0x10)).toBe(0x55);
  });

  it("user-mode access to a supervisor page faults with P|U (read) and P|W|U (write)", () => {
    const s = machine();
    mapPage(s, T, { write: true });
    expect(fault(s, () => s.cpu.translateAs(T, ACC_READ, true))).toEqual(pf(PFE_P | PFE_U, T));
    expect(fault(s, () => s.cpu.translateAs(T, ACC_WRITE, true))).toEqual(pf(PFE_P | PFE_W | PFE_U, T));
    expect(fault(s, () => s.cpu.translateAs(T, ACC_EXEC, true))).toEqual(pf(PFE_P | PFE_U | PFE_I, T));
    expect(s.cpu.translateAs(T, ACC_WRITE, false)).toBeGreaterThan(0);
  });

  for (const level of [PML4E, PDPTE, PDE]) {
    it(`U/S=0 in the ${LEVEL_NAMES[level]} makes the page supervisor-only even though the PTE says user`, () => {
      const s = machine();
      const va = L1G * 5 + T;
      mapPage(s, va, USER_RWX);
      setLo(s, entryPa(s, va, level), 0, PTE_US);
      expect(fault(s, () => s.cpu.translateAs(va, ACC_READ, true))).toEqual(pf(PFE_P | PFE_U, va));
      expect(s.cpu.translateAs(va, ACC_READ, false)).toBeGreaterThan(0);
    });

    it(`R/W=0 in the ${LEVEL_NAMES[level]} makes the page read-only even though the PTE says writable`, () => {
      const s = machine();
      const va = L1G * 5 + T;
      mapPage(s, va, USER_RWX);
      setLo(s, entryPa(s, va, level), 0, PTE_RW);
      expect(s.cpu.translateAs(va, ACC_READ, true)).toBeGreaterThan(0);
      expect(fault(s, () => s.cpu.translateAs(va, ACC_WRITE, true))).toEqual(pf(PFE_P | PFE_W | PFE_U, va));
      expect(fault(s, () => s.cpu.translateAs(va, ACC_WRITE, false))).toEqual(pf(PFE_P | PFE_W, va));
    });
  }

  it("CR0.WP=1: a supervisor write to a read-only page faults with P|W", () => {
    const s = machine();
    mapPage(s, T, {});
    expect(s.cpu.cr0 & CR0_WP).toBe(CR0_WP);
    expect(fault(s, () => s.cpu.writeMem(T, 4, 1, 0))).toEqual(pf(PFE_P | PFE_W, T));
  });

  it("CR0.WP=0: supervisor writes to read-only supervisor and user pages succeed and set D; user writes still fault", () => {
    const s = machine();
    const paS = mapPage(s, T, {});
    const paU = mapPage(s, T + 0x1000, { user: true });
    setControl(s, { cr0: s.cpu.cr0 & ~CR0_WP });
    s.cpu.writeMem(T, 4, 0x1111, 0);
    s.cpu.writeMem(T + 0x1000, 4, 0x2222, 0);
    expect([s.mem.read32(paS), s.mem.read32(paU)]).toEqual([0x1111, 0x2222]);
    expect(entryLo(s, entryPa(s, T, PTE)) & PTE_D).toBe(PTE_D);
    expect(entryLo(s, entryPa(s, T + 0x1000, PTE)) & PTE_D).toBe(PTE_D);
    expect(fault(s, () => s.cpu.translateAs(T + 0x1000, ACC_WRITE, true))).toEqual(pf(PFE_P | PFE_W | PFE_U, T + 0x1000));
  });

  it("setting CR0.WP again takes effect for translations cached while it was 0", () => {
    const s = machine();
    mapPage(s, T, {});
    setControl(s, { cr0: s.cpu.cr0 & ~CR0_WP });
    s.cpu.writeMem(T, 4, 1, 0); // caches a supervisor-writable translation
    setControl(s, { cr0: s.cpu.cr0 | CR0_WP });
    expect(fault(s, () => s.cpu.writeMem(T, 4, 2, 0))).toEqual(pf(PFE_P | PFE_W, T));
  });

  it("controlRegistersWritten drops the TLB only when a bit the cached rights depend on changes", () => {
    const s = machine();
    mapPage(s, T);
    s.cpu.translate(T, ACC_READ);
    const before = s.cpu.tlb.valid;
    setControl(s, { cr0: s.cpu.cr0 | (1 << 5) /* NE: unrelated */ });
    expect(s.cpu.tlb.valid).toBe(before);
    for (const change of [{ cr0: s.cpu.cr0 ^ CR0_WP }, { cr4: s.cpu.cr4 ^ CR4_SMEP }, { cr4: s.cpu.cr4 ^ CR4_SMAP }, { cr4: s.cpu.cr4 ^ CR4_PGE }, { efer: s.cpu.efer ^ EFER_NXE }]) {
      s.cpu.translate(T, ACC_READ);
      expect(s.cpu.tlb.valid).toBeGreaterThan(0);
      setControl(s, change);
      expect(s.cpu.tlb.valid, JSON.stringify(change)).toBe(0);
      setControl(s, { cr0: s.cpu.cr0 | CR0_WP, cr4: s.cpu.cr4 & ~(CR4_SMEP | CR4_SMAP | CR4_PGE), efer: s.cpu.efer | EFER_NXE });
    }
  });
});

// ------------------------------------------------------------------ 4.6 execute-disable

describe("4.6 execute-disable (XD, EFER.NXE)", () => {
  it("EFER.NXE=1: a fetch from an XD page faults with P|I (supervisor) and P|U|I (user); data accesses are allowed", () => {
    const s = machine();
    mapPage(s, T, { write: true, user: true, exec: false });
    expect(s.cpu.efer & EFER_NXE).toBe(EFER_NXE);
    expect(fault(s, () => s.cpu.translateAs(T + 0x40, ACC_EXEC, false))).toEqual(pf(PFE_P | PFE_I, T + 0x40));
    expect(fault(s, () => s.cpu.translateAs(T + 0x40, ACC_EXEC, true))).toEqual(pf(PFE_P | PFE_U | PFE_I, T + 0x40));
    expect(s.cpu.translateAs(T + 0x40, ACC_READ, true)).toBeGreaterThan(0);
    expect(s.cpu.translateAs(T + 0x40, ACC_WRITE, true)).toBeGreaterThan(0);
  });

  for (const level of [PML4E, PDPTE, PDE]) {
    it(`XD=1 in the ${LEVEL_NAMES[level]} forbids fetches from every page below it`, () => {
      const s = machine();
      const va = L1G * 6 + T;
      mapPage(s, va, USER_RWX);
      expect(s.cpu.translateAs(va, ACC_EXEC, true)).toBeGreaterThan(0);
      setHi(s, entryPa(s, va, level), PTE_NX_HI);
      s.cpu.flushTlb(true);
      expect(fault(s, () => s.cpu.translateAs(va, ACC_EXEC, true))).toEqual(pf(PFE_P | PFE_U | PFE_I, va));
      expect(s.cpu.translateAs(va, ACC_READ, true)).toBeGreaterThan(0);
    });
  }

  it("executing from an XD page faults at the fetch: CR2 = RIP = the jump target", () => {
    const lines = [`mov rax, ${T + 0x123}`, "jmp rax"];
    const s = machine(lines.join("\n"));
    const pa = mapPage(s, T, { write: true, exec: false });
    s.mem.load(pa + 0x123, assemble("mov eax, 1"));
    s.cpu.run(3);
    expect(stopped(s)).toEqual({ vector: PF_VEC, code: PFE_P | PFE_I, rip: T + 0x123 });
    expect(s.cpu.cr2).toBe(T + 0x123);
    expect(s.cpu.lo[RAX]).toBe(T + 0x123);
  });

  it("EFER.NXE=0: bit 63 is a reserved bit, so any access faults with P|RSVD (I only for fetches with SMEP)", () => {
    const s = machine();
    mapPage(s, T, { write: true, user: true, exec: false });
    setControl(s, { efer: s.cpu.efer & ~EFER_NXE });
    expect(fault(s, () => s.cpu.translateAs(T, ACC_READ, false))).toEqual(pf(PFE_P | PFE_RSVD, T));
    expect(fault(s, () => s.cpu.translateAs(T, ACC_WRITE, true))).toEqual(pf(PFE_P | PFE_RSVD | PFE_W | PFE_U, T));
    expect(fault(s, () => s.cpu.translateAs(T, ACC_EXEC, false))).toEqual(pf(PFE_P | PFE_RSVD, T));
    setControl(s, { cr4: s.cpu.cr4 | CR4_SMEP });
    expect(fault(s, () => s.cpu.translateAs(T, ACC_EXEC, false))).toEqual(pf(PFE_P | PFE_RSVD | PFE_I, T));
  });

  it("EFER.NXE=0: pages with bit 63 clear are executable, and a fetch fault does not report I", () => {
    const s = machine();
    mapPage(s, T, USER_RWX);
    setControl(s, { efer: s.cpu.efer & ~EFER_NXE });
    expect(s.cpu.translateAs(T, ACC_EXEC, true)).toBeGreaterThan(0);
    expect(fault(s, () => s.cpu.translateAs(T + 0x1000, ACC_EXEC, true))).toEqual(pf(PFE_U, T + 0x1000));
  });
});

// ------------------------------------------------------------------ 4.5 reserved bits

describe("4.5 reserved bits (RSVD)", () => {
  for (const level of [PML4E, PDPTE, PDE, PTE]) {
    for (const bit of [MAXPHYADDR, 51]) {
      it(`bit ${bit} (at or above MAXPHYADDR=${MAXPHYADDR}) set in the ${LEVEL_NAMES[level]} faults with P|RSVD`, () => {
        const s = machine();
        const va = L1G * 7 + T;
        mapPage(s, va, USER_RWX);
        setHi(s, entryPa(s, va, level), 1 << (bit - 32));
        expect(fault(s, () => s.cpu.translateAs(va + 4, ACC_WRITE, true))).toEqual(pf(PFE_P | PFE_RSVD | PFE_W | PFE_U, va + 4));
        expect(fault(s, () => s.cpu.translateAs(va, ACC_EXEC, false))).toEqual(pf(PFE_P | PFE_RSVD | PFE_I, va));
      });
    }
  }

  it("physical-address bits below MAXPHYADDR are address bits, not reserved", () => {
    const s = machine();
    mapPage(s, T);
    setFrame(s, entryPa(s, T, PTE), 2 ** (MAXPHYADDR - 1) + 0x7000);
    expect(s.cpu.translate(T + 0x321, ACC_READ)).toBe(2 ** (MAXPHYADDR - 1) + 0x7321);
  });

  it("bits 62:52 are ignored", () => {
    const s = machine();
    const pa = mapPage(s, T);
    setHi(s, entryPa(s, T, PTE), 0x7ff00000);
    expect(s.cpu.translate(T + 0x10, ACC_READ)).toBe(pa + 0x10);
  });

  it("PS=1 in a PML4E is reserved", () => {
    const s = machine();
    const va = L1G * 8;
    mapPage(s, va);
    setLo(s, entryPa(s, va, PML4E), PTE_PS);
    expect(fault(s, () => s.cpu.translate(va, ACC_READ))).toEqual(pf(PFE_P | PFE_RSVD, va));
    // Even with a frame aligned as a "512 GB page" would need, nothing else amiss.
    s.mem.write64(entryPa(s, va, PML4E), PTE_P | PTE_RW | PTE_PS, 0);
    s.cpu.flushTlb(true);
    expect(fault(s, () => s.cpu.translate(va + 0x1234, ACC_READ))).toEqual(pf(PFE_P | PFE_RSVD, va + 0x1234));
  });

  it("a 2 MB page whose frame has any of bits 20:13 set is reserved (misaligned frame)", () => {
    for (const bit of [13, 16, 20]) {
      const s = machine();
      s.pt.map(L2, 0x1000000, MB2, { write: true }, MB2);
      setLo(s, entryPa(s, L2, PDE), 1 << bit);
      expect(fault(s, () => s.cpu.translate(L2 + 0x1234, ACC_READ)), `bit ${bit}`).toEqual(pf(PFE_P | PFE_RSVD, L2 + 0x1234));
    }
  });

  it("a 1 GB page whose frame has any of bits 29:13 set is reserved (misaligned frame)", () => {
    for (const bit of [13, 21, 29]) {
      const s = machine();
      s.pt.map(L1G, 0, GB1, { write: true }, GB1);
      setLo(s, entryPa(s, L1G, PDPTE), 1 << bit);
      expect(fault(s, () => s.cpu.translate(L1G + 0x1234, ACC_WRITE)), `bit ${bit}`).toEqual(pf(PFE_P | PFE_RSVD | PFE_W, L1G + 0x1234));
    }
  });

  it("bit 12 of a large-page entry is PAT, neither address nor reserved", () => {
    const s = machine();
    s.pt.map(L2, 0x1000000, MB2, { write: true }, MB2);
    s.pt.map(L1G, 0, GB1, { write: true }, GB1);
    setLo(s, entryPa(s, L2, PDE), 1 << 12);
    setLo(s, entryPa(s, L1G, PDPTE), 1 << 12);
    expect(s.cpu.translate(L2 + 0x1234, ACC_READ)).toBe(0x1001234);
    expect(s.cpu.translate(L1G + 0x1234, ACC_READ)).toBe(0x1234);
  });

  it("a reserved-bit fault is reported even for an access the rights would also forbid", () => {
    const s = machine();
    mapPage(s, T, {}); // supervisor, read-only
    setHi(s, entryPa(s, T, PTE), 1 << (51 - 32));
    expect(fault(s, () => s.cpu.translateAs(T, ACC_WRITE, true))).toEqual(pf(PFE_P | PFE_RSVD | PFE_W | PFE_U, T));
  });
});

// ------------------------------------------------------------------ SMEP and SMAP

describe("4.6 SMEP and SMAP", () => {
  it("SMEP: a supervisor fetch from a user page faults with P|I; without SMEP it is allowed", () => {
    const s = machine();
    mapPage(s, T, USER_RWX);
    expect(s.cpu.translateAs(T, ACC_EXEC, false)).toBeGreaterThan(0);
    setControl(s, { cr4: s.cpu.cr4 | CR4_SMEP });
    expect(fault(s, () => s.cpu.translateAs(T, ACC_EXEC, false))).toEqual(pf(PFE_P | PFE_I, T));
    expect(s.cpu.translateAs(T, ACC_EXEC, true)).toBeGreaterThan(0); // user fetches unaffected
    expect(s.cpu.translateAs(T, ACC_READ, false)).toBeGreaterThan(0); // data accesses unaffected
  });

  it("SMEP: the I flag is reported even when EFER.NXE=0", () => {
    const s = machine();
    mapPage(s, T, USER_RWX);
    setControl(s, { cr4: s.cpu.cr4 | CR4_SMEP, efer: s.cpu.efer & ~EFER_NXE });
    expect(fault(s, () => s.cpu.translateAs(T, ACC_EXEC, false))).toEqual(pf(PFE_P | PFE_I, T));
  });

  it("SMEP: the kernel jumping into a user page faults at the fetch with CR2 = RIP", () => {
    const s = machine();
    const pa = mapPage(s, T, USER_RWX);
    s.mem.load(pa + 0x80, assemble("mov eax, 42"));
    setControl(s, { cr4: s.cpu.cr4 | CR4_SMEP });
    s.cpu.rip = T + 0x80;
    s.cpu.run(1);
    expect(stopped(s)).toEqual({ vector: PF_VEC, code: PFE_P | PFE_I, rip: T + 0x80 });
    expect(s.cpu.cr2).toBe(T + 0x80);
    expect(s.cpu.lo[RAX]).toBe(0);
  });

  it("SMAP: supervisor data accesses to a user page fault (P, P|W) while RFLAGS.AC=0", () => {
    const s = machine();
    mapPage(s, T, USER_RWX);
    s.cpu.readMem(T, 4); // cached before SMAP is on
    setControl(s, { cr4: s.cpu.cr4 | CR4_SMAP });
    expect(fault(s, () => s.cpu.readMem(T + 4, 4))).toEqual(pf(PFE_P, T + 4));
    expect(fault(s, () => s.cpu.writeMem(T + 4, 4, 1, 0))).toEqual(pf(PFE_P | PFE_W, T + 4));
    expect(s.cpu.translateAs(T, ACC_EXEC, false)).toBeGreaterThan(0); // fetches are SMEP's business
    expect(s.cpu.translateAs(T, ACC_WRITE, true)).toBeGreaterThan(0); // user accesses unaffected
  });

  it("SMAP: RFLAGS.AC=1 permits supervisor data accesses to user pages, and clearing AC takes effect at once", () => {
    const s = machine();
    const pa = mapPage(s, T, USER_RWX);
    setControl(s, { cr4: s.cpu.cr4 | CR4_SMAP });
    s.cpu.rflags = s.cpu.rflags | AC;
    s.cpu.writeMem(T, 4, 0x77, 0); // caches a translation with supervisor rights
    expect(s.cpu.readMem(T, 4)).toBe(0x77);
    s.cpu.rflags = s.cpu.rflags & ~AC;
    expect(fault(s, () => s.cpu.readMem(T, 4))).toEqual(pf(PFE_P, T));
    expect(fault(s, () => s.cpu.writeMem(T, 4, 0x88, 0))).toEqual(pf(PFE_P | PFE_W, T));
    expect(s.mem.read32(pa)).toBe(0x77);
    s.cpu.rflags = s.cpu.rflags | AC;
    expect(s.cpu.readMem(T, 4)).toBe(0x77);
  });

  it("SMAP: AC set and cleared by POPF is honoured by the next access", () => {
    const lines = [
      `mov rbx, ${T}`,
      "pushfq", "or dword ptr [rsp], 0x40000", "popfq",
      "mov eax, [rbx]",
      "pushfq", "and dword ptr [rsp], 0xfffbffff", "popfq",
      "mov ecx, [rbx]",
    ];
    const s = machine(lines.join("\n"));
    const pa = mapPage(s, T, USER_RWX);
    s.mem.write32(pa, 0x1234);
    setControl(s, { cr4: s.cpu.cr4 | CR4_SMAP });
    s.cpu.run(9);
    expect(s.cpu.lo[RAX]).toBe(0x1234);
    expect(stopped(s)).toEqual({ vector: PF_VEC, code: PFE_P, rip: insnAt(lines, 8) });
    expect(s.cpu.cr2).toBe(T);
  });

  it("SMAP with AC=1 still honours CR0.WP for read-only user pages", () => {
    const s = machine();
    mapPage(s, T, { user: true });
    setControl(s, { cr4: s.cpu.cr4 | CR4_SMAP });
    s.cpu.rflags = s.cpu.rflags | AC;
    expect(s.cpu.readMem(T, 4)).toBe(0);
    expect(fault(s, () => s.cpu.writeMem(T, 4, 1, 0))).toEqual(pf(PFE_P | PFE_W, T));
  });

  it("SMAP does not restrict supervisor access to supervisor pages", () => {
    const s = machine();
    mapPage(s, T);
    setControl(s, { cr4: s.cpu.cr4 | CR4_SMAP | CR4_SMEP });
    s.cpu.writeMem(T, 8, 1, 2);
    expect(s.cpu.readMem(T, 8)).toBe(1);
  });
});

// ------------------------------------------------------------------ 4.8 accessed and dirty flags

describe("4.8 accessed and dirty flags", () => {
  const levels = [PML4E, PDPTE, PDE, PTE];
  function clearAD(s: Snippet, va: number): void {
    for (const l of levels) setLo(s, entryPa(s, va, l), 0, PTE_A | PTE_D);
    s.cpu.flushTlb(true);
  }
  const flagsOf = (s: Snippet, va: number, bit: number) => levels.map((l) => (entryLo(s, entryPa(s, va, l)) & bit) !== 0);

  it("a read sets A in the entries of all four levels and leaves D clear", () => {
    const s = machine();
    const va = L1G * 9 + T;
    mapPage(s, va);
    clearAD(s, va);
    s.cpu.readMem(va + 8, 8);
    expect(flagsOf(s, va, PTE_A)).toEqual([true, true, true, true]);
    expect(flagsOf(s, va, PTE_D)).toEqual([false, false, false, false]);
  });

  it("a write sets A everywhere and D only in the PTE", () => {
    const s = machine();
    const va = L1G * 9 + T;
    mapPage(s, va);
    clearAD(s, va);
    s.cpu.writeMem(va + 8, 1, 1, 0);
    expect(flagsOf(s, va, PTE_A)).toEqual([true, true, true, true]);
    expect(flagsOf(s, va, PTE_D)).toEqual([false, false, false, true]);
  });

  it("an instruction fetch sets A but not D", () => {
    const s = machine();
    const pa = mapPage(s, T, { write: true, exec: true });
    s.mem.load(pa, assemble("nop"));
    clearAD(s, T);
    s.cpu.rip = T;
    s.cpu.run(1);
    expect(s.cpu.rip).toBe(T + 1);
    expect(flagsOf(s, T, PTE_A)).toEqual([true, true, true, true]);
    expect(flagsOf(s, T, PTE_D)).toEqual([false, false, false, false]);
  });

  it("2 MB and 1 GB pages: A and D are set in the PDE / PDPTE that maps the page", () => {
    const s = machine();
    s.pt.map(L2, 0x1000000, MB2, { write: true }, MB2);
    s.pt.map(L1G, 0, GB1, { write: true }, GB1);
    const pde = entryPa(s, L2, PDE), pdpte = entryPa(s, L1G, PDPTE);
    s.cpu.readMem(L2 + 0x1ff000, 4);
    s.cpu.readMem(L1G + 0x1234000, 4);
    expect(entryLo(s, pde) & (PTE_A | PTE_D)).toBe(PTE_A);
    expect(entryLo(s, pdpte) & (PTE_A | PTE_D)).toBe(PTE_A);
    s.cpu.writeMem(L2 + 0x100, 4, 1, 0);
    s.cpu.writeMem(L1G + 0x1ff0000, 4, 1, 0);
    expect(entryLo(s, pde) & (PTE_A | PTE_D)).toBe(PTE_A | PTE_D);
    expect(entryLo(s, pdpte) & (PTE_A | PTE_D)).toBe(PTE_A | PTE_D);
  });

  it("a write through a cached clean translation walks again and sets D", () => {
    const s = machine();
    mapPage(s, T);
    const e = entryPa(s, T, PTE);
    s.cpu.readMem(T, 4);
    expect(entryLo(s, e) & PTE_D).toBe(0);
    s.cpu.writeMem(T + 0x10, 4, 5, 0);
    expect(entryLo(s, e) & PTE_D).toBe(PTE_D);
  });

  it("after software clears D and invalidates the page, the next write sets D again", () => {
    const s = machine();
    mapPage(s, T);
    const e = entryPa(s, T, PTE);
    s.cpu.writeMem(T, 4, 1, 0);
    setLo(s, e, 0, PTE_D);
    s.cpu.invlpg(T);
    s.cpu.readMem(T, 4);
    expect(entryLo(s, e) & PTE_D).toBe(0);
    s.cpu.writeMem(T, 4, 2, 0);
    expect(entryLo(s, e) & PTE_D).toBe(PTE_D);
  });

  it("a write that faults does not set D", () => {
    const s = machine();
    mapPage(s, T, { user: true });
    const e = entryPa(s, T, PTE);
    fault(s, () => s.cpu.translateAs(T, ACC_WRITE, true));
    expect(entryLo(s, e) & PTE_D).toBe(0);
  });

  it("instructions: a load sets only A, a store sets D", () => {
    const s = machine(`mov rax, ${T}\nmov ebx, [rax]\nmov [rax + 0x1000], ebx`);
    mapPage(s, T);
    mapPage(s, T + 0x1000);
    clearAD(s, T);
    s.cpu.run(3);
    expect(stopped(s).vector).toBe(-1);
    expect(entryLo(s, entryPa(s, T, PTE)) & (PTE_A | PTE_D)).toBe(PTE_A);
    expect(entryLo(s, entryPa(s, T + 0x1000, PTE)) & (PTE_A | PTE_D)).toBe(PTE_A | PTE_D);
  });
});

// ------------------------------------------------------------------ 4.5 page sizes

describe("4.5 4 KB, 2 MB and 1 GB pages", () => {
  it("a 4 KB page maps bits 11:0 as the offset", () => {
    const s = machine();
    const pa = mapPage(s, T + 0x5000);
    expect(s.cpu.translate(T + 0x5abc, ACC_READ)).toBe(pa + 0xabc);
    s.mem.write32(pa + 0xabc, 0xcafe);
    expect(s.cpu.readMem(T + 0x5abc, 4)).toBe(0xcafe);
  });

  it("a 2 MB page (PDE.PS=1) maps bits 20:0 as the offset", () => {
    const s = machine();
    s.pt.map(L2, 0x1000000, 2 * MB2, { write: true }, MB2);
    expect(s.cpu.translate(L2 + 0x12345, ACC_READ)).toBe(0x1012345);
    expect(s.cpu.translate(L2 + 0x1fffff, ACC_READ)).toBe(0x11fffff);
    expect(s.cpu.translate(L2 + MB2 + 0xabcde, ACC_READ)).toBe(0x12abcde);
    s.cpu.writeMem(L2 + 0x1ff000 + 0x10, 4, 0xbeef, 0);
    expect(s.mem.read32(0x11ff010)).toBe(0xbeef);
  });

  it("a 1 GB page (PDPTE.PS=1) maps bits 29:0 as the offset, including frames beyond RAM", () => {
    const s = machine();
    s.pt.map(L1G, 0, GB1, { write: true }, GB1);
    s.pt.map(L1G + GB1, 5 * GB1, GB1, {}, GB1);
    expect(s.cpu.translate(L1G + 0x1234567, ACC_READ)).toBe(0x1234567);
    expect(s.cpu.translate(L1G + 0x3fffffff, ACC_READ)).toBe(0x3fffffff);
    expect(s.cpu.translate(L1G + GB1 + 0x2345678, ACC_READ)).toBe(5 * GB1 + 0x2345678);
    s.mem.write32(0x1234560, 0x600d);
    expect(s.cpu.readMem(L1G + 0x1234560, 4)).toBe(0x600d);
  });

  it("a large page's frame may use physical-address bits above 32", () => {
    const s = machine();
    s.pt.map(L1G, 2 ** 44, GB1, {}, GB1);
    s.pt.map(L2, 2 ** 40 + 7 * MB2, MB2, {}, MB2);
    expect(s.cpu.translate(L1G + 0x2345678, ACC_READ)).toBe(2 ** 44 + 0x2345678);
    expect(s.cpu.translate(L2 + 0x1abcd, ACC_READ)).toBe(2 ** 40 + 7 * MB2 + 0x1abcd);
  });

  it("PageTableBuilder refuses page sizes other than 4 KB, 2 MB and 1 GB", () => {
    const s = machine();
    expect(() => s.pt.map(T, 0x1000000, 0x2000, {}, 0x2000)).toThrow(/page size/);
  });

  it("upper-half addresses walk PML4[511] and translate like any other", () => {
    const s = machine();
    const pa = mapPage(s, HI + 0x3000);
    s.pt.map(-(2 ** 39) + 0x4000_0000, 0x1000000, MB2, { write: true }, MB2); // 0xffffff8040000000
    expect(s.cpu.translate(HI + 0x3fff, ACC_READ)).toBe(pa + 0xfff);
    expect(s.cpu.translate(-(2 ** 39) + 0x4000_0000 + 0x54321, ACC_WRITE)).toBe(0x1054321);
  });

  it("the rights of a large page come from its PDE / PDPTE (R/W, U/S, XD)", () => {
    const s = machine();
    s.pt.map(L2, 0x1000000, MB2, { user: true }, MB2);
    s.pt.map(L1G, 0, GB1, { write: true }, GB1);
    expect(fault(s, () => s.cpu.translateAs(L2 + 0x10000, ACC_WRITE, true))).toEqual(pf(PFE_P | PFE_W | PFE_U, L2 + 0x10000));
    expect(fault(s, () => s.cpu.translateAs(L2 + 0x20000, ACC_EXEC, true))).toEqual(pf(PFE_P | PFE_U | PFE_I, L2 + 0x20000));
    expect(fault(s, () => s.cpu.translateAs(L1G + 0x30000, ACC_READ, true))).toEqual(pf(PFE_P | PFE_U, L1G + 0x30000));
  });
});

// ------------------------------------------------------------------ 4.10 TLB

describe("4.10 TLB caching and invalidation", () => {
  /** T maps pa1 (holding 0x1111); pa2 holds 0x2222. */
  function twoFrames(flags: PageFlags = { write: true }) {
    const s = machine();
    const pa1 = mapPage(s, T, flags);
    const pa2 = s.allocPage();
    s.mem.write32(pa1, 0x1111);
    s.mem.write32(pa2, 0x2222);
    return { s, pa1, pa2, pte: entryPa(s, T, PTE) };
  }

  it("a PTE modified without invalidation: the cached translation is still used", () => {
    const { s, pa2, pte } = twoFrames();
    expect(s.cpu.readMem(T, 4)).toBe(0x1111);
    setFrame(s, pte, pa2);
    expect(s.cpu.readMem(T, 4)).toBe(0x1111);
  });

  it("INVLPG drops the page's translation: the modified PTE is used", () => {
    const { s, pa2, pte } = twoFrames();
    expect(s.cpu.readMem(T, 4)).toBe(0x1111);
    setFrame(s, pte, pa2);
    s.cpu.invlpg(T + 0xabc);
    expect(s.cpu.readMem(T, 4)).toBe(0x2222);
  });

  it("INVLPG of another page leaves this page's translation cached", () => {
    const { s, pa2, pte } = twoFrames();
    mapPage(s, T + 0x1000);
    s.cpu.readMem(T, 4);
    setFrame(s, pte, pa2);
    s.cpu.invlpg(T + 0x1000);
    expect(s.cpu.readMem(T, 4)).toBe(0x1111);
  });

  it("a page made not-present without invalidation stays usable until INVLPG, then faults", () => {
    const { s, pte } = twoFrames();
    s.cpu.writeMem(T, 4, 0x1111, 0);
    setLo(s, pte, 0, PTE_P);
    expect(s.cpu.readMem(T, 4)).toBe(0x1111);
    s.cpu.invlpg(T);
    expect(fault(s, () => s.cpu.readMem(T, 4))).toEqual(pf(0, T));
  });

  it("a page fault invalidates the faulting page's cached translation", () => {
    const { s, pte } = twoFrames({ write: true }); // supervisor page
    expect(s.cpu.readMem(T, 4)).toBe(0x1111);
    setLo(s, pte, 0, PTE_P); // no INVLPG
    expect(fault(s, () => s.cpu.translateAs(T, ACC_READ, true))).toEqual(pf(PFE_U, T)); // walks: not present
    expect(fault(s, () => s.cpu.readMem(T, 4))).toEqual(pf(0, T)); // the stale entry went with the fault
  });

  it("permission upgrades without invalidation cause at most one spurious fault", () => {
    const { s, pte } = twoFrames({});
    expect(s.cpu.readMem(T, 4)).toBe(0x1111);
    setLo(s, pte, PTE_RW);
    let faults = 0;
    for (let k = 0; k < 2; k++) {
      try {
        s.cpu.writeMem(T, 4, 0x3333, 0);
      } catch (e) {
        if (!(e instanceof CpuFault)) throw e;
        faults++;
      }
    }
    expect(faults).toBeLessThanOrEqual(1);
    expect(s.cpu.readMem(T, 4)).toBe(0x3333);
  });

  it("INVLPG of any address inside a 2 MB page drops every cached part of that page", () => {
    const s = machine();
    s.pt.map(L2, 0x1000000, MB2, { write: true }, MB2);
    const pde = entryPa(s, L2, PDE);
    const offs = [0, 0x1000, 0x123456, 0x1ff008];
    for (const o of offs) expect(s.cpu.translate(L2 + o, ACC_READ)).toBe(0x1000000 + o);
    setFrame(s, pde, 0x1400000);
    for (const o of offs) expect(s.cpu.translate(L2 + o, ACC_READ)).toBe(0x1000000 + o);
    s.cpu.invlpg(L2 + 0x80000);
    for (const o of offs) expect(s.cpu.translate(L2 + o, ACC_READ)).toBe(0x1400000 + o);
  });

  it("INVLPG of any address inside a 1 GB page drops every cached part of that page", () => {
    const s = machine();
    s.pt.map(L1G, 0, GB1, { write: true }, GB1);
    const pdpte = entryPa(s, L1G, PDPTE);
    const offs = [0x10, 0x1234567, 0x3fffe000];
    for (const o of offs) expect(s.cpu.translate(L1G + o, ACC_READ)).toBe(o);
    setFrame(s, pdpte, 3 * GB1);
    s.cpu.invlpg(L1G + 0x2000_0000);
    for (const o of offs) expect(s.cpu.translate(L1G + o, ACC_READ)).toBe(3 * GB1 + o);
  });

  it("CR3 reload drops non-global translations and keeps global ones (CR4.PGE=1, G=1)", () => {
    const s = machine();
    setControl(s, { cr4: s.cpu.cr4 | CR4_PGE });
    const g = mapPage(s, T, { write: true, global: true });
    const n = mapPage(s, T + 0x1000, { write: true });
    s.pt.map(L2, 0x1000000, MB2, { global: true }, MB2);
    const spare = s.allocPage();
    expect(s.cpu.translate(T, ACC_READ)).toBe(g);
    expect(s.cpu.translate(T + 0x1000, ACC_READ)).toBe(n);
    expect(s.cpu.translate(L2 + 0x3000, ACC_READ)).toBe(0x1003000);
    setFrame(s, entryPa(s, T, PTE), spare);
    setFrame(s, entryPa(s, T + 0x1000, PTE), spare);
    setFrame(s, entryPa(s, L2, PDE), 0x1200000);
    s.cpu.flushTlb(false); // MOV to CR3
    expect(s.cpu.translate(T, ACC_READ)).toBe(g);
    expect(s.cpu.translate(L2 + 0x3000, ACC_READ)).toBe(0x1003000);
    expect(s.cpu.translate(T + 0x1000, ACC_READ)).toBe(spare);
    s.cpu.flushTlb(true); // e.g. toggling CR4.PGE
    expect(s.cpu.translate(T, ACC_READ)).toBe(spare);
    expect(s.cpu.translate(L2 + 0x3000, ACC_READ)).toBe(0x1203000);
  });

  it("G is ignored when CR4.PGE=0: a CR3 reload drops the translation", () => {
    const s = machine();
    const g = mapPage(s, T, { write: true, global: true });
    const spare = s.allocPage();
    expect(s.cpu.translate(T, ACC_READ)).toBe(g);
    setFrame(s, entryPa(s, T, PTE), spare);
    s.cpu.flushTlb(false);
    expect(s.cpu.translate(T, ACC_READ)).toBe(spare);
  });

  it("INVLPG drops a global translation", () => {
    const s = machine();
    setControl(s, { cr4: s.cpu.cr4 | CR4_PGE });
    const g = mapPage(s, T, { write: true, global: true });
    const spare = s.allocPage();
    expect(s.cpu.translate(T, ACC_READ)).toBe(g);
    setFrame(s, entryPa(s, T, PTE), spare);
    s.cpu.invlpg(T);
    expect(s.cpu.translate(T, ACC_READ)).toBe(spare);
  });

  it("the fetch path honours INVLPG: code remapped and invalidated runs from the new frame", () => {
    const s = machine();
    const pa1 = mapPage(s, T, { write: true, exec: true });
    const pa2 = s.allocPage();
    s.mem.load(pa1, assemble("mov eax, 1\njmp $-5"));
    s.mem.load(pa2, assemble("mov eax, 2\njmp $-5"));
    s.cpu.rip = T;
    s.cpu.run(2);
    expect([s.cpu.lo[RAX], s.cpu.rip]).toEqual([1, T]);
    setFrame(s, entryPa(s, T, PTE), pa2);
    s.cpu.run(2);
    expect(s.cpu.lo[RAX]).toBe(1); // still the cached translation
    s.cpu.invlpg(T);
    s.cpu.run(2);
    expect(s.cpu.lo[RAX]).toBe(2);
  });
});

// ------------------------------------------------------------------ canonical addresses

describe("3.3.7.1 canonical addresses", () => {
  it("a non-canonical address raises #GP(0), not #PF, and leaves CR2 alone", () => {
    const s = machine();
    s.cpu.cr2 = 0x1234;
    for (const la of [2 ** 47, -(2 ** 47) - 4096, 2 ** 63]) {
      expect(fault(s, () => s.cpu.translate(la, ACC_READ))).toEqual({ vector: GP, code: 0, cr2: 0x1234 });
      expect(fault(s, () => s.cpu.writeMem(la, 4, 0, 0))).toEqual({ vector: GP, code: 0, cr2: 0x1234 });
    }
  });

  it("a load from a non-canonical address faults #GP(0) at that instruction", () => {
    const lines = ["mov rbx, 0x0000800000000000", "mov rax, [rbx]"];
    const s = machine(lines.join("\n"));
    s.cpu.cr2 = 0x1234;
    s.cpu.run(2);
    expect(stopped(s)).toEqual({ vector: GP, code: 0, rip: insnAt(lines, 1) });
    expect(s.cpu.cr2).toBe(0x1234);
  });

  it("a branch to a non-canonical address faults #GP(0) at the branch", () => {
    const lines = ["mov rbx, 0xfff0000000000000", "jmp rbx"];
    const s = machine(lines.join("\n"));
    s.cpu.run(2);
    expect(stopped(s)).toEqual({ vector: GP, code: 0, rip: insnAt(lines, 1) });
  });

  /** Gives the #SS and #DF gates an IST stack so a bad RSP can still be reported. */
  function withIst(s: Snippet): Snippet {
    for (const v of [8, 12, 13]) s.mem.write32(IDT + v * 16 + 4, s.mem.read32(IDT + v * 16 + 4) | 1);
    return s;
  }

  it("PUSH and POP with a non-canonical RSP raise #SS(0)", () => {
    for (const op of ["push rax", "pop rax"]) {
      const lines = ["mov rsp, 0x0000800000000008", op];
      const s = withIst(machine(lines.join("\n")));
      s.cpu.run(2);
      expect(stopped(s), op).toEqual({ vector: SS_VEC, code: 0, rip: insnAt(lines, 1) });
    }
  });

  // Memory operands based on RSP or RBP use SS, so a non-canonical address there is
  // #SS(0) (SDM Vol. 2, MOV: "64-Bit Mode Exceptions").
  it("an RSP- or RBP-based operand with a non-canonical address raises #SS(0)", () => {
    for (const op of ["mov rax, [rsp + 8]", "mov rax, [rbp]"]) {
      const lines = ["mov rsp, 0x0000800000000008", "mov rbp, rsp", op];
      const s = withIst(machine(lines.join("\n")));
      s.cpu.run(3);
      expect(stopped(s), op).toEqual({ vector: SS_VEC, code: 0, rip: insnAt(lines, 2) });
    }
  });
});

// ------------------------------------------------------------------ page-crossing data accesses

describe("accesses that cross a page boundary", () => {
  it("a write whose second page is not present faults with CR2 = the second page and writes nothing", () => {
    const s = machine();
    const pa = mapPage(s, T);
    s.mem.write32(pa + 0xffc, 0xaaaaaaaa | 0);
    expect(fault(s, () => s.cpu.writeMem(T + 0xffc, 8, 0x11223344, 0x55667788))).toEqual(pf(PFE_W, T + 0x1000));
    expect(s.mem.read32(pa + 0xffc) >>> 0).toBe(0xaaaaaaaa);
  });

  it("a read whose second page is not present faults with CR2 = the second page", () => {
    const s = machine();
    mapPage(s, T);
    expect(fault(s, () => s.cpu.readMem(T + 0xffe, 4))).toEqual(pf(0, T + 0x1000));
  });

  it("when the first page faults, CR2 is the access's own address", () => {
    const s = machine();
    mapPage(s, T + 0x1000);
    expect(fault(s, () => s.cpu.readMem(T + 0xffd, 8))).toEqual(pf(0, T + 0xffd));
  });

  it("a write whose second page is read-only faults with P|W and CR2 = the second page", () => {
    const s = machine();
    const pa = mapPage(s, T, { write: true, user: true });
    mapPage(s, T + 0x1000, { user: true });
    expect(fault(s, () => s.cpu.translateAs(T + 0x1000, ACC_WRITE, true))).toEqual(pf(PFE_P | PFE_W | PFE_U, T + 0x1000));
    s.cpu.cpl = 3;
    expect(fault(s, () => s.cpu.writeMem(T + 0xffe, 4, -1, 0))).toEqual(pf(PFE_P | PFE_W | PFE_U, T + 0x1000));
    expect(s.mem.read16(pa + 0xffe)).toBe(0);
  });

  it("a crossing access joins bytes from two non-contiguous frames", () => {
    const s = machine();
    const pa2 = mapPage(s, T + 0x1000);
    s.allocPage();
    const pa1 = mapPage(s, T);
    s.cpu.writeMem(T + 0xffb, 8, 0x44332211, 0x88776655 | 0);
    expect([...s.mem.bytes.subarray(pa1 + 0xffb, pa1 + 0x1000)]).toEqual([0x11, 0x22, 0x33, 0x44, 0x55]);
    expect([...s.mem.bytes.subarray(pa2, pa2 + 3)]).toEqual([0x66, 0x77, 0x88]);
    expect(s.cpu.readMem(T + 0xffb, 8) >>> 0).toBe(0x44332211);
    expect(s.cpu.h >>> 0).toBe(0x88776655);
  });

  it("a crossing store instruction faults on the second page before writing any byte", () => {
    const lines = [`mov rax, ${T + 0xffc}`, "mov rbx, 0x1122334455667788", "mov [rax], rbx"];
    const s = machine(lines.join("\n"));
    const pa = mapPage(s, T);
    s.mem.write32(pa + 0xffc, 0xaaaaaaaa | 0);
    s.cpu.run(3);
    expect(stopped(s)).toEqual({ vector: PF_VEC, code: PFE_W, rip: insnAt(lines, 2) });
    expect(s.cpu.cr2).toBe(T + 0x1000);
    expect(s.mem.read32(pa + 0xffc) >>> 0).toBe(0xaaaaaaaa);
  });

  it("a crossing read-modify-write whose second page is read-only faults with P|W before writing", () => {
    const lines = [`mov rax, ${T + 0xffe}`, "mov ebx, 0x01010101", "add [rax], ebx"];
    const s = machine(lines.join("\n"));
    const pa = mapPage(s, T);
    mapPage(s, T + 0x1000, {});
    s.mem.write16(pa + 0xffe, 0x5555);
    s.cpu.run(3);
    expect(stopped(s)).toEqual({ vector: PF_VEC, code: PFE_P | PFE_W, rip: insnAt(lines, 2) });
    expect(s.cpu.cr2).toBe(T + 0x1000);
    expect(s.mem.read16(pa + 0xffe)).toBe(0x5555);
  });
});

// ------------------------------------------------------------------ page-crossing fetches

describe("instruction fetch across a page boundary", () => {
  /** Code page at T (executable), next page at T+0x1000 with `next` flags (or unmapped). */
  function twoCodePages(next: PageFlags | null) {
    const s = machine();
    const pa1 = mapPage(s, T, { write: true, exec: true });
    const pa2 = next ? mapPage(s, T + 0x1000, next) : -1;
    return { s, pa1, pa2 };
  }
  const MOV_EAX_42 = assemble("mov eax, 42"); // 5 bytes

  it("an instruction that ends exactly at the boundary runs; the next fetch faults at the XD page", () => {
    const { s, pa1 } = twoCodePages({ write: true, exec: false });
    s.mem.load(pa1 + 0x1000 - MOV_EAX_42.length, MOV_EAX_42);
    s.cpu.rip = T + 0x1000 - MOV_EAX_42.length;
    s.cpu.run(1);
    expect([s.cpu.lo[RAX], s.cpu.rip]).toEqual([42, T + 0x1000]);
    s.cpu.run(1);
    expect(stopped(s)).toEqual({ vector: PF_VEC, code: PFE_P | PFE_I, rip: T + 0x1000 });
    expect(s.cpu.cr2).toBe(T + 0x1000);
  });

  it("a one-byte instruction in the last byte of the page does not touch the next page", () => {
    const { s, pa1 } = twoCodePages(null);
    s.mem.write8(pa1 + 0xfff, 0x90); // nop
    s.cpu.rip = T + 0xfff;
    s.cpu.run(1);
    expect(s.cpu.rip).toBe(T + 0x1000);
    expect(stopped(s).vector).toBe(-1);
  });

  it("an instruction that extends into an XD page faults with P|I, CR2 = the second page, RIP = the instruction", () => {
    const { s, pa1, pa2 } = twoCodePages({ write: true, exec: false });
    s.mem.load(pa1 + 0xffd, MOV_EAX_42.subarray(0, 3));
    s.mem.load(pa2, MOV_EAX_42.subarray(3));
    s.cpu.rip = T + 0xffd;
    s.cpu.run(1);
    expect(stopped(s)).toEqual({ vector: PF_VEC, code: PFE_P | PFE_I, rip: T + 0xffd });
    expect(s.cpu.cr2).toBe(T + 0x1000);
    expect(s.cpu.lo[RAX]).toBe(0);
  });

  it("an instruction that extends into a not-present page faults with I and P=0", () => {
    const { s, pa1 } = twoCodePages(null);
    s.mem.load(pa1 + 0xffe, MOV_EAX_42.subarray(0, 2));
    s.cpu.rip = T + 0xffe;
    s.cpu.run(1);
    expect(stopped(s)).toEqual({ vector: PF_VEC, code: PFE_I, rip: T + 0xffe });
    expect(s.cpu.cr2).toBe(T + 0x1000);
  });

  it("a lone prefix in the last byte still needs the next page", () => {
    const { s, pa1 } = twoCodePages({ write: true, exec: false });
    s.mem.write8(pa1 + 0xfff, 0x48); // REX.W
    s.cpu.rip = T + 0xfff;
    s.cpu.run(1);
    expect(stopped(s)).toEqual({ vector: PF_VEC, code: PFE_P | PFE_I, rip: T + 0xfff });
    expect(s.cpu.cr2).toBe(T + 0x1000);
  });

  it("a crossing instruction runs when both pages are executable, from non-contiguous frames", () => {
    const s = machine();
    const pa2 = mapPage(s, T + 0x1000, { exec: true });
    s.allocPage();
    const pa1 = mapPage(s, T, { exec: true });
    s.mem.load(pa1 + 0xffe, MOV_EAX_42.subarray(0, 2));
    s.mem.load(pa2, MOV_EAX_42.subarray(2));
    s.cpu.rip = T + 0xffe;
    s.cpu.run(1);
    expect([s.cpu.lo[RAX], s.cpu.rip]).toEqual([42, T + 0x1003]);
  });

  it("a fetch fault reports CR2 = RIP exactly, not the page base", () => {
    const lines = [`mov rax, ${T + 0x2123}`, "jmp rax"];
    const s = machine(lines.join("\n"));
    mapPage(s, T);
    s.cpu.run(3);
    expect(stopped(s)).toEqual({ vector: PF_VEC, code: PFE_I, rip: T + 0x2123 });
    expect(s.cpu.cr2).toBe(T + 0x2123);
  });

  it("a user-mode fetch from a supervisor page faults with P|U|I", () => {
    const lines = [`mov rax, ${T + 0x40}`, "jmp rax"];
    const s = machine(lines.join("\n"), { user: true });
    mapPage(s, T, { exec: true });
    s.cpu.run(3);
    expect(stopped(s)).toEqual({ vector: PF_VEC, code: PFE_P | PFE_U | PFE_I, rip: T + 0x40 });
    expect(s.cpu.cr2).toBe(T + 0x40);
  });
});

// ------------------------------------------------------------------ self-modifying code

describe("self-modifying code (decoded-instruction cache invalidation)", () => {
  it("a store over already-executed code is seen the next time it runs", () => {
    const s = machine("mov ecx, 2\ntarget: mov eax, 1\nmov byte ptr [rip + target + 1], 7\ndec ecx\njnz target");
    s.cpu.run(2);
    expect(s.cpu.lo[RAX]).toBe(1);
    s.cpu.run(7);
    expect([s.cpu.lo[RAX], s.cpu.lo[RCX]]).toEqual([7, 0]);
  });

  it("a store through another linear address (an alias of the same frame) is seen", () => {
    const s = machine(`mov ecx, 2\nlea rdx, [rip + target]\nadd rdx, ${T - CODE}\ntarget: mov eax, 1\nmov byte ptr [rdx + 1], 9\ndec ecx\njnz target`);
    s.pt.map(T, CODE, 4096, { write: true });
    s.cpu.run(11);
    expect([s.cpu.lo[RAX], s.cpu.lo[RCX]]).toEqual([9, 0]);
  });

  it("a store to the instruction right after the current one is seen", () => {
    const s = machine("mov ecx, 2\nagain: mov byte ptr [rip + next + 1], cl\nnext: mov eax, 0\ndec ecx\njnz again");
    s.cpu.run(5);
    expect(s.cpu.lo[RAX]).toBe(2);
    s.cpu.run(4);
    expect(s.cpu.lo[RAX]).toBe(1);
  });

  it("a write by a device (DMA into RAM) over cached code is seen", () => {
    const s = machine("target: mov eax, 1\njmp target");
    s.cpu.run(2);
    expect([s.cpu.lo[RAX], s.cpu.rip]).toEqual([1, CODE]);
    s.mem.load(CODE + 1, new Uint8Array([5]));
    s.cpu.run(1);
    expect(s.cpu.lo[RAX]).toBe(5);
  });

  it("a change to the second-page bytes of a page-crossing instruction is seen", () => {
    const s = machine();
    const pa1 = mapPage(s, T, { write: true, exec: true });
    const pa2 = mapPage(s, T + 0x1000, { write: true, exec: true });
    const code = assemble("mov eax, 0x01010101");
    s.mem.load(pa1 + 0xffd, code.subarray(0, 3));
    s.mem.load(pa2, code.subarray(3));
    s.mem.load(pa2 + 2, new Uint8Array([0xeb, 0xf9])); // jmp back to T+0xffd
    s.cpu.rip = T + 0xffd;
    s.cpu.run(2);
    expect([s.cpu.lo[RAX], s.cpu.rip]).toEqual([0x01010101, T + 0xffd]);
    s.cpu.writeMem(T + 0x1000, 1, 0x22, 0);
    s.cpu.run(1);
    expect(s.cpu.lo[RAX]).toBe(0x01220101);
  });
});

// ------------------------------------------------------------------ through the system instructions

describe("paging through the system instructions", () => {
  it.runIf(has("invlpg"))("INVLPG m drops the cached translation of that page", () => {
    const lines = [`mov rbx, ${T}`, "mov eax, [rbx]", "mov edx, [rbx]", "invlpg [rbx + 0x800]", "mov ecx, [rbx]"];
    const s = machine(lines.join("\n"));
    const pa1 = mapPage(s, T);
    const pa2 = s.allocPage();
    s.mem.write32(pa1, 0x1111);
    s.mem.write32(pa2, 0x2222);
    s.cpu.run(2);
    setFrame(s, entryPa(s, T, PTE), pa2);
    s.cpu.run(3);
    expect(stopped(s).vector).toBe(-1);
    expect([s.cpu.lo[RAX], s.cpu.lo[RDX], s.cpu.lo[RCX]]).toEqual([0x1111, 0x1111, 0x2222]);
  });

  it.runIf(has("movToCr"))("MOV to CR3 drops non-global translations and keeps global ones", () => {
    const lines = [`mov rbx, ${T}`, "mov eax, [rbx]", "mov edx, [rbx + 0x1000]", "mov rsi, cr3", "mov cr3, rsi", "mov ecx, [rbx]", "mov edi, [rbx + 0x1000]"];
    const s = machine(lines.join("\n"));
    setControl(s, { cr4: s.cpu.cr4 | CR4_PGE });
    const g = mapPage(s, T, { write: true, global: true });
    const n = mapPage(s, T + 0x1000, { write: true });
    const spare = s.allocPage();
    s.mem.write32(g, 0x1111);
    s.mem.write32(n, 0x2222);
    s.mem.write32(spare, 0x3333);
    s.cpu.run(3);
    setFrame(s, entryPa(s, T, PTE), spare);
    setFrame(s, entryPa(s, T + 0x1000, PTE), spare);
    s.cpu.run(4);
    expect(stopped(s).vector).toBe(-1);
    expect([s.cpu.lo[RAX], s.cpu.lo[RDX], s.cpu.lo[RCX], s.cpu.lo[7]]).toEqual([0x1111, 0x2222, 0x1111, 0x3333]);
  });

  it.runIf(has("movToCr"))("MOV to CR0 setting WP takes effect for a translation cached while WP was 0", () => {
    const lines = [
      `mov rbx, ${T}`, "mov rax, cr0", "and rax, -65537", "mov cr0, rax",
      "mov dword ptr [rbx], 1", "or rax, 0x10000", "mov cr0, rax", "mov dword ptr [rbx], 2",
    ];
    const s = machine(lines.join("\n"));
    const pa = mapPage(s, T, {});
    s.cpu.run(8);
    expect(stopped(s)).toEqual({ vector: PF_VEC, code: PFE_P | PFE_W, rip: insnAt(lines, 7) });
    expect(s.mem.read32(pa)).toBe(1);
  });

  it.runIf(has("movToCr"))("MOV to CR4 setting SMAP takes effect for a translation cached before", () => {
    const lines = [`mov rbx, ${T}`, "mov eax, [rbx]", "mov rax, cr4", "or rax, 0x200000", "mov cr4, rax", "mov ecx, [rbx]"];
    const s = machine(lines.join("\n"));
    mapPage(s, T, USER_RWX);
    s.cpu.run(6);
    expect(stopped(s)).toEqual({ vector: PF_VEC, code: PFE_P, rip: insnAt(lines, 5) });
  });

  it.runIf(has("movToCr"))("MOV to CR4 setting SMEP takes effect for the code page being executed", () => {
    const s = machine();
    const pa = mapPage(s, T, USER_RWX);
    s.mem.load(pa, assemble("mov rax, cr4\nor rax, 0x100000\nmov cr4, rax\nnop"));
    s.cpu.rip = T;
    s.cpu.run(4);
    expect(stopped(s)).toEqual({ vector: PF_VEC, code: PFE_P | PFE_I, rip: T + assemble("mov rax, cr4\nor rax, 0x100000\nmov cr4, rax").length });
  });

  it.runIf(has("clacStac"))("STAC/CLAC: SMAP follows RFLAGS.AC from one instruction to the next", () => {
    const lines = [`mov rbx, ${T}`, "stac", "mov eax, [rbx]", "clac", "mov ecx, [rbx]"];
    const s = machine(lines.join("\n"));
    const pa = mapPage(s, T, USER_RWX);
    s.mem.write32(pa, 0x4242);
    setControl(s, { cr4: s.cpu.cr4 | CR4_SMAP });
    s.cpu.run(5);
    expect(s.cpu.lo[RAX]).toBe(0x4242);
    expect(stopped(s)).toEqual({ vector: PF_VEC, code: PFE_P, rip: insnAt(lines, 4) });
  });

  it.runIf(has("iret"))("IRET to CPL 3 re-checks the code page: a supervisor page faults with P|U|I", () => {
    const lines = ["mov rax, rsp", "push 0x1b", "push rax", "pushfq", "push 0x23", "lea rcx, [rip + user]", "push rcx", "iretq", "user: nop"];
    const s = machine(lines.join("\n")); // the code page is supervisor-only
    s.cpu.run(9);
    const user = CODE + assemble(lines.join("\n")).length - 1; // the final nop
    expect(stopped(s)).toEqual({ vector: PF_VEC, code: PFE_P | PFE_U | PFE_I, rip: user });
    expect(s.cpu.cr2).toBe(user);
  });
});

