// Errors in an IDL file: each one a diagnostic with file:line:column, collected so one
// run reports as many mistakes as it can find (phases stop only where going on would
// produce noise: the checker does not run on a file that did not parse).

import type { Pos } from "./types.ts";

export interface Diagnostic {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  readonly message: string;
}

/** "file:line:column: error: message", the form compilers print and editors link. */
export function formatDiagnostic(d: Diagnostic): string {
  return `${d.file}:${d.line}:${d.column}: error: ${d.message}`;
}

/** Thrown by compileIdl when the file has errors; the CLI prints `message` (one line per diagnostic). */
export class IdlError extends Error {
  constructor(readonly diagnostics: readonly Diagnostic[]) {
    super(diagnostics.map(formatDiagnostic).join("\n"));
    this.name = "IdlError";
  }
}

/** Where a phase reports its diagnostics. */
export class DiagnosticBag {
  readonly list: Diagnostic[] = [];
  constructor(readonly file: string) {}

  error(pos: Pos, message: string): void {
    // One report per place and message: recovery can revisit a spot.
    if (this.list.some((d) => d.line === pos.line && d.column === pos.column && d.message === message)) return;
    this.list.push({ file: this.file, line: pos.line, column: pos.column, message });
  }

  get hasErrors(): boolean {
    return this.list.length > 0;
  }

  sorted(): Diagnostic[] {
    return [...this.list].sort((a, b) => a.line - b.line || a.column - b.column);
  }
}
