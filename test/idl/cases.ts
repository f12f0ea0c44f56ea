// The IDL files whose generated glue is kept as baselines (test/idl/baselines/<module>/),
// and how the tests regenerate, compile and typecheck it.
//
// To accept new output after changing the compiler: LVD_UPDATE_BASELINES=1 npx vitest run test/idl

import { readFileSync, writeFileSync, mkdirSync, existsSync } from "node:fs";
import { join, dirname } from "node:path";
import { compileIdl, type IdlOutput } from "../../src/idl/compile.ts";
import { PROJECT_ROOT } from "../../src/cli/compile.ts";

export interface IdlCase {
  /** The .idl file, relative to the repository. */
  readonly idl: string;
  /** Folders with the headers the module names (its `header` lines). */
  readonly includes: readonly string[];
}

export const CASES: readonly IdlCase[] = [
  { idl: "idl/dummy.idl", includes: ["idl"] },
  { idl: "idl/ksplit_marshal.idl", includes: [] },
  { idl: "idl/nullnet.idl", includes: [] },
  { idl: "test/idl/cases/roundtrip.idl", includes: [] },
];

export const BASELINES = join(PROJECT_ROOT, "test", "idl", "baselines");
/** The runtime as imported from test/idl/baselines/<module>/. */
export const RUNTIME_IMPORT = "../../../../src/idl/glue-runtime.ts";
export const UPDATE = process.env.LVD_UPDATE_BASELINES === "1";

export function generate(c: IdlCase): IdlOutput {
  const file = join(PROJECT_ROOT, c.idl);
  return compileIdl(readFileSync(file, "utf8"), c.idl.split("/").pop()!, { runtimeImport: RUNTIME_IMPORT });
}

/** The baseline folder of a generated module. */
export function baselineDir(out: IdlOutput): string {
  return join(BASELINES, out.module.name);
}

export function readBaseline(path: string): string | null {
  return existsSync(path) ? readFileSync(path, "utf8") : null;
}

export function writeBaseline(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
}
