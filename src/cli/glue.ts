// Glue for a driver from its IDL file, on the host: the IDL compiler's C goes into a
// temporary folder (compiled with the driver), its TypeScript is imported as a module
// (Node with tsx: the CLI's way of loading generated kernel glue).

import { mkdtempSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, basename } from "node:path";
import { pathToFileURL } from "node:url";
import { compileIdl } from "../idl/compile.ts";
import type { GlueChannel } from "../idl/glue-runtime.ts";
import type { KernelPath } from "../kernel/thread.ts";
import { CompileError, PROJECT_ROOT } from "./compile.ts";

/** What the kernel calls to serve a domain's RPCs. */
export type RpcServer = (request: bigint[]) => KernelPath<bigint[]>;

export interface HostGlue {
  module: string;
  /** The folder with <module>_glue.h and .c (for -I and for compiling the .c). */
  dir: string;
  cSource: string;
  /** The generated TypeScript module (bindX, call_x, views...). */
  ts: Record<string, unknown>;
  /** bind<Module>(channel, implementation): the kernel's server for the domain's RPCs. */
  bind: (ch: GlueChannel, impl: object) => RpcServer;
}

export async function buildGlue(idlFile: string): Promise<HostGlue> {
  if (!existsSync(idlFile)) throw new CompileError(`${idlFile}: no such file`);
  const dir = mkdtempSync(join(tmpdir(), "lvd-glue-"));
  const out = compileIdl(readFileSync(idlFile, "utf8"), basename(idlFile), {
    runtimeImport: pathToFileURL(join(PROJECT_ROOT, "src", "idl", "glue-runtime.ts")).href,
  });
  for (const f of [out.cHeader, out.cSource, out.ts]) writeFileSync(join(dir, f.name), f.text);
  // An ES module wherever the temporary folder is (no package.json there says so).
  const tsModule = join(dir, out.ts.name.replace(/\.ts$/, ".mts"));
  writeFileSync(tsModule, out.ts.text);
  const ts = (await import(pathToFileURL(tsModule).href)) as Record<string, unknown>;
  const bindName = Object.keys(ts).find((n) => n.startsWith("bind"));
  if (!bindName) throw new CompileError(`${idlFile}: the generated glue has no bind function`);
  return { module: out.module.name, dir, cSource: join(dir, out.cSource.name), ts, bind: ts[bindName] as HostGlue["bind"] };
}
