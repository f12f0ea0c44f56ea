// The IDL compiler's entry point: one .idl file in, the domain's C glue (a header and a
// source file) and the kernel's TypeScript glue out (docs/glue-abi.md). The phases run in
// order; errors from a phase stop the ones after it.

import { DiagnosticBag, IdlError, type Diagnostic } from "./diagnostics.ts";
import { tokenize } from "./lexer.ts";
import { parse } from "./parser.ts";
import { check } from "./checker.ts";
import { emitCHeader } from "./emit-c-header.ts";
import { emitC } from "./emit-c.ts";
import { emitTs } from "./emit-ts.ts";
import type { CheckedModule } from "./types.ts";

export interface GeneratedFile {
  readonly name: string;
  readonly text: string;
}

export interface IdlOutput {
  readonly module: CheckedModule;
  /** <module>_glue.h: shared by the glue and the driver. */
  readonly cHeader: GeneratedFile;
  /** <module>_glue.c: the domain's stubs and dispatcher. */
  readonly cSource: GeneratedFile;
  /** <module>_glue.ts: the kernel's stubs, views and callers. */
  readonly ts: GeneratedFile;
}

export interface IdlOptions {
  /**
   * The import specifier of src/idl/glue-runtime.ts as seen from where the TypeScript
   * output will live (default: "../../src/idl/glue-runtime.ts", right for a folder two
   * levels below the repository's root).
   */
  readonly runtimeImport?: string;
}

/** Parses and checks an IDL file; the module, or the errors (never throws for bad input). */
export function checkIdl(source: string, fileName: string): { module: CheckedModule | null; diagnostics: Diagnostic[] } {
  const diags = new DiagnosticBag(fileName);
  const tokens = tokenize(source, diags);
  const syntax = parse(tokens, diags);
  if (!syntax || diags.hasErrors) return { module: null, diagnostics: diags.sorted() };
  const module = check(syntax, fileName, diags);
  return diags.hasErrors ? { module: null, diagnostics: diags.sorted() } : { module, diagnostics: [] };
}

/** Compiles an IDL file to glue; throws IdlError (all diagnostics, file:line:column) when it has errors. */
export function compileIdl(source: string, fileName: string, options: IdlOptions = {}): IdlOutput {
  const { module, diagnostics } = checkIdl(source, fileName);
  if (!module) throw new IdlError(diagnostics);
  const base = `${module.name}_glue`;
  const headerName = `${base}.h`;
  return {
    module,
    cHeader: { name: headerName, text: emitCHeader(module, headerName) },
    cSource: { name: `${base}.c`, text: emitC(module, headerName, `${base}.c`) },
    ts: { name: `${base}.ts`, text: emitTs(module, `${base}.ts`, options.runtimeImport ?? "../../src/idl/glue-runtime.ts") },
  };
}
