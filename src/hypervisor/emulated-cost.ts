// What an emulated instruction costs: the cycles the instruction itself is charged when
// it runs natively (its decode-table cost class, machine/cost.ts), looked up by handler
// name and, where one handler has rows of different classes (MOV to CR3 vs other CRs),
// by opcode. An emulated WRMSR charges what a WRMSR charges, an emulated OUT what an OUT
// does, so the difference between native and virtualized runs is the exit round trip
// and the hypervisor's own VMX instructions, nothing typed in.

import type { Cpu } from "../machine/cpu/cpu.ts";
import { DECODE_TABLE, type TableEntry } from "../machine/cpu/decode-table.ts";
import { costOf } from "../machine/cost.ts";

const rows = new Map<string, TableEntry[]>();
for (const e of DECODE_TABLE) rows.set(e.exec, [...(rows.get(e.exec) ?? []), e]);

/**
 * Cycles of one execution of the instruction whose handler is `exec` (ops/index.ts
 * names: "wrmsr", "outDX", "movToCr"...): the row with exactly `opcode` if there is one
 * ("0F 22 /3"), else the row without a ModRM.reg specifier (the general form).
 */
export function instructionCost(exec: string, opcode?: string): number {
  const candidates = rows.get(exec);
  if (!candidates) throw new Error(`no instruction with handler ${exec}`);
  const row = candidates.find((e) => e.opcode === opcode) ?? candidates.find((e) => !/\/\d/.test(e.opcode)) ?? candidates[0];
  return costOf(row.cls);
}

/** Charges one execution of that instruction to `cpu`'s clock. */
export function chargeInstruction(cpu: Cpu, exec: string, opcode?: string): void {
  cpu.cycles += instructionCost(exec, opcode);
}
