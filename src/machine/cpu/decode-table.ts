// The one x86-64 decode table. It feeds the decoder (which bytes follow the opcode),
// the disassembler (mnemonic and operand order) and the tests (which forms exist,
// which flags are defined). Only 64-bit-mode encodings are listed; anything absent
// decodes to #UD, which is also what a real CPU does for the opcodes that long mode
// removed (PUSH ES, AAA, BOUND, LES, far CALL with an immediate, ...).
//
// Opcode syntax:  [F3|F2|66] [0F [38]] XX [/d [m|r] | YY]
//   "01"         one-byte opcode
//   "0F AF"      two-byte opcode; "0F 38 80" three-byte
//   "80 /0"      ModRM.reg selects the entry; "/6m" memory form only, "/6r" register form only
//   "0F 01 D4"   an exact ModRM byte (register forms of group opcodes)
//   "F3 0F BC"   a mandatory prefix (then it is not a REP prefix)
//   "50+"        the low three opcode bits name a register (Z operands)
//
// Operand syntax (Intel opcode-map letters):
//   E r/m, G ModRM.reg, M memory-only r/m, R register-only r/m, Z register in opcode,
//   I immediate, J relative branch, O moffs, X [rsi] string source, Y [rdi] string dest,
//   C control register, D debug register, S segment register, A accumulator, 1 constant 1,
//   CL, DX; size letters b=8 w=16 d=32 q=64 v=16/32/64 z=16/32 y=32/64.
//
// Size: the operand size follows the first operand with a size letter; 'd64' makes the
// default 64 (PUSH, POP, LEAVE...), 'f64' forces 64 (near branches).
//
// Flags: `sets` lists the arithmetic flags an instruction writes, `undef` those the SDM
// leaves undefined (the host-CPU tests mask them).

export type OpSize = "d64" | "f64";

export interface TableEntry {
  opcode: string;
  mnemonic: string;
  operands: string;
  /** Name of the handler in ops/index.ts. */
  exec: string;
  /** Sub-operation the handler dispatches on (ALU op, condition code, ...). */
  sub?: number;
  size?: OpSize;
  /** The E operand is written (read-modify-write: translate for write before reading). */
  writesE?: boolean;
  /** LOCK is allowed (only with a memory destination). */
  lock?: boolean;
  /** REP/REPE/REPNE prefixes apply. */
  rep?: boolean;
  /** Only at CPL 0 (else #GP(0)). */
  priv?: boolean;
  sets?: string;
  undef?: string;
  /** Cost class for the cycle clock (machine/cost.ts). */
  cls?: string;
}

// ALU sub-operations, in ModRM.reg order of opcode group 1.
export const ADD = 0, OR = 1, ADC = 2, SBB = 3, AND = 4, SUB = 5, XOR = 6, CMP = 7;
const ALU_NAMES = ["add", "or", "adc", "sbb", "and", "sub", "xor", "cmp"];
// Shift/rotate sub-operations, in ModRM.reg order of opcode group 2 (/6 is an alias of SHL).
export const ROL = 0, ROR = 1, RCL = 2, RCR = 3, SHL = 4, SHR = 5, SAL = 6, SAR = 7;
const SHIFT_NAMES = ["rol", "ror", "rcl", "rcr", "shl", "shr", "sal", "sar"];
// Condition codes in encoding order.
export const CC_NAMES = ["o", "no", "b", "ae", "e", "ne", "be", "a", "s", "ns", "p", "np", "l", "ge", "le", "g"];

const hex = (n: number) => n.toString(16).toUpperCase().padStart(2, "0");
const ALL = "OSZAPC";

function aluRows(): TableEntry[] {
  const rows: TableEntry[] = [];
  ALU_NAMES.forEach((m, op) => {
    const b = op * 8;
    const w = op !== CMP;
    const lock = w;
    const sets = ALL;
    const undef = op === AND || op === OR || op === XOR ? "A" : "";
    rows.push(
      { opcode: hex(b), mnemonic: m, operands: "Eb,Gb", exec: "aluEG", sub: op, writesE: w, lock, sets, undef },
      { opcode: hex(b + 1), mnemonic: m, operands: "Ev,Gv", exec: "aluEG", sub: op, writesE: w, lock, sets, undef },
      { opcode: hex(b + 2), mnemonic: m, operands: "Gb,Eb", exec: "aluGE", sub: op, sets, undef },
      { opcode: hex(b + 3), mnemonic: m, operands: "Gv,Ev", exec: "aluGE", sub: op, sets, undef },
      { opcode: hex(b + 4), mnemonic: m, operands: "Ab,Ib", exec: "aluAI", sub: op, sets, undef },
      { opcode: hex(b + 5), mnemonic: m, operands: "Av,Iz", exec: "aluAI", sub: op, sets, undef },
      { opcode: `80 /${op}`, mnemonic: m, operands: "Eb,Ib", exec: "aluEI", sub: op, writesE: w, lock, sets, undef },
      { opcode: `81 /${op}`, mnemonic: m, operands: "Ev,Iz", exec: "aluEI", sub: op, writesE: w, lock, sets, undef },
      { opcode: `83 /${op}`, mnemonic: m, operands: "Ev,Ib", exec: "aluEI", sub: op, writesE: w, lock, sets, undef },
    );
  });
  return rows;
}

