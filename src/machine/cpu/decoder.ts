// Decoder: bytes -> Insn, driven by DECODE_TABLE.
//
// The table is compiled once into 3 x 256 slots (one-byte map, 0F map, 0F 38 map); each
// slot holds the candidate entries sorted most specific first (mandatory prefix, then an
// exact ModRM byte, then a ModRM.reg digit). Decoding reads prefixes, REX, the opcode,
// ModRM/SIB/displacement and immediates, and produces an Insn whose `exec` is the
// handler. Anything the table does not know decodes to an Insn that raises #UD when
// executed, so an invalid encoding is a guest event at its own RIP.

import { DECODE_TABLE, type TableEntry } from "./decode-table.ts";
import { HANDLERS, type Handler } from "./ops/index.ts";
import { costOf } from "../cost.ts";

export const REG_RIP = 16;
export const NO_REG = -1;
/** Byte registers AH, CH, DH, BH are numbered 16-19 (only reachable without REX). */
export const AH = 16;

export class Insn {
  exec: Handler;
  entry: TableEntry | null = null;
  len = 0;
  opsize = 4;
  addrsize = 8;
  /** ModRM.reg (or the Z register of +r opcodes), with REX.R/B applied and byte mapping. */
  reg = 0;
  /** Register operand of ModRM r/m; NO_REG when r/m is memory. */
  rm = NO_REG;
  base = NO_REG;
  index = NO_REG;
  scale = 1;
  disp = 0;
  /** Segment override: 4 (FS), 5 (GS), or -1. */
  seg = -1;
  immLo = 0;
  immHi = 0;
  imm2 = 0;
  rep = 0;
  lock = false;
  rexW = false;
  sub = 0;
  /** Modeled cycles of this instruction's class (machine/cost.ts). */
  cost = 1;

  constructor(exec: Handler) {
    this.exec = exec;
  }
}

interface Candidate {
  entry: TableEntry;
  exec: Handler;
  prefix: number; // 0, 0x66, 0xF2, 0xF3
  modrm: number; // exact ModRM byte or -1
  digit: number; // ModRM.reg or -1
  mod: "" | "m" | "r";
  plusReg: boolean;
  needsModrm: boolean;
}

const SLOTS: Candidate[][][] = [0, 1, 2].map(() => Array.from({ length: 256 }, () => []));

function missing(name: string): Handler {
  return (cpu) => cpu.undefinedOpcode(`handler '${name}' is not implemented`);
}

function specificity(c: Candidate): number {
  return (c.prefix ? 4 : 0) + (c.modrm >= 0 ? 2 : 0) + (c.digit >= 0 ? 1 : 0);
}

function compile(): void {
  for (const entry of DECODE_TABLE) {
    const parts: string[] = entry.opcode.split(" ");
    let prefix = 0;
    if (parts[0] === "66" || parts[0] === "F2" || parts[0] === "F3") {
      if (parts.length > 1 && !parts[1].startsWith("/")) prefix = parseInt(parts.shift()!, 16);
    }
    let map = 0;
    if (parts[0] === "0F") {
      parts.shift();
      map = 1;
      if ((parts[0] as string) === "38") {
        parts.shift();
        map = 2;
      }
    }
    const opText = parts.shift()!;
    const plusReg = opText.endsWith("+");
    const opcode = parseInt(opText, 16);
    let modrm = -1, digit = -1;
    let mod: Candidate["mod"] = "";
    const rest = parts.shift();
    if (rest?.startsWith("/")) {
      digit = parseInt(rest[1], 10);
      mod = (rest[2] ?? "") as Candidate["mod"];
    } else if (rest) modrm = parseInt(rest, 16);
    // ModRM operands: E G M R S, and C/D (control/debug registers: "Cq", "Dq"; not CL or DX).
    const needsModrm = modrm >= 0 || digit >= 0 || /(^|,)([EGMRS]|[CD][a-z])/.test(entry.operands);
    // An M operand is memory-only (LEA r, r is #UD) even without a "/dm" opcode suffix.
    if (mod === "" && /(^|,)M/.test(entry.operands)) mod = "m";
    const handler = HANDLERS[entry.exec] ?? missing(entry.exec);
    const exec: Handler = entry.priv
      ? (cpu, i) => {
          cpu.requirePrivilege();
          handler(cpu, i);
        }
      : handler;
    const cand: Candidate = { entry, exec, prefix, modrm, digit, mod, plusReg, needsModrm };
    for (let r = 0; r < (plusReg ? 8 : 1); r++) SLOTS[map][opcode + r].push(cand);
  }
  for (const map of SLOTS) for (const slot of map) slot.sort((a, b) => specificity(b) - specificity(a));
}
compile();

