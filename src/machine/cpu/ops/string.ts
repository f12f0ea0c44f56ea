// String instructions: MOVS, CMPS, STOS, LODS, SCAS, INS, OUTS, with REP/REPE/REPNE.
//
// The source is [seg:RSI] (DS, or an FS/GS override), the destination [ES:RDI] (never
// overridden; ES has base 0 in 64-bit mode). With a 67h prefix ESI/EDI/ECX are used and
// written back zero-extended. DF selects the direction.
//
// A repeated instruction runs its iterations one at a time as far as the architecture is
// concerned: RSI/RDI/RCX always describe the completed iterations, so a fault in the
// middle leaves them consistent with RIP still on the instruction, and it restarts where
// it stopped (REPE/REPNE CMPS/SCAS then keep the flags they started with, as on Intel). One execution does at most MAX_ITERATIONS iterations (MAX_FAST_BYTES for
// the bulk paths) and then leaves RIP on the instruction, so the run loop can take
// interrupts in between, as hardware does.
//
// Bulk paths: REP MOVS and REP STOS with DF=0 move whole runs that stay within one page
// of source and destination with copyWithin/fill, after translating both pages (so a
// fault happens before the run, exactly where the element-by-element loop would raise
// it) and dropping decoded code on the destination page. Overlapping runs whose
// destination lies just above the source (byte-replicating copies), MMIO and elements
// that straddle a page take the element-by-element path.

import type { Cpu } from "../cpu.ts";
import { RAX, RCX, RDX, RSI, RDI } from "../arch.ts";
import type { Insn } from "../decoder.ts";
import { CMP } from "../decode-table.ts";
import { aluOp } from "./alu.ts";
import { checkIoPermission } from "./io.ts";
import type { Handler } from "./index.ts";
import { interceptIo } from "../../vmx/intercepts.ts";

const TWO32 = 4294967296;
/** paging.ts's ACC_READ/ACC_WRITE (not imported: paging.ts needs cpu.ts initialised first). */
const ACC_READ = 1, ACC_WRITE = 2;
const MAX_ITERATIONS = 4096;
const MAX_FAST_BYTES = 65536;

/** A string register (RSI/RDI) as a linear address, per the address size. */
function regAddr(c: Cpu, r: number, a32: boolean): number {
  return a32 ? c.lo[r] >>> 0 : c.hi[r] * TWO32 + (c.lo[r] >>> 0);
}

/** The source address [seg:RSI]: an FS/GS override adds its base (64-bit wraparound). */
function srcAddr(c: Cpu, i: Insn, a32: boolean): number {
  const la = regAddr(c, RSI, a32);
  if (i.seg < 0) return la;
  let v = la + c.segBase[i.seg];
  if (v >= 9223372036854775808) v -= 18446744073709551616;
  else if (v < -9223372036854775808) v += 18446744073709551616;
  return v;
}

/** Adds d (|d| < 2^32) to RSI/RDI, wrapping at the address size. */
function advance(c: Cpu, r: number, d: number, a32: boolean): void {
  const s = (c.lo[r] >>> 0) + d;
  c.lo[r] = s | 0;
  if (a32) c.hi[r] = 0;
  else if (s > 0xffffffff) c.hi[r] = (c.hi[r] + 1) | 0;
  else if (s < 0) c.hi[r] = (c.hi[r] - 1) | 0;
}

function countIsZero(c: Cpu, a32: boolean): boolean {
  return a32 ? c.lo[RCX] === 0 : (c.lo[RCX] | c.hi[RCX]) === 0;
}

/** The count register's value (a double; exact enough to compare with small limits). */
function countValue(c: Cpu, a32: boolean): number {
  return a32 ? c.lo[RCX] >>> 0 : (c.hi[RCX] >>> 0) * TWO32 + (c.lo[RCX] >>> 0);
}

/** Subtracts n (< 2^32, at most the count) from RCX/ECX. */
function decrementCount(c: Cpu, n: number, a32: boolean): void {
  const lo = c.lo[RCX] >>> 0;
  c.lo[RCX] = (lo - n) | 0;
  if (a32) c.hi[RCX] = 0;
  else if (lo < n) c.hi[RCX] = (c.hi[RCX] - 1) | 0;
}

/** Drops decoded instructions of the physical page of `pa` before its bytes are written directly. */
function touchCode(c: Cpu, pa: number): void {
  const mem = c.mem;
  if (mem.codePage[pa >>> 12] !== 0) mem.write8(pa, mem.bytes[pa]);
}

// ---------------------------------------------------------------- single iterations
// Each reads and writes memory first and only then updates the registers, so a fault
// leaves the iteration undone.

function movsOnce(c: Cpu, i: Insn, size: number, a32: boolean): void {
  const v = c.readMem(srcAddr(c, i, a32), size);
  c.writeMem(regAddr(c, RDI, a32), size, v, c.h);
  const d = c.df ? -size : size;
  advance(c, RSI, d, a32);
  advance(c, RDI, d, a32);
}

