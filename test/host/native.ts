// Builds test/host/harness.c with gcc (cached by a hash of its source) and runs cases on
// the host CPU through it. See harness.c for the record formats.

import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync } from "node:fs";
import { arch, platform, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { CODE_BASE, type FuzzCase, type Outcome } from "./cases.ts";

const SOURCE = join(dirname(fileURLToPath(import.meta.url)), "harness.c");
const CASE_BYTES = 176;
const PATCH_BYTES = 20;
const RESULT_BYTES = 168;
const HEADER_BYTES = 32;
/** Cases per harness process (bounded pipe buffers, and a crash loses only one batch). */
const BATCH = 20000;

/** What the harness reports about its process: the emulator mirrors it. */
export interface HostEnv {
  gsBase: bigint;
  /** ES, CS, SS, DS, FS, GS selectors. */
  selectors: number[];
}

/** Why the host tests cannot run here, or null when they can. */
export function hostUnavailable(): string | null {
  if (platform() !== "linux" || arch() !== "x64") return `needs x86-64 Linux (this is ${platform()}/${arch()})`;
  try {
    execFileSync("gcc", ["--version"], { stdio: "pipe" });
  } catch {
    return "gcc is not installed";
  }
  // The expectations are an Intel CPU's (BSF/BSR with a zero source, undefined flags) and
  // F3 0F BC/BD/B8 must be TZCNT/LZCNT/POPCNT rather than BSF/BSR/#UD.
  const info = existsSync("/proc/cpuinfo") ? readFileSync("/proc/cpuinfo", "latin1") : "";
  if (!/vendor_id\s*:\s*GenuineIntel/.test(info)) return "the host CPU is not an Intel one";
  const flags = new Set((/^flags\s*:(.*)$/m.exec(info)?.[1] ?? "").trim().split(/\s+/));
  for (const f of ["bmi1", "abm", "popcnt", "cx16", "fsgsbase"]) if (!flags.has(f)) return `the host CPU lacks ${f}`;
  return null;
}

let built: string | null = null;

/** Compiles the harness once per source version; returns the executable's path. */
export function buildHarness(): string {
  if (built && existsSync(built)) return built;
  const src = readFileSync(SOURCE);
  const hash = createHash("sha256").update(src).digest("hex").slice(0, 16);
  const dir = join(tmpdir(), "lvd-host-harness");
  const exe = join(dir, `harness-${hash}`);
  if (!existsSync(exe)) {
    mkdirSync(dir, { recursive: true });
    const tmp = `${exe}.${process.pid}.tmp`;
    execFileSync("gcc", ["-O1", "-g0", "-Wall", "-Werror", "-o", tmp, SOURCE], { stdio: "pipe" });
    renameSync(tmp, exe);
  }
  built = exe;
  return exe;
}

function encodeCases(cases: FuzzCase[]): Buffer {
  let total = 0;
  for (const c of cases) total += CASE_BYTES + PATCH_BYTES * c.patches.length;
  const buf = Buffer.alloc(total);
  let p = 0;
  for (const c of cases) {
    if (c.patches.length > 64) throw new Error(`case ${c.index}: too many patches`);
    buf.writeUInt8(c.bytes.length, p);
    buf.writeUInt8(c.patches.length, p + 1);
    buf.writeUInt16LE(c.codeOff, p + 2);
    buf.writeUInt32LE(c.dataSeed >>> 0, p + 4);
    for (let r = 0; r < 16; r++) buf.writeBigUInt64LE(c.regs[r], p + 8 + r * 8);
    buf.writeBigUInt64LE(BigInt(c.rflags >>> 0), p + 136);
    buf.set(c.bytes, p + 144);
    p += CASE_BYTES;
    for (const pt of c.patches) {
      buf.writeUInt16LE(pt.off, p);
      buf.writeUInt16LE(pt.bytes.length, p + 2);
      buf.set(pt.bytes, p + 4);
      p += PATCH_BYTES;
    }
  }
  return buf;
}

const ERROR_CODE_VECTORS = new Set([8, 10, 11, 12, 13, 14, 17]);

function decodeResults(out: Buffer, count: number): { env: HostEnv; outcomes: Outcome[] } {
  if (out.length < HEADER_BYTES || out.toString("latin1", 0, 4) !== "LVDH") throw new Error("host harness: bad output header");
  const env: HostEnv = {
    gsBase: out.readBigUInt64LE(8),
    selectors: [0, 1, 2, 3, 4, 5].map((k) => out.readUInt16LE(16 + 2 * k)),
  };
  const outcomes: Outcome[] = [];
  let p = HEADER_BYTES;
  for (let n = 0; n < count; n++) {
    if (p + RESULT_BYTES > out.length) throw new Error(`host harness: output ends after ${n} of ${count} results`);
    const kind = out.readUInt8(p);
    const vector = out.readUInt8(p + 1);
    const ndiff = out.readUInt16LE(p + 2);
    const err = out.readUInt32LE(p + 4);
    const regs: bigint[] = [];
    for (let r = 0; r < 16; r++) regs.push(out.readBigUInt64LE(p + 8 + r * 8));
    const rip = Number(out.readBigUInt64LE(p + 136) - BigInt(CODE_BASE));
    const rflags = Number(out.readBigUInt64LE(p + 144) & 0xffffffffn);
    const sig = out.readUInt32LE(p + 152);
    const cr2 = out.readBigUInt64LE(p + 160);
    p += RESULT_BYTES;
    const diffs: [number, number][] = [];
    for (let k = 0; k < ndiff; k++, p += 4) diffs.push([out.readUInt16LE(p), out.readUInt8(p + 2)]);
    const o: Outcome = { vector: -1, err: -1, regs, rip, rflags, diffs };
    if (kind === 0) o.rip = rip - 1; // the INT3 that stopped execution
    else if (kind === 1) {
      o.vector = vector;
      if (ERROR_CODE_VECTORS.has(vector)) o.err = err;
      if (vector === 14) o.cr2 = cr2;
    } else o.problem = kind === 2 ? "timeout (the instruction did not reach an INT3 within 2 s)" : `unexpected signal ${sig}`;
    outcomes.push(o);
  }
  return { env, outcomes };
}

/** Runs the cases on the host CPU. */
export function runNative(cases: FuzzCase[]): { env: HostEnv; outcomes: Outcome[] } {
  const exe = buildHarness();
  let env: HostEnv | null = null;
  const outcomes: Outcome[] = [];
  for (let start = 0; start < cases.length || env === null; start += BATCH) {
    const batch = cases.slice(start, start + BATCH);
    const r = spawnSync(exe, [], { input: encodeCases(batch), maxBuffer: 1 << 30 });
    if (r.error) throw r.error;
    if (r.status !== 0) throw new Error(`host harness exited with ${r.status ?? r.signal}: ${r.stderr.toString()}`);
    const res = decodeResults(r.stdout, batch.length);
    env = res.env;
    for (const o of res.outcomes) outcomes.push(o);
    if (batch.length === 0) break;
  }
  return { env, outcomes };
}