function shiftRows(): TableEntry[] {
  const rows: TableEntry[] = [];
  SHIFT_NAMES.forEach((m, op) => {
    // Rotates write only CF and OF; shifts write all but AF (undefined). OF is defined only
    // for a count of 1; the tests know this from the mnemonic group.
    const rot = op < 4;
    const sets = rot ? "OC" : "OSZAPC";
    const undef = rot ? "" : "A";
    rows.push(
      { opcode: `C0 /${op}`, mnemonic: m, operands: "Eb,Ib", exec: "shift", sub: op, writesE: true, sets, undef, cls: "shift" },
      { opcode: `C1 /${op}`, mnemonic: m, operands: "Ev,Ib", exec: "shift", sub: op, writesE: true, sets, undef, cls: "shift" },
      { opcode: `D0 /${op}`, mnemonic: m, operands: "Eb,1", exec: "shift", sub: op, writesE: true, sets, undef, cls: "shift" },
      { opcode: `D1 /${op}`, mnemonic: m, operands: "Ev,1", exec: "shift", sub: op, writesE: true, sets, undef, cls: "shift" },
      { opcode: `D2 /${op}`, mnemonic: m, operands: "Eb,CL", exec: "shift", sub: op, writesE: true, sets, undef, cls: "shift" },
      { opcode: `D3 /${op}`, mnemonic: m, operands: "Ev,CL", exec: "shift", sub: op, writesE: true, sets, undef, cls: "shift" },
    );
  });
  return rows;
}

function conditionRows(): TableEntry[] {
  const rows: TableEntry[] = [];
  CC_NAMES.forEach((cc, n) => {
    rows.push(
      { opcode: hex(0x70 + n), mnemonic: "j" + cc, operands: "Jb", exec: "jcc", sub: n, size: "f64", cls: "branch" },
      { opcode: `0F ${hex(0x80 + n)}`, mnemonic: "j" + cc, operands: "Jz", exec: "jcc", sub: n, size: "f64", cls: "branch" },
      { opcode: `0F ${hex(0x90 + n)}`, mnemonic: "set" + cc, operands: "Eb", exec: "setcc", sub: n, writesE: true },
      { opcode: `0F ${hex(0x40 + n)}`, mnemonic: "cmov" + cc, operands: "Gv,Ev", exec: "cmovcc", sub: n },
    );
  });
  return rows;
}

function stringRows(): TableEntry[] {
  // sub: 1 = byte form, 0 = operand-size form.
  const s = (op: string, m: string, operands: string, exec: string, byte: boolean, sets?: string): TableEntry => ({
    opcode: op, mnemonic: m, operands, exec, sub: byte ? 1 : 0, rep: true, sets, cls: "string",
  });
  return [
    s("A4", "movsb", "Yb,Xb", "movs", true), s("A5", "movs", "Yv,Xv", "movs", false),
    s("A6", "cmpsb", "Xb,Yb", "cmps", true, ALL), s("A7", "cmps", "Xv,Yv", "cmps", false, ALL),
    s("AA", "stosb", "Yb,Ab", "stos", true), s("AB", "stos", "Yv,Av", "stos", false),
    s("AC", "lodsb", "Ab,Xb", "lods", true), s("AD", "lods", "Av,Xv", "lods", false),
    s("AE", "scasb", "Ab,Yb", "scas", true, ALL), s("AF", "scas", "Av,Yv", "scas", false, ALL),
    { ...s("6C", "insb", "Yb,DX", "ins", true), cls: "io" }, { ...s("6D", "ins", "Yz,DX", "ins", false), cls: "io" },
    { ...s("6E", "outsb", "DX,Xb", "outs", true), cls: "io" }, { ...s("6F", "outs", "DX,Xz", "outs", false), cls: "io" },
  ];
}

