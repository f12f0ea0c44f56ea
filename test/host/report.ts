// Compares host and emulator outcomes of host-CPU cases and formats the differences,
// grouped per instruction form so that one bug shows once, with a count.

import { alu } from "../../src/machine/cpu/ops/alu.ts";
import { move } from "../../src/machine/cpu/ops/move.ts";
import { control } from "../../src/machine/cpu/ops/control.ts";
import { shift } from "../../src/machine/cpu/ops/shift.ts";
import { muldiv } from "../../src/machine/cpu/ops/muldiv.ts";
import { bits } from "../../src/machine/cpu/ops/bits.ts";
import { string } from "../../src/machine/cpu/ops/string.ts";
import { system } from "../../src/machine/cpu/ops/system.ts";
import { io } from "../../src/machine/cpu/ops/io.ts";
import { disassemble } from "../../src/machine/cpu/disasm.ts";
import {
  ARITH, SYSTEM_FLAGS, CF, PF, AF, ZF, SF, OF, TF, IF, DF, NT, AC, ID, VIF, VIP, VM, IOPL, REG_NAMES, CODE_BASE,
  hexBytes, initialData, type FuzzCase, type Outcome,
} from "./cases.ts";

export const GROUPS = ["alu", "move", "control", "shift", "muldiv", "bits", "string", "system", "io"] as const;
export type Group = (typeof GROUPS)[number];

/** Where each group's handlers are expected while their files are still being written. */
const PLANNED: Record<string, Group> = {
  shift: "shift", shld: "shift", shrd: "shift",
  mul: "muldiv", imul1: "muldiv", imul2: "muldiv", imul3: "muldiv", div: "muldiv", idiv: "muldiv",
  btG: "bits", btI: "bits", bsf: "bits", bsr: "bits", tzcnt: "bits", lzcnt: "bits", popcnt: "bits",
  movs: "string", cmps: "string", stos: "string", lods: "string", scas: "string", ins: "string", outs: "string",
  cli: "system", sti: "system", hlt: "system", wrmsr: "system", rdmsr: "system", movFromCr: "system", movToCr: "system",
  movFromDr: "system", movToDr: "system", clts: "system", invd: "system", ldt: "system", lmsw: "system", invlpg: "system",
  lldtLtr: "system", swapgs: "system", clacStac: "system", xsetbv: "system", cmpxchg8b: "alu",
};
const MODULES: [Group, Record<string, unknown>][] = [
  ["alu", alu], ["move", move], ["control", control], ["shift", shift], ["muldiv", muldiv],
  ["bits", bits], ["string", string], ["system", system], ["io", io],
];

/** The handler group (ops/<group>.ts) an executor name belongs to. */
export function groupOf(exec: string): Group {
  for (const [g, m] of MODULES) if (Object.prototype.hasOwnProperty.call(m, exec)) return g;
  return PLANNED[exec] ?? "system";
}

export interface Difference {
  what: string;
  host: string;
  lvd: string;
}

export interface Mismatch {
  c: FuzzCase;
  host: Outcome;
  lvd: Outcome;
  diffs: Difference[];
}

const FLAG_NAMES: [number, string][] = [
  [CF, "CF"], [PF, "PF"], [AF, "AF"], [ZF, "ZF"], [SF, "SF"], [OF, "OF"], [TF, "TF"], [IF, "IF"], [DF, "DF"],
  [IOPL, "IOPL"], [NT, "NT"], [AC, "AC"], [ID, "ID"], [VIF, "VIF"], [VIP, "VIP"], [VM, "VM"], [2, "bit1"],
];

const hex = (v: bigint | number) => "0x" + v.toString(16);
const hex64 = (v: bigint) => v.toString(16).padStart(16, "0");

export function vectorName(v: number): string {
  const names: Record<number, string> = { 0: "#DE", 1: "#DB", 3: "#BP", 6: "#UD", 12: "#SS", 13: "#GP", 14: "#PF", 17: "#AC" };
  return v < 0 ? "none" : names[v] ?? `vector ${v}`;
}

