// The bare test-program corpus (test/corpus/*.c), checked natively:
//  - every program, built natively at -O0 and -O2, exits normally, prints something, and
//    prints exactly the same thing with the same status at both levels (a difference means
//    undefined behaviour in the program, which must be fixed there);
//  - every program compiles cleanly (-Wall -Werror) with the machine's flags at -O0, -O1,
//    -O2, -O3 and -Os, and needs nothing beyond what drivers/lib/bare_runtime.c provides;
//  - the runtime itself compiles cleanly at every level and never calls its own functions;
//  - the objdump helper accounts for every byte of the compiled corpus' code.

import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BARE_RUNTIME_C, buildNativeAsync, compileAndRunNative, listCorpus } from "./helpers/native.ts";
import { buildForMachine, parallel, programName, MACHINE_LEVELS } from "./helpers/machine-build.ts";
import { objdumpInstructions } from "./helpers/objdump.ts";

const programs = listCorpus();
const NATIVE_LEVELS = ["O0", "O2"];
const JOBS = Math.max(2, availableParallelism());
const name = programName;

function undefinedSymbols(obj: string): string[] {
  return execFileSync("nm", ["-u", obj], { encoding: "utf8" })
    .split("\n")
    .map((l) => l.trim().split(/\s+/).pop() ?? "")
    .filter((s) => s !== "");
}

describe("corpus, native", () => {
  const buildErrors = new Map<string, string>();

  beforeAll(async () => {
    const jobs = programs.flatMap((file) => NATIVE_LEVELS.map((opt) => ({ file, opt })));
    await parallel(jobs, JOBS, async ({ file, opt }) => {
      try {
        await buildNativeAsync(file, opt);
      } catch (e) {
        buildErrors.set(`${name(file)} -${opt}`, (e as Error).message);
      }
    });
  });

  it("has at least 32 programs", () => {
    expect(programs.length).toBeGreaterThanOrEqual(32);
  });

  it("builds every program natively at -O0 and -O2", () => {
    expect([...buildErrors.values()]).toEqual([]);
  });

  for (const file of programs) {
    it(`${name(file)}: exits normally, prints output, identical at -O0 and -O2`, () => {
      const o0 = compileAndRunNative(file, "O0");
      const o2 = compileAndRunNative(file, "O2");
      expect(o0.stdout.length).toBeGreaterThan(0);
      expect(o0.stdout.endsWith("\n")).toBe(true);
      expect(o2.stdout).toBe(o0.stdout);
      expect(o2.status).toBe(o0.status);
    });
  }
});