const rows: TableEntry[] = [
  ...aluRows(),
  ...shiftRows(),
  ...conditionRows(),
  ...stringRows(),

  // Data movement
  { opcode: "88", mnemonic: "mov", operands: "Eb,Gb", exec: "movEG", writesE: true },
  { opcode: "89", mnemonic: "mov", operands: "Ev,Gv", exec: "movEG", writesE: true },
  { opcode: "8A", mnemonic: "mov", operands: "Gb,Eb", exec: "movGE" },
  { opcode: "8B", mnemonic: "mov", operands: "Gv,Ev", exec: "movGE" },
  { opcode: "8C", mnemonic: "mov", operands: "Ev,Sw", exec: "movFromSeg", writesE: true },
  { opcode: "8E", mnemonic: "mov", operands: "Sw,Ew", exec: "movToSeg" },
  { opcode: "8D", mnemonic: "lea", operands: "Gv,M", exec: "lea" },
  { opcode: "C6 /0", mnemonic: "mov", operands: "Eb,Ib", exec: "movEI", writesE: true },
  { opcode: "C7 /0", mnemonic: "mov", operands: "Ev,Iz", exec: "movEI", writesE: true },
  { opcode: "B0+", mnemonic: "mov", operands: "Zb,Ib", exec: "movZI" },
  { opcode: "B8+", mnemonic: "mov", operands: "Zv,Iv", exec: "movZI" },
  { opcode: "A0", mnemonic: "mov", operands: "Ab,Ob", exec: "movAO" },
  { opcode: "A1", mnemonic: "mov", operands: "Av,Ov", exec: "movAO" },
  { opcode: "A2", mnemonic: "mov", operands: "Ob,Ab", exec: "movOA" },
  { opcode: "A3", mnemonic: "mov", operands: "Ov,Av", exec: "movOA" },
  { opcode: "0F B6", mnemonic: "movzx", operands: "Gv,Eb", exec: "movzx", sub: 1 },
  { opcode: "0F B7", mnemonic: "movzx", operands: "Gv,Ew", exec: "movzx", sub: 2 },
  { opcode: "0F BE", mnemonic: "movsx", operands: "Gv,Eb", exec: "movsx", sub: 1 },
  { opcode: "0F BF", mnemonic: "movsx", operands: "Gv,Ew", exec: "movsx", sub: 2 },
  { opcode: "63", mnemonic: "movsxd", operands: "Gv,Ed", exec: "movsx", sub: 4 },
  { opcode: "86", mnemonic: "xchg", operands: "Eb,Gb", exec: "xchgEG", writesE: true, lock: true, cls: "locked" },
  { opcode: "87", mnemonic: "xchg", operands: "Ev,Gv", exec: "xchgEG", writesE: true, lock: true, cls: "locked" },
  // 90 is XCHG with register 0: a NOP unless REX.B makes it R8 (the handler knows).
  { opcode: "90+", mnemonic: "xchg", operands: "Zv,Av", exec: "xchgZA" },
  { opcode: "0F B0", mnemonic: "cmpxchg", operands: "Eb,Gb", exec: "cmpxchg", writesE: true, lock: true, sets: ALL },
  { opcode: "0F B1", mnemonic: "cmpxchg", operands: "Ev,Gv", exec: "cmpxchg", writesE: true, lock: true, sets: ALL },
  { opcode: "0F C7 /1m", mnemonic: "cmpxchg8b", operands: "Mq", exec: "cmpxchg8b", writesE: true, lock: true, sets: "Z" },
  { opcode: "0F C0", mnemonic: "xadd", operands: "Eb,Gb", exec: "xadd", writesE: true, lock: true, sets: ALL },
  { opcode: "0F C1", mnemonic: "xadd", operands: "Ev,Gv", exec: "xadd", writesE: true, lock: true, sets: ALL },
  { opcode: "0F C8+", mnemonic: "bswap", operands: "Zy", exec: "bswap" },
  { opcode: "98", mnemonic: "cwde", operands: "", exec: "cbw" },
  { opcode: "99", mnemonic: "cdq", operands: "", exec: "cwd" },
  { opcode: "D7", mnemonic: "xlat", operands: "", exec: "xlat" },

  // Stack
  { opcode: "50+", mnemonic: "push", operands: "Zv", exec: "pushZ", size: "d64", cls: "stack" },
  { opcode: "58+", mnemonic: "pop", operands: "Zv", exec: "popZ", size: "d64", cls: "stack" },
  { opcode: "FF /6", mnemonic: "push", operands: "Ev", exec: "pushE", size: "d64", cls: "stack" },
  { opcode: "8F /0", mnemonic: "pop", operands: "Ev", exec: "popE", size: "d64", writesE: true, cls: "stack" },
  { opcode: "68", mnemonic: "push", operands: "Iz", exec: "pushI", size: "d64", cls: "stack" },
  { opcode: "6A", mnemonic: "push", operands: "Ib", exec: "pushI", size: "d64", cls: "stack" },
  { opcode: "0F A0", mnemonic: "push", operands: "fs", exec: "pushSeg", sub: 4, size: "d64", cls: "stack" },
  { opcode: "0F A1", mnemonic: "pop", operands: "fs", exec: "popSeg", sub: 4, size: "d64", cls: "stack" },
  { opcode: "0F A8", mnemonic: "push", operands: "gs", exec: "pushSeg", sub: 5, size: "d64", cls: "stack" },
  { opcode: "0F A9", mnemonic: "pop", operands: "gs", exec: "popSeg", sub: 5, size: "d64", cls: "stack" },
  { opcode: "9C", mnemonic: "pushf", operands: "", exec: "pushf", size: "d64", cls: "stack" },
  { opcode: "9D", mnemonic: "popf", operands: "", exec: "popf", size: "d64", sets: ALL, cls: "stack" },
  { opcode: "C8", mnemonic: "enter", operands: "Iw,Ib", exec: "enter", size: "d64", cls: "stack" },
  { opcode: "C9", mnemonic: "leave", operands: "", exec: "leave", size: "d64", cls: "stack" },

  // Arithmetic beyond group 1
  { opcode: "84", mnemonic: "test", operands: "Eb,Gb", exec: "testEG", sets: ALL, undef: "A" },
  { opcode: "85", mnemonic: "test", operands: "Ev,Gv", exec: "testEG", sets: ALL, undef: "A" },
  { opcode: "A8", mnemonic: "test", operands: "Ab,Ib", exec: "testAI", sets: ALL, undef: "A" },
  { opcode: "A9", mnemonic: "test", operands: "Av,Iz", exec: "testAI", sets: ALL, undef: "A" },
  { opcode: "F6 /0", mnemonic: "test", operands: "Eb,Ib", exec: "testEI", sets: ALL, undef: "A" },
  { opcode: "F6 /1", mnemonic: "test", operands: "Eb,Ib", exec: "testEI", sets: ALL, undef: "A" },
  { opcode: "F7 /0", mnemonic: "test", operands: "Ev,Iz", exec: "testEI", sets: ALL, undef: "A" },
  { opcode: "F7 /1", mnemonic: "test", operands: "Ev,Iz", exec: "testEI", sets: ALL, undef: "A" },
  { opcode: "F6 /2", mnemonic: "not", operands: "Eb", exec: "not", writesE: true, lock: true },
  { opcode: "F7 /2", mnemonic: "not", operands: "Ev", exec: "not", writesE: true, lock: true },
  { opcode: "F6 /3", mnemonic: "neg", operands: "Eb", exec: "neg", writesE: true, lock: true, sets: ALL },
  { opcode: "F7 /3", mnemonic: "neg", operands: "Ev", exec: "neg", writesE: true, lock: true, sets: ALL },
  { opcode: "FE /0", mnemonic: "inc", operands: "Eb", exec: "incdec", sub: 0, writesE: true, lock: true, sets: "OSZAP" },
  { opcode: "FE /1", mnemonic: "dec", operands: "Eb", exec: "incdec", sub: 1, writesE: true, lock: true, sets: "OSZAP" },
  { opcode: "FF /0", mnemonic: "inc", operands: "Ev", exec: "incdec", sub: 0, writesE: true, lock: true, sets: "OSZAP" },
  { opcode: "FF /1", mnemonic: "dec", operands: "Ev", exec: "incdec", sub: 1, writesE: true, lock: true, sets: "OSZAP" },
  { opcode: "F6 /4", mnemonic: "mul", operands: "Eb", exec: "mul", sets: ALL, undef: "SZAP", cls: "mul" },
  { opcode: "F7 /4", mnemonic: "mul", operands: "Ev", exec: "mul", sets: ALL, undef: "SZAP", cls: "mul" },
  { opcode: "F6 /5", mnemonic: "imul", operands: "Eb", exec: "imul1", sets: ALL, undef: "SZAP", cls: "mul" },
  { opcode: "F7 /5", mnemonic: "imul", operands: "Ev", exec: "imul1", sets: ALL, undef: "SZAP", cls: "mul" },
  { opcode: "0F AF", mnemonic: "imul", operands: "Gv,Ev", exec: "imul2", sets: ALL, undef: "SZAP", cls: "mul" },
  { opcode: "69", mnemonic: "imul", operands: "Gv,Ev,Iz", exec: "imul3", sets: ALL, undef: "SZAP", cls: "mul" },
  { opcode: "6B", mnemonic: "imul", operands: "Gv,Ev,Ib", exec: "imul3", sets: ALL, undef: "SZAP", cls: "mul" },
  { opcode: "F6 /6", mnemonic: "div", operands: "Eb", exec: "div", sets: ALL, undef: ALL, cls: "div" },
  { opcode: "F7 /6", mnemonic: "div", operands: "Ev", exec: "div", sets: ALL, undef: ALL, cls: "div" },
  { opcode: "F6 /7", mnemonic: "idiv", operands: "Eb", exec: "idiv", sets: ALL, undef: ALL, cls: "div" },
  { opcode: "F7 /7", mnemonic: "idiv", operands: "Ev", exec: "idiv", sets: ALL, undef: ALL, cls: "div" },
  { opcode: "0F A4", mnemonic: "shld", operands: "Ev,Gv,Ib", exec: "shld", writesE: true, sets: ALL, undef: "A", cls: "shift" },
  { opcode: "0F A5", mnemonic: "shld", operands: "Ev,Gv,CL", exec: "shld", writesE: true, sets: ALL, undef: "A", cls: "shift" },
  { opcode: "0F AC", mnemonic: "shrd", operands: "Ev,Gv,Ib", exec: "shrd", writesE: true, sets: ALL, undef: "A", cls: "shift" },
  { opcode: "0F AD", mnemonic: "shrd", operands: "Ev,Gv,CL", exec: "shrd", writesE: true, sets: ALL, undef: "A", cls: "shift" },

  // Bit instructions (sub: 0 bt, 1 bts, 2 btr, 3 btc)
  { opcode: "0F A3", mnemonic: "bt", operands: "Ev,Gv", exec: "btG", sub: 0, sets: "C", undef: "OSAP" },
  { opcode: "0F AB", mnemonic: "bts", operands: "Ev,Gv", exec: "btG", sub: 1, writesE: true, lock: true, sets: "C", undef: "OSAP" },
  { opcode: "0F B3", mnemonic: "btr", operands: "Ev,Gv", exec: "btG", sub: 2, writesE: true, lock: true, sets: "C", undef: "OSAP" },
  { opcode: "0F BB", mnemonic: "btc", operands: "Ev,Gv", exec: "btG", sub: 3, writesE: true, lock: true, sets: "C", undef: "OSAP" },
  { opcode: "0F BA /4", mnemonic: "bt", operands: "Ev,Ib", exec: "btI", sub: 0, sets: "C", undef: "OSAP" },
  { opcode: "0F BA /5", mnemonic: "bts", operands: "Ev,Ib", exec: "btI", sub: 1, writesE: true, lock: true, sets: "C", undef: "OSAP" },
  { opcode: "0F BA /6", mnemonic: "btr", operands: "Ev,Ib", exec: "btI", sub: 2, writesE: true, lock: true, sets: "C", undef: "OSAP" },
  { opcode: "0F BA /7", mnemonic: "btc", operands: "Ev,Ib", exec: "btI", sub: 3, writesE: true, lock: true, sets: "C", undef: "OSAP" },
  { opcode: "0F BC", mnemonic: "bsf", operands: "Gv,Ev", exec: "bsf", sets: ALL, undef: "OSAPC" },
  { opcode: "0F BD", mnemonic: "bsr", operands: "Gv,Ev", exec: "bsr", sets: ALL, undef: "OSAPC" },
  { opcode: "F3 0F BC", mnemonic: "tzcnt", operands: "Gv,Ev", exec: "tzcnt", sets: ALL, undef: "OSAP" },
  { opcode: "F3 0F BD", mnemonic: "lzcnt", operands: "Gv,Ev", exec: "lzcnt", sets: ALL, undef: "OSAP" },
  { opcode: "F3 0F B8", mnemonic: "popcnt", operands: "Gv,Ev", exec: "popcnt", sets: ALL },

  // Control transfer
  { opcode: "EB", mnemonic: "jmp", operands: "Jb", exec: "jmpJ", size: "f64", cls: "branch" },
  { opcode: "E9", mnemonic: "jmp", operands: "Jz", exec: "jmpJ", size: "f64", cls: "branch" },
  { opcode: "FF /4", mnemonic: "jmp", operands: "Ev", exec: "jmpE", size: "f64", cls: "branch" },
  { opcode: "E8", mnemonic: "call", operands: "Jz", exec: "callJ", size: "f64", cls: "call" },
  { opcode: "FF /2", mnemonic: "call", operands: "Ev", exec: "callE", size: "f64", cls: "call" },
  { opcode: "C3", mnemonic: "ret", operands: "", exec: "ret", size: "f64", cls: "call" },
  { opcode: "C2", mnemonic: "ret", operands: "Iw", exec: "ret", size: "f64", cls: "call" },
  { opcode: "E0", mnemonic: "loopne", operands: "Jb", exec: "loop", sub: 0, size: "f64", cls: "branch" },
  { opcode: "E1", mnemonic: "loope", operands: "Jb", exec: "loop", sub: 1, size: "f64", cls: "branch" },
  { opcode: "E2", mnemonic: "loop", operands: "Jb", exec: "loop", sub: 2, size: "f64", cls: "branch" },
  { opcode: "E3", mnemonic: "jrcxz", operands: "Jb", exec: "loop", sub: 3, size: "f64", cls: "branch" },

  // Flags
  { opcode: "F5", mnemonic: "cmc", operands: "", exec: "flagOp", sub: 0, sets: "C" },
  { opcode: "F8", mnemonic: "clc", operands: "", exec: "flagOp", sub: 1, sets: "C" },
  { opcode: "F9", mnemonic: "stc", operands: "", exec: "flagOp", sub: 2, sets: "C" },
  { opcode: "FC", mnemonic: "cld", operands: "", exec: "flagOp", sub: 3 },
  { opcode: "FD", mnemonic: "std", operands: "", exec: "flagOp", sub: 4 },
  { opcode: "9E", mnemonic: "sahf", operands: "", exec: "sahf", sets: "SZAPC" },
  { opcode: "9F", mnemonic: "lahf", operands: "", exec: "lahf" },

  // No-ops and hints
  { opcode: "0F 1F /0", mnemonic: "nop", operands: "Ev", exec: "nop" },
  { opcode: "0F 1E", mnemonic: "nop", operands: "Ev", exec: "nop" },
  { opcode: "0F 19", mnemonic: "nop", operands: "Ev", exec: "nop" },
  { opcode: "0F 1A", mnemonic: "nop", operands: "Ev", exec: "nop" },
  { opcode: "0F 1B", mnemonic: "nop", operands: "Ev", exec: "nop" },
  { opcode: "0F 1C", mnemonic: "nop", operands: "Ev", exec: "nop" },
  { opcode: "0F 1D", mnemonic: "nop", operands: "Ev", exec: "nop" },
  // Prefetch hints: memory forms prefetch (a no-op here), register forms and /4-/7 are hint NOPs.
  { opcode: "0F 18 /0m", mnemonic: "prefetchnta", operands: "Mb", exec: "nop" },
  { opcode: "0F 18 /1m", mnemonic: "prefetcht0", operands: "Mb", exec: "nop" },
  { opcode: "0F 18 /2m", mnemonic: "prefetcht1", operands: "Mb", exec: "nop" },
  { opcode: "0F 18 /3m", mnemonic: "prefetcht2", operands: "Mb", exec: "nop" },
  { opcode: "0F 18", mnemonic: "nop", operands: "Ev", exec: "nop" },
  { opcode: "0F 0D /1m", mnemonic: "prefetchw", operands: "Mb", exec: "nop" },
  { opcode: "0F 0D", mnemonic: "nop", operands: "Ev", exec: "nop" },
  { opcode: "F3 0F 1E FA", mnemonic: "endbr64", operands: "", exec: "nop" },
  { opcode: "F3 90", mnemonic: "pause", operands: "", exec: "pause" },
  { opcode: "9B", mnemonic: "fwait", operands: "", exec: "nop" },
  // Fences: any register form of 0F AE /5, /6, /7 (objdump prints only E8, F0, F8).
  { opcode: "0F AE /5r", mnemonic: "lfence", operands: "", exec: "nop", cls: "fence" },
  { opcode: "0F AE /6r", mnemonic: "mfence", operands: "", exec: "nop", cls: "fence" },
  { opcode: "0F AE /7r", mnemonic: "sfence", operands: "", exec: "nop", cls: "fence" },
  { opcode: "0F AE /7m", mnemonic: "clflush", operands: "Mb", exec: "clflush" },
  { opcode: "0F 0B", mnemonic: "ud2", operands: "", exec: "ud" },

  // Traps and interrupts
  { opcode: "CC", mnemonic: "int3", operands: "", exec: "int3", cls: "int" },
  { opcode: "CD", mnemonic: "int", operands: "Ib", exec: "intN", cls: "int" },
  { opcode: "F1", mnemonic: "int1", operands: "", exec: "int1", cls: "int" },
  { opcode: "CF", mnemonic: "iret", operands: "", exec: "iret", cls: "iret" },
  { opcode: "FA", mnemonic: "cli", operands: "", exec: "cli" },
  { opcode: "FB", mnemonic: "sti", operands: "", exec: "sti" },
  { opcode: "F4", mnemonic: "hlt", operands: "", exec: "hlt", priv: true },

  // System
  { opcode: "0F A2", mnemonic: "cpuid", operands: "", exec: "cpuid", cls: "cpuid" },
  { opcode: "0F 31", mnemonic: "rdtsc", operands: "", exec: "rdtsc" },
  { opcode: "0F 05", mnemonic: "syscall", operands: "", exec: "syscall", cls: "int" },
  { opcode: "0F 07", mnemonic: "sysret", operands: "", exec: "sysret", cls: "iret" },
  { opcode: "0F 01 F9", mnemonic: "rdtscp", operands: "", exec: "rdtscp" },
  { opcode: "0F 30", mnemonic: "wrmsr", operands: "", exec: "wrmsr", priv: true, cls: "wrmsr" },
  { opcode: "0F 32", mnemonic: "rdmsr", operands: "", exec: "rdmsr", priv: true, cls: "msr" },
  { opcode: "0F 20", mnemonic: "mov", operands: "Rq,Cq", exec: "movFromCr", priv: true },
  { opcode: "0F 22 /3", mnemonic: "mov", operands: "Cq,Rq", exec: "movToCr", priv: true, cls: "cr3" },
  { opcode: "0F 22", mnemonic: "mov", operands: "Cq,Rq", exec: "movToCr", priv: true, cls: "cr" },
  { opcode: "0F 21", mnemonic: "mov", operands: "Rq,Dq", exec: "movFromDr", priv: true },
  { opcode: "0F 23", mnemonic: "mov", operands: "Dq,Rq", exec: "movToDr", priv: true },
  { opcode: "0F 06", mnemonic: "clts", operands: "", exec: "clts", priv: true },
  { opcode: "0F 08", mnemonic: "invd", operands: "", exec: "invd", priv: true },
  { opcode: "0F 09", mnemonic: "wbinvd", operands: "", exec: "nop", priv: true },
  { opcode: "0F 01 /0m", mnemonic: "sgdt", operands: "M", exec: "sdt", sub: 0 },
  { opcode: "0F 01 /1m", mnemonic: "sidt", operands: "M", exec: "sdt", sub: 1 },
  { opcode: "0F 01 /2m", mnemonic: "lgdt", operands: "M", exec: "ldt", sub: 0, size: "f64", priv: true },
  { opcode: "0F 01 /3m", mnemonic: "lidt", operands: "M", exec: "ldt", sub: 1, size: "f64", priv: true },
  { opcode: "0F 01 /4", mnemonic: "smsw", operands: "Ew", exec: "smsw", writesE: true },
  { opcode: "0F 01 /6", mnemonic: "lmsw", operands: "Ew", exec: "lmsw", priv: true },
  { opcode: "0F 01 /7m", mnemonic: "invlpg", operands: "Mb", exec: "invlpg", priv: true },
  { opcode: "0F 00 /0", mnemonic: "sldt", operands: "Ew", exec: "sldtStr", sub: 0, writesE: true },
  { opcode: "0F 00 /1", mnemonic: "str", operands: "Ew", exec: "sldtStr", sub: 1, writesE: true },
  { opcode: "0F 00 /2", mnemonic: "lldt", operands: "Ew", exec: "lldtLtr", sub: 0, priv: true },
  { opcode: "0F 00 /3", mnemonic: "ltr", operands: "Ew", exec: "lldtLtr", sub: 1, priv: true },
  { opcode: "0F 01 F8", mnemonic: "swapgs", operands: "", exec: "swapgs", priv: true },
  { opcode: "0F 01 CA", mnemonic: "clac", operands: "", exec: "clacStac", sub: 0 },
  { opcode: "0F 01 CB", mnemonic: "stac", operands: "", exec: "clacStac", sub: 1 },
  { opcode: "0F 01 D0", mnemonic: "xgetbv", operands: "", exec: "xgetbv" },
  { opcode: "0F 01 D1", mnemonic: "xsetbv", operands: "", exec: "xsetbv", priv: true },
  { opcode: "F3 0F AE /0r", mnemonic: "rdfsbase", operands: "Ry", exec: "rdFsGsBase", sub: 4 },
  { opcode: "F3 0F AE /1r", mnemonic: "rdgsbase", operands: "Ry", exec: "rdFsGsBase", sub: 5 },
  { opcode: "F3 0F AE /2r", mnemonic: "wrfsbase", operands: "Ry", exec: "wrFsGsBase", sub: 4 },
  { opcode: "F3 0F AE /3r", mnemonic: "wrgsbase", operands: "Ry", exec: "wrFsGsBase", sub: 5 },
  { opcode: "0F AE /0m", mnemonic: "fxsave", operands: "M", exec: "fxsave", cls: "xsave" },
  { opcode: "0F AE /1m", mnemonic: "fxrstor", operands: "M", exec: "fxrstor", cls: "xsave" },
  { opcode: "0F AE /2m", mnemonic: "ldmxcsr", operands: "Md", exec: "ldmxcsr" },
  { opcode: "0F AE /3m", mnemonic: "stmxcsr", operands: "Md", exec: "stmxcsr", writesE: true },
  { opcode: "0F AE /4m", mnemonic: "xsave", operands: "M", exec: "xsave", cls: "xsave" },
  { opcode: "0F AE /5m", mnemonic: "xrstor", operands: "M", exec: "xrstor", cls: "xsave" },
  { opcode: "0F AE /6m", mnemonic: "xsaveopt", operands: "M", exec: "xsave", cls: "xsave" },
  { opcode: "0F C7 /6r", mnemonic: "rdrand", operands: "Rv", exec: "rdrand", sets: ALL },
  { opcode: "0F C7 /7r", mnemonic: "rdseed", operands: "Rv", exec: "rdrand", sets: ALL },

  // Port I/O
  { opcode: "E4", mnemonic: "in", operands: "Ab,Ib", exec: "inI", cls: "io" },
  { opcode: "E5", mnemonic: "in", operands: "Az,Ib", exec: "inI", cls: "io" },
  { opcode: "E6", mnemonic: "out", operands: "Ib,Ab", exec: "outI", cls: "io" },
  { opcode: "E7", mnemonic: "out", operands: "Ib,Az", exec: "outI", cls: "io" },
  { opcode: "EC", mnemonic: "in", operands: "Ab,DX", exec: "inDX", cls: "io" },
  { opcode: "ED", mnemonic: "in", operands: "Az,DX", exec: "inDX", cls: "io" },
  { opcode: "EE", mnemonic: "out", operands: "DX,Ab", exec: "outDX", cls: "io" },
  { opcode: "EF", mnemonic: "out", operands: "DX,Az", exec: "outDX", cls: "io" },

  // VMX (the instructions exist here; VMX operation arrives with the hypervisor hardware)
  { opcode: "0F 01 C1", mnemonic: "vmcall", operands: "", exec: "vmx", sub: 0, cls: "vmx" },
  { opcode: "0F 01 C2", mnemonic: "vmlaunch", operands: "", exec: "vmx", sub: 1, cls: "vmx" },
  { opcode: "0F 01 C3", mnemonic: "vmresume", operands: "", exec: "vmx", sub: 2, cls: "vmx" },
  { opcode: "0F 01 C4", mnemonic: "vmxoff", operands: "", exec: "vmx", sub: 3, cls: "vmx" },
  { opcode: "0F 01 D4", mnemonic: "vmfunc", operands: "", exec: "vmx", sub: 4, cls: "vmfunc" },
  { opcode: "0F C7 /6m", mnemonic: "vmptrld", operands: "Mq", exec: "vmx", sub: 5, cls: "vmx" },
  { opcode: "66 0F C7 /6m", mnemonic: "vmclear", operands: "Mq", exec: "vmx", sub: 6, cls: "vmx" },
  { opcode: "F3 0F C7 /6m", mnemonic: "vmxon", operands: "Mq", exec: "vmx", sub: 7, cls: "vmx" },
  { opcode: "0F C7 /7m", mnemonic: "vmptrst", operands: "Mq", exec: "vmx", sub: 8, cls: "vmx" },
  { opcode: "0F 78", mnemonic: "vmread", operands: "Eq,Gq", exec: "vmx", sub: 9, size: "f64", writesE: true, cls: "vmx" },
  { opcode: "0F 79", mnemonic: "vmwrite", operands: "Gq,Eq", exec: "vmx", sub: 10, size: "f64", cls: "vmx" },
  { opcode: "66 0F 38 80", mnemonic: "invept", operands: "Gq,M", exec: "vmx", sub: 11, size: "f64", cls: "vmx" },
  { opcode: "66 0F 38 81", mnemonic: "invvpid", operands: "Gq,M", exec: "vmx", sub: 12, size: "f64", cls: "vmx" },
];

export const DECODE_TABLE: readonly TableEntry[] = rows;