function cmpsOnce(c: Cpu, i: Insn, size: number, a32: boolean): void {
  const a = c.readMem(srcAddr(c, i, a32), size);
  const ah = c.h;
  const b = c.readMem(regAddr(c, RDI, a32), size);
  aluOp(c, CMP, size, a, ah, b, c.h);
  const d = c.df ? -size : size;
  advance(c, RSI, d, a32);
  advance(c, RDI, d, a32);
}

function stosOnce(c: Cpu, size: number, a32: boolean): void {
  const v = c.readReg(size, RAX);
  c.writeMem(regAddr(c, RDI, a32), size, v, c.h);
  advance(c, RDI, c.df ? -size : size, a32);
}

function lodsOnce(c: Cpu, i: Insn, size: number, a32: boolean): void {
  const v = c.readMem(srcAddr(c, i, a32), size);
  c.writeReg(size, RAX, v, c.h);
  advance(c, RSI, c.df ? -size : size, a32);
}

function scasOnce(c: Cpu, size: number, a32: boolean): void {
  const b = c.readMem(regAddr(c, RDI, a32), size);
  const bh = c.h;
  const a = c.readReg(size, RAX);
  aluOp(c, CMP, size, a, c.h, b, bh);
  advance(c, RDI, c.df ? -size : size, a32);
}

function insOnce(c: Cpu, size: number, a32: boolean): void {
  const la = regAddr(c, RDI, a32);
  c.checkWrite(la, size); // fault before the port is read, so no input is lost
  const v = c.ports.in(c.lo[RDX] & 0xffff, size);
  c.writeMem(la, size, v | 0, 0);
  advance(c, RDI, c.df ? -size : size, a32);
}

function outsOnce(c: Cpu, i: Insn, size: number, a32: boolean): void {
  const v = c.readMem(srcAddr(c, i, a32), size);
  c.ports.out(c.lo[RDX] & 0xffff, size, size === 4 ? v >>> 0 : v);
  advance(c, RSI, c.df ? -size : size, a32);
}

const K_MOVS = 0, K_CMPS = 1, K_STOS = 2, K_LODS = 3, K_SCAS = 4, K_INS = 5, K_OUTS = 6;

function once(c: Cpu, i: Insn, kind: number, size: number, a32: boolean): void {
  switch (kind) {
    case K_MOVS: movsOnce(c, i, size, a32); return;
    case K_CMPS: cmpsOnce(c, i, size, a32); return;
    case K_STOS: stosOnce(c, size, a32); return;
    case K_LODS: lodsOnce(c, i, size, a32); return;
    case K_SCAS: scasOnce(c, size, a32); return;
    case K_INS: insOnce(c, size, a32); return;
    default: outsOnce(c, i, size, a32);
  }
}

/**
 * Up to `limit` iterations one at a time. Returns the number done; stops early (and
 * returns -1) when the count runs out or a REPE/REPNE condition ends the instruction.
 * CMPS/SCAS decide on equality directly and record the flags of the last comparison
 * once, when this execution ends. A fault in the middle leaves the flags as they were
 * when this execution began (RSI/RDI/RCX do show the completed iterations), which is
 * what Intel processors do.
 */
function iterate(c: Cpu, i: Insn, kind: number, size: number, a32: boolean, limit: number): number {
  const d = c.df ? -size : size;
  if (kind === K_CMPS || kind === K_SCAS) {
    const repe = i.rep === 0xf3;
    let a = 0, ah = 0, b = 0, bh = 0, compared = false;
    let result = limit;
    for (let n = 0; n < limit; n++) {
      let x: number, xh: number;
      if (kind === K_CMPS) {
        x = c.readMem(srcAddr(c, i, a32), size);
        xh = c.h;
      } else {
        x = c.readReg(size, RAX);
        xh = c.h;
      }
      const y = c.readMem(regAddr(c, RDI, a32), size);
      const yh = c.h;
      a = x; ah = xh; b = y; bh = yh;
      compared = true;
      if (kind === K_CMPS) advance(c, RSI, d, a32);
      advance(c, RDI, d, a32);
      decrementCount(c, 1, a32);
      if (countIsZero(c, a32) || (x === y && xh === yh) !== repe) {
        result = -1;
        break;
      }
    }
    if (compared) aluOp(c, CMP, size, a, ah, b, bh);
    return result;
  }
  for (let n = 0; n < limit; n++) {
    switch (kind) {
      case K_MOVS: {
        const v = c.readMem(srcAddr(c, i, a32), size);
        c.writeMem(regAddr(c, RDI, a32), size, v, c.h);
        advance(c, RSI, d, a32);
        advance(c, RDI, d, a32);
        break;
      }
      case K_STOS: {
        const v = c.readReg(size, RAX);
        c.writeMem(regAddr(c, RDI, a32), size, v, c.h);
        advance(c, RDI, d, a32);
        break;
      }
      default:
        once(c, i, kind, size, a32);
    }
    decrementCount(c, 1, a32);
    if (countIsZero(c, a32)) return -1;
  }
  return limit;
}

