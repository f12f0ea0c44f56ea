// Baselines of generated glue, like the TypeScript compiler's: each IDL in cases.ts is
// compiled and its C header, C source and TypeScript compared with the committed files
// (LVD_UPDATE_BASELINES=1 rewrites them). The committed C must build with the machine's
// flags and -Werror; the committed TypeScript must typecheck (it is also part of
// `tsc -p .`, being under test/).

import { describe, it, expect } from "vitest";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import ts from "typescript";
import { CASES, UPDATE, baselineDir, generate, readBaseline, writeBaseline } from "./cases.ts";
import { INCLUDE_DIR, MACHINE_CFLAGS, PROJECT_ROOT } from "../../src/cli/compile.ts";
import { Layouts } from "../../src/idl/layout.ts";

describe("generated glue matches its baselines", () => {
  for (const c of CASES) {
    it(c.idl, () => {
      const out = generate(c);
      const dir = baselineDir(out);
      for (const f of [out.cHeader, out.cSource, out.ts]) {
        const path = join(dir, f.name);
        if (UPDATE) writeBaseline(path, f.text);
        const baseline = readBaseline(path);
        expect(baseline, `${path} is missing: run LVD_UPDATE_BASELINES=1 npx vitest run test/idl`).not.toBeNull();
        expect(f.text, `${f.name} differs from its baseline (LVD_UPDATE_BASELINES=1 accepts the new output)`).toBe(baseline);
      }
    });
  }
});

describe("generated C builds with the machine's flags and -Werror", () => {
  for (const c of CASES) {
    for (const opt of ["-O0", "-O2"]) {
      it(`${c.idl} at ${opt}`, () => {
        const out = generate(c);
        const dir = baselineDir(out);
        const tmp = mkdtempSync(join(tmpdir(), "lvd-idl-cc-"));
        try {
          const includes = [INCLUDE_DIR, dir, ...c.includes.map((i) => join(PROJECT_ROOT, i))].flatMap((i) => ["-I", i]);
          execFileSync("gcc", ["-c", opt, ...MACHINE_CFLAGS, "-Werror", ...includes, "-o", join(tmp, "glue.o"), join(dir, out.cSource.name)], { stdio: "pipe" });
        } catch (e) {
          throw new Error(`gcc failed:\n${(e as { stderr?: Buffer }).stderr?.toString() ?? e}`);
        } finally {
          rmSync(tmp, { recursive: true, force: true });
        }
      });
    }
  }
});

describe("the kernel lays out objects as gcc lays out the generated structs", () => {
  for (const c of CASES) {
    const out = generate(c);
    if (out.module.headers.length > 0) continue; // the driver's own header defines them
    it(c.idl, () => {
      const layouts = new Layouts();
      const asserts = out.module.cTypes.flatMap((t) => {
        const l = layouts.of(t);
        const name = `${t.kind} ${t.tag}`;
        return [
          `_Static_assert(sizeof(${name}) == ${l.size}, "sizeof(${name})");`,
          ...l.fields.map((f) => `_Static_assert(offsetof(${name}, ${f.name}) == ${f.offset}, "offsetof(${name}, ${f.name})");`),
        ];
      });
      const tmp = mkdtempSync(join(tmpdir(), "lvd-idl-layout-"));
      try {
        const file = join(tmp, "layout.c");
        writeFileSync(file, `#include "${out.cHeader.name}"\n#define offsetof(t, f) __builtin_offsetof(t, f)\n${asserts.join("\n")}\n`);
        execFileSync("gcc", ["-c", ...MACHINE_CFLAGS, "-Werror", "-I", INCLUDE_DIR, "-I", baselineDir(out), "-o", join(tmp, "layout.o"), file], { stdio: "pipe" });
      } catch (e) {
        throw new Error(`gcc disagrees:\n${(e as { stderr?: Buffer }).stderr?.toString() ?? e}`);
      } finally {
        rmSync(tmp, { recursive: true, force: true });
      }
    });
  }
});

describe("generated TypeScript typechecks (strict, with the TypeScript API)", () => {
  it("all baselines", () => {
    const files = CASES.map((c) => {
      const out = generate(c);
      return join(baselineDir(out), out.ts.name);
    });
    const program = ts.createProgram(files, {
      strict: true,
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      allowImportingTsExtensions: true,
      noEmit: true,
      skipLibCheck: true,
      noImplicitOverride: true,
      types: [],
    });
    const diagnostics = ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n") + (d.file ? ` (${d.file.fileName})` : ""));
    expect(diagnostics).toEqual([]);
  });
});