function outcomeSummary(o: Outcome): string {
  if (o.problem) return o.problem;
  if (o.vector < 0) return `completed, RIP at +${hex(o.rip)}`;
  return `${vectorName(o.vector)}${o.err >= 0 ? `(${hex(o.err)})` : ""} at +${hex(o.rip)}`;
}

/** The differences between the host's and the emulator's outcome of case c. */
export function compare(c: FuzzCase, host: Outcome, lvd: Outcome): Difference[] {
  const d: Difference[] = [];
  if (host.problem || lvd.problem) {
    if (host.problem !== lvd.problem) d.push({ what: "run", host: outcomeSummary(host), lvd: outcomeSummary(lvd) });
    return d;
  }
  if (host.vector !== lvd.vector) {
    d.push({ what: "exception", host: outcomeSummary(host), lvd: outcomeSummary(lvd) });
    return d;
  }
  if (host.vector >= 0) {
    if (host.err !== lvd.err) d.push({ what: "error code", host: hex(host.err), lvd: hex(lvd.err) });
    if (host.cr2 !== undefined && host.cr2 !== lvd.cr2) d.push({ what: "CR2", host: hex(host.cr2), lvd: lvd.cr2 === undefined ? "-" : hex(lvd.cr2) });
  }
  if (host.rip !== lvd.rip) d.push({ what: "RIP", host: `+${hex(host.rip)}`, lvd: `+${hex(lvd.rip)}` });
  for (let r = 0; r < 16; r++) {
    if (host.regs[r] !== lvd.regs[r]) d.push({ what: REG_NAMES[r].toUpperCase(), host: hex64(host.regs[r]), lvd: hex64(lvd.regs[r]) });
  }
  // After an exception nothing may have changed: all flags are compared.
  const mask = (host.vector >= 0 ? ARITH : c.flagMask) | SYSTEM_FLAGS;
  const fx = (host.rflags ^ lvd.rflags) & mask;
  for (const [bit, name] of FLAG_NAMES) {
    if (fx & bit) d.push({ what: name, host: ((host.rflags & bit) / (bit & -bit)).toString(), lvd: ((lvd.rflags & bit) / (bit & -bit)).toString() });
  }
  const hm = new Map(host.diffs), lm = new Map(lvd.diffs);
  const offs = [...new Set([...hm.keys(), ...lm.keys()])].sort((a, b) => a - b);
  const bad = offs.filter((o) => hm.get(o) !== lm.get(o));
  if (bad.length) {
    const init = initialData(c);
    const show = bad.slice(0, 8).map((o) => `[${hex(o)}]`).join("");
    const hv = bad.slice(0, 8).map((o) => (hm.get(o) ?? init[o]).toString(16).padStart(2, "0")).join(" ");
    const lv = bad.slice(0, 8).map((o) => (lm.get(o) ?? init[o]).toString(16).padStart(2, "0")).join(" ");
    d.push({ what: `memory ${show}${bad.length > 8 ? ` (+${bad.length - 8} more)` : ""}`, host: hv, lvd: lv });
  }
  return d;
}

function disassembly(c: FuzzCase): string {
  try {
    return disassemble(c.bytes, CODE_BASE + c.codeOff, c.steps).map((l) => l.text).join(" ; ");
  } catch {
    return "?";
  }
}

function describeCase(c: FuzzCase): string[] {
  const lines: string[] = [];
  const dis = disassembly(c);
  lines.push(`case #${c.index}: ${hexBytes(c.bytes)}${dis ? `   ${dis}` : ""}   at +${hex(c.codeOff)}${c.tags.length ? `   [${c.tags.join(", ")}]` : ""}`);
  const regs = REG_NAMES.map((n, r) => `${n.padStart(3)}=${hex64(c.regs[r])}`);
  for (let k = 0; k < 16; k += 4) lines.push(`  in: ${regs.slice(k, k + 4).join(" ")}`);
  const fl = FLAG_NAMES.filter(([bit]) => c.rflags & bit && bit !== 2 && bit !== IF).map(([, n]) => n);
  lines.push(`  in: rflags=${hex(c.rflags)} (${fl.join(" ") || "-"}), data seed ${hex(c.dataSeed)}${c.patches.length ? `, patched ${c.patches.map((p) => `[${hex(p.off)}]=${hexBytes(p.bytes).replace(/ /g, "")}`).join(" ")}` : ""}`);
  return lines;
}

