// GNU objdump's view of the instructions of an object file, to check our decoder's
// instruction boundaries against it.
//
// Runs `objdump -d -w -z --insn-width=15 -M intel` (all executable sections, one line per
// instruction with all its bytes, runs of zero bytes disassembled instead of elided as
// "...") and parses lines of the form
//
//     <address>:<TAB><hex bytes separated by spaces><spaces><TAB><mnemonic and operands>
//
// Section headers ("Disassembly of section .text:") set the current section; symbol labels
// ("0000000000000000 <lvd_main>:"), the file header and blank lines are skipped. An
// undecodable byte sequence is kept as an entry with text "(bad)" (also when objdump writes
// prefixes before it, as in "rex.W (bad)"; an operand printed as "(bad)", as in
// "lea eax,(bad)", keeps its text) and the length objdump gave it. Should objdump ever continue an instruction's bytes on a following line (a line
// with an address and bytes but no text), they are appended to the previous instruction.

import { execFileSync } from "node:child_process";

export interface ObjdumpInstruction {
  /** The section name, e.g. ".text". */
  section: string;
  /** Offset of the instruction from the start of its section. */
  offset: number;
  /** Length in bytes (= bytes.length). */
  length: number;
  bytes: number[];
  /** objdump's Intel-syntax text, trimmed, e.g. "mov    eax,0x1"; exactly "(bad)" for undecodable bytes. */
  text: string;
}

const SECTION_RE = /^Disassembly of section (.+):$/;
const INSN_RE = /^\s*([0-9a-f]+):\t([0-9a-f]{2}(?: [0-9a-f]{2})*) *(?:\t(.*))?$/;

/** Start addresses of the sections of an object (0 for every section of a relocatable .o). */
function sectionAddresses(objFile: string): Map<string, number> {
  const out = execFileSync("objdump", ["-h", "-w", objFile], { encoding: "utf8", maxBuffer: 64 << 20 });
  const map = new Map<string, number>();
  // "  0 .text  00000123  0000000000000000  0000000000000000  00000040  2**4  CONTENTS, ..."
  for (const line of out.split("\n")) {
    const m = /^\s*\d+\s+(\S+)\s+[0-9a-f]+\s+([0-9a-f]+)\s+[0-9a-f]+\s+[0-9a-f]+\s/.exec(line);
    if (m) map.set(m[1]!, parseInt(m[2]!, 16));
  }
  return map;
}

/** Every instruction of every executable section of `objFile`, in order, as objdump decodes it. */
export function objdumpInstructions(objFile: string): ObjdumpInstruction[] {
  const out = execFileSync("objdump", ["-d", "-w", "-z", "--insn-width=15", "-M", "intel", objFile], {
    encoding: "utf8",
    maxBuffer: 256 << 20,
  });
  return parseObjdump(out, sectionAddresses(objFile));
}

/**
 * Parses `objdump -d -w --insn-width=15` output. `sectionStart` gives each section's start
 * address, subtracted to make offsets section-relative (missing sections count as 0).
 */
export function parseObjdump(output: string, sectionStart: Map<string, number> = new Map()): ObjdumpInstruction[] {
  const result: ObjdumpInstruction[] = [];
  let section = "";
  let base = 0;
  let last: ObjdumpInstruction | undefined;
  for (const line of output.split("\n")) {
    const s = SECTION_RE.exec(line);
    if (s) {
      section = s[1]!;
      base = sectionStart.get(section) ?? 0;
      last = undefined;
      continue;
    }
    const m = INSN_RE.exec(line);
    if (!m || section === "") continue;
    const address = parseInt(m[1]!, 16);
    const bytes = m[2]!.split(" ").map((b) => parseInt(b, 16));
    let text = m[3]?.trim() ?? "";
    if (text.split(/\s+/).includes("(bad)")) text = "(bad)"; // also "rex.W (bad)", "data16 (bad)"...
    if (text === "" && last !== undefined && address === last.offset + base + last.length) {
      // continuation of the previous instruction's bytes
      last.bytes.push(...bytes);
      last.length = last.bytes.length;
      continue;
    }
    last = { section, offset: address - base, length: bytes.length, bytes, text };
    result.push(last);
  }
  return result;
}