/** REP MOVS with DF=0: page-sized runs copied directly where that is exact. */
function movsFast(c: Cpu, i: Insn, size: number, a32: boolean): void {
  const mem = c.mem;
  let budget = MAX_FAST_BYTES;
  for (;;) {
    const count = countValue(c, a32);
    const sla = srcAddr(c, i, a32), dla = regAddr(c, RDI, a32);
    const room = Math.min(4096 - (sla & 0xfff), 4096 - (dla & 0xfff), budget);
    const elems = Math.min(count, Math.floor(room / size));
    if (elems === 0) {
      if (room < size && budget >= size) {
        // An element straddles a page boundary.
        if (iterate(c, i, K_MOVS, size, a32, 1) < 0) return;
        budget -= size;
        continue;
      }
      break;
    }
    const len = elems * size;
    const spa = c.translate(sla, ACC_READ);
    const dpa = c.translate(dla, ACC_WRITE);
    if (!mem.isRam(spa, len) || !mem.isRam(dpa, len) || (dpa > spa && dpa < spa + len)) {
      if (iterate(c, i, K_MOVS, size, a32, elems) < 0) return;
    } else {
      touchCode(c, dpa);
      mem.bytes.copyWithin(dpa, spa, spa + len);
      advance(c, RSI, len, a32);
      advance(c, RDI, len, a32);
      decrementCount(c, elems, a32);
      if (countIsZero(c, a32)) return;
    }
    budget -= len;
  }
  c.nextRip = c.rip;
}

/** REP STOS with DF=0: page-sized runs filled directly. */
function stosFast(c: Cpu, size: number, a32: boolean, i: Insn): void {
  const mem = c.mem;
  const v = c.readReg(size, RAX);
  const vh = c.h;
  const b = v & 0xff;
  const uniform =
    size === 1 ||
    (size === 2 && v === b * 0x101) ||
    (size >= 4 && v === ((b * 0x01010101) | 0) && (size === 4 || vh === v));
  let budget = MAX_FAST_BYTES;
  for (;;) {
    const count = countValue(c, a32);
    const dla = regAddr(c, RDI, a32);
    const room = Math.min(4096 - (dla & 0xfff), budget);
    const elems = Math.min(count, Math.floor(room / size));
    if (elems === 0) {
      if (room < size && budget >= size) {
        if (iterate(c, i, K_STOS, size, a32, 1) < 0) return;
        budget -= size;
        continue;
      }
      break;
    }
    const len = elems * size;
    const dpa = c.translate(dla, ACC_WRITE);
    if (!mem.isRam(dpa, len)) {
      if (iterate(c, i, K_STOS, size, a32, elems) < 0) return;
    } else {
      touchCode(c, dpa);
      if (uniform) mem.bytes.fill(b, dpa, dpa + len);
      else {
        const view = mem.view;
        for (let p = dpa; p < dpa + len; p += size) {
          if (size === 2) view.setUint16(p, v, true);
          else {
            view.setInt32(p, v, true);
            if (size === 8) view.setInt32(p + 4, vh, true);
          }
        }
      }
      advance(c, RDI, len, a32);
      decrementCount(c, elems, a32);
      if (countIsZero(c, a32)) return;
    }
    budget -= len;
  }
  c.nextRip = c.rip;
}

function stringOp(c: Cpu, i: Insn, kind: number): void {
  const size = i.sub === 1 ? 1 : i.opsize;
  const a32 = i.addrsize === 4;
  // I/O permission (CPL <= IOPL, else the TSS bitmap), checked once: DX does not change.
  if (kind >= K_INS) {
    checkIoPermission(c, c.lo[RDX] & 0xffff, size);
    if (c.vmx?.nonRoot) interceptIo(c, i, c.lo[RDX] & 0xffff, size, kind === K_INS, true); // VMX: I/O exiting
  }
  if (i.rep === 0) {
    once(c, i, kind, size, a32);
    return;
  }
  if (a32) {
    // With a 67h prefix, Intel processors write ECX back zero-extended at the start of a
    // REP (even when it is 0 or the first element faults), and for MOVS/STOS also the
    // pointers they advance; LODS/CMPS/SCAS update ESI/EDI only per iteration.
    c.hi[RCX] = 0;
    if (kind === K_MOVS) c.hi[RSI] = c.hi[RDI] = 0;
    else if (kind === K_STOS) c.hi[RDI] = 0;
  }
  if (countIsZero(c, a32)) return;
  if (!c.df) {
    if (kind === K_MOVS) return movsFast(c, i, size, a32);
    if (kind === K_STOS) return stosFast(c, size, a32, i);
  }
  if (iterate(c, i, kind, size, a32, MAX_ITERATIONS) >= 0) c.nextRip = c.rip;
}

const movs: Handler = (c, i) => stringOp(c, i, K_MOVS);
const cmps: Handler = (c, i) => stringOp(c, i, K_CMPS);
const stos: Handler = (c, i) => stringOp(c, i, K_STOS);
const lods: Handler = (c, i) => stringOp(c, i, K_LODS);
const scas: Handler = (c, i) => stringOp(c, i, K_SCAS);
const ins: Handler = (c, i) => stringOp(c, i, K_INS);
const outs: Handler = (c, i) => stringOp(c, i, K_OUTS);

export const string: Record<string, Handler> = { movs, cmps, stos, lods, scas, ins, outs };
