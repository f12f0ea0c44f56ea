// The IDL compiler's public API (docs/glue-abi.md): compile an .idl file into the C glue
// of the domain side and the TypeScript glue of the kernel side. No Node APIs: the CLI
// reads and writes the files, a browser can call it as it is.

export { compileIdl, checkIdl, type IdlOutput, type IdlOptions, type GeneratedFile } from "./compile.ts";
export { IdlError, formatDiagnostic, type Diagnostic } from "./diagnostics.ts";
export type { CheckedModule, Rpc, Projection, CType, Value, ValueType } from "./types.ts";
