// Disassembler: Insn -> Intel-syntax text, from the same table entry the decoder used,
// close to `objdump -d -M intel` so traces and test reports read naturally.

import { decode, Insn, NO_REG, REG_RIP, letterSize } from "./decoder.ts";

const R64 = ["rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15"];
const R32 = ["eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi", "r8d", "r9d", "r10d", "r11d", "r12d", "r13d", "r14d", "r15d"];
const R16 = ["ax", "cx", "dx", "bx", "sp", "bp", "si", "di", "r8w", "r9w", "r10w", "r11w", "r12w", "r13w", "r14w", "r15w"];
const R8 = ["al", "cl", "dl", "bl", "spl", "bpl", "sil", "dil", "r8b", "r9b", "r10b", "r11b", "r12b", "r13b", "r14b", "r15b", "ah", "ch", "dh", "bh"];
const SEG = ["es", "cs", "ss", "ds", "fs", "gs"];
const PTR: Record<number, string> = { 1: "BYTE", 2: "WORD", 4: "DWORD", 8: "QWORD", 10: "TBYTE", 16: "XMMWORD" };

export function regName(size: number, r: number): string {
  return (size === 1 ? R8 : size === 2 ? R16 : size === 4 ? R32 : R64)[r] ?? `r?${r}`;
}

function hex(n: number): string {
  return "0x" + n.toString(16);
}

/** A signed 64-bit value given as halves, as objdump prints immediates (two's complement hex). */
function hex64(lo: number, hi: number, size: number): string {
  if (size < 8 || hi === 0) {
    const bits = Math.min(size, 4) * 8;
    const v = bits === 32 ? lo >>> 0 : lo & ((1 << bits) - 1);
    return hex(v);
  }
  return "0x" + (hi >>> 0).toString(16) + (lo >>> 0).toString(16).padStart(8, "0");
}

function sizeOf(letter: string, i: Insn): number {
  return letterSize(letter, i.opsize, i.rexW);
}

function memory(i: Insn, size: number | null, address: number): string {
  const parts: string[] = [];
  const ar = i.addrsize === 4 ? R32 : R64;
  if (i.base === REG_RIP) parts.push("rip");
  else if (i.base !== NO_REG) parts.push(ar[i.base]);
  if (i.index !== NO_REG) parts.push(`${ar[i.index]}*${i.scale}`);
  let text = parts.join("+");
  if (i.disp !== 0 || parts.length === 0) {
    if (parts.length === 0) text = hex(i.disp >>> 0);
    else text += i.disp < 0 ? `-${hex(-i.disp)}` : `+${hex(i.disp)}`;
  }
  const seg = i.seg >= 0 ? `${SEG[i.seg]}:` : "";
  const ptr = size ? `${PTR[size] ?? ""} PTR ` : "";
  let s = `${ptr}${seg}[${text}]`;
  if (i.base === REG_RIP) s += `        # ${hex(address + i.len + i.disp)}`;
  return s;
}

function operand(spec: string, i: Insn, address: number): string {
  const kind = spec[0];
  const letter = spec.slice(1);
  switch (spec) {
    case "CL": return "cl";
    case "DX": return "dx";
    case "1": return "1";
    case "fs": case "gs": return spec;
  }
  const size = sizeOf(letter, i);
  switch (kind) {
    case "E": case "R":
      return i.rm !== NO_REG ? regName(size, i.rm) : memory(i, size, address);
    case "M":
      return memory(i, letter ? size : null, address);
    case "G": return regName(size, i.reg);
    case "Z": return regName(size, i.reg);
    case "A": return regName(size, 0);
    case "S": return SEG[i.reg] ?? "?";
    case "C": return `cr${i.reg}`;
    case "D": return `db${i.reg}`;
    case "I": return hex64(i.immLo, i.immHi, letter === "b" ? 1 : letter === "w" ? 2 : size);
    case "J": return hex(address + i.len + i.immLo);
    case "O": return `${PTR[size]} PTR ${i.seg >= 0 ? SEG[i.seg] : "ds"}:${hex64(i.immLo, i.immHi, 8)}`;
    case "X": return `${PTR[size]} PTR ${i.seg >= 0 ? SEG[i.seg] : "ds"}:[${i.addrsize === 4 ? "esi" : "rsi"}]`;
    case "Y": return `${PTR[size]} PTR es:[${i.addrsize === 4 ? "edi" : "rdi"}]`;
    default: return spec;
  }
}

const SIZE_SUFFIX: Record<number, string> = { 1: "b", 2: "w", 4: "d", 8: "q" };

function mnemonic(i: Insn): string {
  const e = i.entry!;
  let m = e.mnemonic;
  switch (m) {
    case "cwde": m = ["", "", "cbw", "", "cwde", "", "", "", "cdqe"][i.opsize]; break;
    case "cdq": m = ["", "", "cwd", "", "cdq", "", "", "", "cqo"][i.opsize]; break;
    case "iret": m = i.rexW ? "iretq" : "iretd"; break;
    case "xchg": if (e.opcode === "90+" && i.reg === 0) return "nop"; break;
    case "cmpxchg8b": if (i.rexW) m = "cmpxchg16b"; break;
    case "movs": case "cmps": case "stos": case "lods": case "scas": case "ins": case "outs":
      m += SIZE_SUFFIX[e.exec === "ins" || e.exec === "outs" ? (i.opsize === 2 ? 2 : 4) : i.opsize];
      break;
  }
  if (e.rep && i.rep) {
    const conditional = e.exec === "cmps" || e.exec === "scas";
    m = (i.rep === 0xf3 ? (conditional ? "repz " : "rep ") : "repnz ") + m;
  }
  if (i.lock) m = "lock " + m;
  return m;
}

/** Intel-syntax text of a decoded instruction at `address` (for relative targets). */
export function formatInsn(i: Insn, address = 0): string {
  if (!i.entry) return "(bad)";
  const e = i.entry;
  // String instructions print their implicit operands the way objdump does.
  const ops = e.operands === "" ? [] : e.operands.split(",");
  const m = mnemonic(i);
  if (ops.length === 0 || m === "nop" && e.exec === "xchgZA") return m;
  return `${m} ${ops.map((s) => operand(s, i, address)).join(",")}`;
}

export interface DisassembledLine {
  address: number;
  bytes: Uint8Array;
  text: string;
  length: number;
}

/** Disassembles a buffer of code as if loaded at `address`. */
export function disassemble(code: Uint8Array, address = 0, count = Infinity): DisassembledLine[] {
  const out: DisassembledLine[] = [];
  let off = 0;
  while (off < code.length && out.length < count) {
    let ins: Insn;
    try {
      ins = decode(code, off, Math.min(code.length, off + 15));
    } catch {
      ins = new Insn(() => {});
      ins.len = code.length - off;
    }
    const len = Math.max(1, ins.len);
    out.push({ address: address + off, bytes: code.subarray(off, off + len), text: formatInsn(ins, address + off), length: len });
    off += len;
  }
  return out;
}