/** Thrown when the bytes given end before the instruction does. */
export class NeedMoreBytes {}
const NEED_MORE = new NeedMoreBytes();

const undefinedOpcode: Handler = (cpu) => cpu.undefinedOpcode();
const tooLong: Handler = (cpu) => cpu.generalProtection(0);

/** The size letter of an operand spec such as "Ev" or "Ab" (or "" if none). */
export function sizeLetter(spec: string): string {
  const m = /^[A-Z]([bwdqvzy])$/.exec(spec);
  return m ? m[1] : "";
}

/** Bytes of an operand with size letter `letter`, given the instruction's operand size. */
export function letterSize(letter: string, opsize: number, rexW: boolean): number {
  switch (letter) {
    case "b": return 1;
    case "w": return 2;
    case "d": return 4;
    case "q": return 8;
    case "y": return rexW ? 8 : 4;
    case "z": return opsize === 2 ? 2 : 4;
    default: return opsize;
  }
}

/**
 * The operand size of an entry under REX.W and a 66 prefix (SDM Vol. 1 3.6.1): that of
 * its first sized register or memory operand; 'd64' defaults to 64 bits, 'f64' forces it.
 */
export function operandSize(entry: TableEntry, rexW: boolean, o16: boolean): number {
  if (entry.size === "f64") return 8;
  if (entry.size === "d64") return o16 && !rexW ? 2 : 8; // REX.W wins over 66
  const sized = entry.operands.split(",").find((spec) => /^[EGZAMRXYO]/.test(spec) && sizeLetter(spec));
  const letter = sized ? sizeLetter(sized) : "v";
  const v = rexW ? 8 : o16 ? 2 : 4;
  return letter === "v" ? v : letter === "z" ? (o16 ? 2 : 4) : letterSize(letter, v, rexW);
}

/**
 * Decodes one instruction from buf[start..end). Throws NeedMoreBytes when the
 * instruction continues past `end`; a caller that already gave 15 bytes has an
 * instruction longer than the architectural limit (#GP).
 */
