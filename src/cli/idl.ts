// `lvd idl mydrv.idl -o DIR`: the glue the IDL compiler generates, written out.

import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, join, relative } from "node:path";
import { compileIdl } from "../idl/compile.ts";
import { CompileError, PROJECT_ROOT } from "./compile.ts";

export function writeIdlGlue(file: string, outDir: string): number {
  if (!existsSync(file)) throw new CompileError(`${file}: no such file`);
  mkdirSync(outDir, { recursive: true });
  let runtime = relative(outDir, join(PROJECT_ROOT, "src", "idl", "glue-runtime.ts")).split("\\\\").join("/");
  if (!runtime.startsWith(".")) runtime = "./" + runtime;
  const out = compileIdl(readFileSync(file, "utf8"), basename(file), { runtimeImport: runtime });
  for (const f of [out.cHeader, out.cSource, out.ts]) {
    writeFileSync(join(outDir, f.name), f.text);
    process.stdout.write(`wrote ${join(outDir, f.name)}\n`);
  }
  return 0;
}