export function describeMismatch(m: Mismatch): string[] {
  const lines = describeCase(m.c);
  lines.push(`  host: ${outcomeSummary(m.host)}; lvd: ${outcomeSummary(m.lvd)}`);
  for (const d of m.diffs) lines.push(`  ${d.what.padEnd(6)} host ${d.host}   lvd ${d.lvd}`);
  return lines;
}

/** The mismatches grouped per form, each form once with a count and its first examples. */
export function formatReport(mismatches: Mismatch[], total: number, examples = 2): string {
  if (mismatches.length === 0) return "";
  const byForm = new Map<string, Mismatch[]>();
  for (const m of mismatches) {
    const key = m.c.form.key + (m.c.second ? `, then ${m.c.second}` : "");
    const list = byForm.get(key) ?? [];
    list.push(m);
    byForm.set(key, list);
  }
  const forms = [...byForm.entries()].sort((a, b) => b[1].length - a[1].length);
  const out: string[] = [`${mismatches.length} of ${total} cases differ from the host, in ${forms.length} forms.`];
  // A bug in prefix decoding or flags shows across many forms: summarise by variant too.
  const tags = new Map<string, number>();
  for (const m of mismatches) for (const t of m.c.tags.length ? m.c.tags : ["plain"]) {
    const k = t.startsWith("then ") ? "pair (flag producer, then consumer)" : t;
    tags.set(k, (tags.get(k) ?? 0) + 1);
  }
  out.push(`By variant: ${[...tags.entries()].sort((a, b) => b[1] - a[1]).map(([t, n]) => `${t} x${n}`).join(", ")}`);
  for (const [key, list] of forms) {
    const what = new Map<string, number>();
    for (const m of list) for (const d of m.diffs) {
      const k = d.what.startsWith("memory") ? "memory" : d.what === "exception" ? `exception host ${d.host.split(" ")[0]} lvd ${d.lvd.split(" ")[0]}` : d.what;
      what.set(k, (what.get(k) ?? 0) + 1);
    }
    const summary = [...what.entries()].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} x${n}`).join(", ");
    out.push("");
    out.push(`${key} (${groupOf(list[0].c.form.entry.exec)}.ts): ${list.length} case${list.length > 1 ? "s" : ""}: ${summary}`);
    for (const m of list.slice(0, examples)) for (const l of describeMismatch(m)) out.push("  " + l);
  }
  return out.join("\n");
}

/** Cases per mnemonic and per form (LVD_FUZZ_VERBOSE=1). */
export function formatCoverage(cases: FuzzCase[]): string {
  const perMnemonic = new Map<string, number>();
  const perForm = new Map<string, number>();
  for (const c of cases) {
    const m = c.form.entry.mnemonic;
    perMnemonic.set(m, (perMnemonic.get(m) ?? 0) + 1);
    perForm.set(c.form.key, (perForm.get(c.form.key) ?? 0) + 1);
  }
  const lines = [`coverage: ${cases.length} cases, ${perForm.size} forms, ${perMnemonic.size} mnemonics`];
  const mn = [...perMnemonic.entries()].sort((a, b) => a[0].localeCompare(b[0]));
  for (let k = 0; k < mn.length; k += 6) lines.push("  " + mn.slice(k, k + 6).map(([m, n]) => `${m} ${n}`.padEnd(18)).join(""));
  lines.push("per form:");
  for (const [f, n] of [...perForm.entries()].sort((a, b) => a[0].localeCompare(b[0]))) lines.push(`  ${String(n).padStart(6)}  ${f}`);
  return lines.join("\n");
}