export function decode(buf: Uint8Array, start: number, end: number): Insn {
  let p = start;
  const next = (): number => {
    if (p >= end) throw NEED_MORE;
    return buf[p++];
  };
  let o16 = false, a32 = false, lock = false, rep = 0, seg = -1, rex = 0;
  let b: number;
  for (;;) {
    if (p - start >= 15) return finishTooLong(p - start);
    b = next();
    if (b === 0x66) o16 = true;
    else if (b === 0x67) a32 = true;
    else if (b === 0xf0) lock = true;
    else if (b === 0xf2 || b === 0xf3) rep = b;
    else if (b === 0x64 || b === 0x65) seg = b - 0x60;
    else if (b === 0x26 || b === 0x2e || b === 0x36 || b === 0x3e) { /* null segments in 64-bit mode */ }
    else if ((b & 0xf0) === 0x40) {
      // REX counts only right before the opcode: a later prefix (legacy or another REX)
      // makes the CPU ignore it (SDM vol. 2A, 2.2.1).
      rex = b;
      continue;
    } else break;
    rex = 0;
  }
  let map = 0;
  if (b === 0x0f) {
    b = next();
    map = 1;
    if (b === 0x38) {
      b = next();
      map = 2;
    }
  }
  const slot = SLOTS[map][b];
  if (slot.length === 0) return invalid(p - start);
  const opcodeByte = b;
  const needsModrm = slot[0].needsModrm;
  const modrm = needsModrm ? next() : -1;
  const mod = modrm >> 6, digit = (modrm >> 3) & 7;

  let cand: Candidate | undefined;
  for (const c of slot) {
    if (c.prefix !== 0 && !(c.prefix === rep || (c.prefix === 0x66 && o16))) continue;
    if (c.modrm >= 0 && c.modrm !== modrm) continue;
    if (c.digit >= 0 && c.digit !== digit) continue;
    if (c.mod === "m" && mod === 3) continue;
    if (c.mod === "r" && mod !== 3) continue;
    cand = c;
    break;
  }
  if (!cand) return invalid(p - start);
  const entry = cand.entry;
  if (cand.prefix === 0x66) o16 = false;
  else if (cand.prefix !== 0) rep = 0;
  // LOCK on an instruction that does not allow it is #UD, but only once the instruction
  // is known to fit 15 bytes: the length limit (#GP) is checked first.
  const badLock = lock && !(entry.lock && mod !== 3);

  const i = new Insn(cand.exec);
  i.entry = entry;
  i.sub = entry.sub ?? 0;
  i.rexW = (rex & 8) !== 0;
  i.opsize = operandSize(entry, i.rexW, o16);
  i.addrsize = a32 ? 4 : 8;
  i.lock = lock;
  i.rep = entry.rep ? rep : 0;
  i.seg = seg;
  i.cost = costOf(lock && !badLock ? "locked" : entry.cls); // a LOCKed read-modify-write costs like XCHG with memory
  const rexR = (rex & 4) << 1, rexX = (rex & 2) << 2, rexB = (rex & 1) << 3;
  const ops = entry.operands === "" ? [] : entry.operands.split(",");
  const byteReg = (r: number) => (rex === 0 && r >= 4 && r < 8 ? r + 12 : r);

  if (cand.plusReg) {
    i.reg = (opcodeByte & 7) | rexB;
    if (sizeLetter(ops[0]) === "b") i.reg = byteReg(i.reg);
  }
  if (needsModrm) {
    i.reg = digit | rexR;
    // MOV to/from CR and DR ignore ModRM.mod: r/m always names a register (SDM).
    if (mod === 3 || (cand.mod === "" && /(^|,)[CD]q/.test(entry.operands))) {
      i.rm = (modrm & 7) | rexB;
    } else {
      const rm = modrm & 7;
      if (rm === 4) {
        const sib = next();
        i.scale = 1 << (sib >> 6);
        const idx = ((sib >> 3) & 7) | rexX;
        i.index = idx === 4 ? NO_REG : idx;
        const base = sib & 7;
        if (base === 5 && mod === 0) {
          i.base = NO_REG;
          i.disp = read32(next);
        } else i.base = base | rexB;
      } else if (rm === 5 && mod === 0) {
        i.base = REG_RIP;
        i.disp = read32(next);
      } else i.base = rm | rexB;
      if (mod === 1) i.disp = (next() << 24) >> 24;
      else if (mod === 2) i.disp = read32(next);
    }
    // Byte-sized E and G operands see AH..BH when there is no REX prefix.
    for (const spec of ops) {
      if (sizeLetter(spec) !== "b") continue;
      if (spec[0] === "G") i.reg = byteReg(i.reg);
      else if (spec[0] === "E" && i.rm !== NO_REG) i.rm = byteReg(i.rm);
    }
  }

  // Immediates, in operand order.
  let immCount = 0;
  for (const spec of ops) {
    const kind = spec[0];
    if (kind !== "I" && kind !== "J" && kind !== "O") continue;
    const letter = sizeLetter(spec);
    let lo: number, hi: number;
    if (kind === "O") {
      lo = read32(next);
      hi = a32 ? 0 : read32(next);
      if (a32) lo >>>= 0;
    } else if (letter === "b") {
      lo = (next() << 24) >> 24;
      hi = lo >> 31;
    } else if (letter === "w" || ((letter === "z" || letter === "v") && i.opsize === 2)) {
      lo = ((next() | (next() << 8)) << 16) >> 16;
      hi = lo >> 31;
    } else if (letter === "v" && i.opsize === 8) {
      lo = read32(next);
      hi = read32(next);
    } else {
      lo = read32(next);
      hi = lo >> 31;
    }
    if (immCount++ === 0) {
      i.immLo = lo;
      i.immHi = hi;
    } else i.imm2 = lo;
  }
  i.len = p - start;
  if (i.len > 15) return finishTooLong(i.len);
  if (badLock) return invalid(i.len);
  return i;
}

function read32(next: () => number): number {
  return next() | (next() << 8) | (next() << 16) | (next() << 24);
}

function invalid(len: number): Insn {
  const i = new Insn(undefinedOpcode);
  i.len = len;
  return i;
}

function finishTooLong(len: number): Insn {
  const i = new Insn(tooLong);
  i.len = len;
  return i;
}

/** The table entries whose handler name is not in HANDLERS (tests keep this empty). */
export function missingHandlers(): string[] {
  return [...new Set(DECODE_TABLE.filter((e) => !HANDLERS[e.exec]).map((e) => e.exec))];
}