describe("corpus, machine flags", () => {
  const dir = mkdtempSync(join(tmpdir(), "lvd-corpus-machine-"));
  const failures = new Map<string, string>(); // "name -Ox" -> gcc's messages
  const objects = new Map<string, string>(); // "name -Ox" -> object path
  let runtimeSymbols = new Set<string>();

  beforeAll(async () => {
    const build = await buildForMachine([...programs, BARE_RUNTIME_C]);
    for (const [k, v] of build.objects) objects.set(k, v);
    for (const [k, v] of build.failures) failures.set(k, v);
    const rt = objects.get(`${name(BARE_RUNTIME_C)} -O2`);
    if (rt) {
      runtimeSymbols = new Set(
        execFileSync("nm", ["--defined-only", "-g", rt], { encoding: "utf8" })
          .split("\n")
          .map((l) => l.trim().split(/\s+/))
          .filter((f) => f.length === 3 && f[1] === "T")
          .map((f) => f[2]!),
      );
    }
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("bare_runtime.c compiles cleanly at every level, provides the mem*/str* functions and calls nothing", () => {
    expect(failures.get(`${name(BARE_RUNTIME_C)} -O0`)).toBeUndefined();
    for (const sym of ["memcpy", "memset", "memmove", "memcmp", "strlen", "__popcountdi2"]) {
      expect(runtimeSymbols.has(sym), sym).toBe(true);
    }
    for (const opt of MACHINE_LEVELS) {
      const key = `${name(BARE_RUNTIME_C)} -${opt}`;
      expect(failures.get(key), key).toBeUndefined();
      const obj = objects.get(key)!;
      expect(undefinedSymbols(obj), key).toEqual([]);
      // no call at all, and no relocation against one of its own functions (a self-call
      // that gcc's loop-distribution might have produced, e.g. as a tail jump)
      const calls = objdumpInstructions(obj).filter((i) => /^call\b/.test(i.text));
      expect(calls.map((i) => i.text), key).toEqual([]);
      const relocs = execFileSync("objdump", ["-r", "-w", obj], { encoding: "utf8" })
        .split("\n")
        .map((l) => l.trim().split(/\s+/))
        .filter((f) => f.length === 3 && /^[0-9a-f]+$/.test(f[0]!))
        .map((f) => f[2]!.replace(/[-+]0x[0-9a-f]+$/, ""))
        .filter((sym) => runtimeSymbols.has(sym));
      expect(relocs, key).toEqual([]);
    }
  });

  for (const file of programs) {
    it(`${name(file)}: compiles with -Wall -Werror at -O0/-O1/-O2/-O3/-Os and needs only the runtime`, () => {
      for (const opt of MACHINE_LEVELS) {
        const key = `${name(file)} -${opt}`;
        expect(failures.get(key), key).toBeUndefined();
        const missing = undefinedSymbols(objects.get(key)!).filter((s) => !runtimeSymbols.has(s));
        expect(missing, `${key}: undefined symbols not in bare_runtime.c`).toEqual([]);
      }
    });
  }

  it("objdumpInstructions covers every byte of each executable section, contiguously", () => {
    const problems: string[] = [];
    let count = 0;
    for (const file of programs) {
      for (const opt of ["O0", "O2"]) {
        const obj = objects.get(`${name(file)} -${opt}`);
        if (!obj) continue; // reported above
        const where = `${name(file)} -${opt}`;
        const insns = objdumpInstructions(obj);
        count += insns.length;
        if (insns.length === 0) problems.push(`${where}: no instructions`);
        const ends = new Map<string, number>();
        for (const i of insns) {
          const at = `${where} ${i.section}+0x${i.offset.toString(16)}`;
          const expected = ends.get(i.section) ?? 0;
          if (i.offset !== expected) problems.push(`${at}: expected offset 0x${expected.toString(16)}`);
          if (i.length !== i.bytes.length || i.length < 1 || i.length > 15) problems.push(`${at}: length ${i.length}`);
          if (i.text === "" || i.text === "(bad)") problems.push(`${at}: text '${i.text}'`);
          ends.set(i.section, i.offset + i.length);
        }
        const sizes = sectionSizes(obj);
        for (const [section, end] of ends) {
          if (sizes.get(section) !== end) problems.push(`${where} ${section}: ends at ${end}, size ${sizes.get(section)}`);
        }
      }
    }
    expect(problems).toEqual([]);
    expect(count).toBeGreaterThan(10_000);
  });

  it("objdumpInstructions keeps undecodable bytes as '(bad)' entries and handles several sections", () => {
    const s = join(dir, "bad.s");
    const o = join(dir, "bad.o");
    writeFileSync(
      s,
      [
        ".text",
        ".byte 0x0f, 0x0b", // ud2
        ".byte 0xff", // (bad)
        ".byte 0xff, 0x48, 0x0f", // dec DWORD PTR [rax+0xf]
        ".byte 0xc4, 0xc4", // (bad), (bad)
        ".byte 0x66, 0x2e, 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00", // cs nop WORD PTR [rax+rax*1+0x0]
        ".byte 0x00, 0x00, 0x00, 0x00", // two "add BYTE PTR [rax],al" (zeros are not elided)
        '.section .text.two,"ax"',
        "nop",
        "ret",
        "",
      ].join("\n"),
    );
    execFileSync("gcc", ["-c", s, "-o", o]);
    const got = objdumpInstructions(o).map((i) => [i.section, i.offset, i.length, i.text.split(/\s+/)[0]]);
    expect(got).toEqual([
      [".text", 0, 2, "ud2"],
      [".text", 2, 1, "(bad)"],
      [".text", 3, 3, "dec"],
      [".text", 6, 1, "(bad)"],
      [".text", 7, 1, "(bad)"],
      [".text", 8, 10, "cs"],
      [".text", 18, 2, "add"],
      [".text", 20, 2, "add"],
      [".text.two", 0, 1, "nop"],
      [".text.two", 1, 1, "ret"],
    ]);
    expect(objdumpInstructions(o)[2]!.bytes).toEqual([0xff, 0x48, 0x0f]);
  });
});

function sectionSizes(obj: string): Map<string, number> {
  const map = new Map<string, number>();
  for (const line of execFileSync("objdump", ["-h", "-w", obj], { encoding: "utf8" }).split("\n")) {
    const m = /^\s*\d+\s+(\S+)\s+([0-9a-f]+)\s/.exec(line);
    if (m) map.set(m[1]!, parseInt(m[2]!, 16));
  }
  return map;
}
