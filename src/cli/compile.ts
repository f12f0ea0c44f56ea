// Compiling C for the machine with the host's gcc.
//
// Drivers and bare programs are freestanding ring-0 code, compiled like a Linux kernel
// module: no libc, no PIC, the kernel code model (linked in the top 2 GB), no red zone
// (interrupts push onto the current stack), integer registers only, no stack protector.

import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname, basename, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

/** The documented flags for code that runs on the machine (README "Compiling for the machine"). */
export const MACHINE_CFLAGS = [
  "-std=gnu11", "-ffreestanding", "-fno-pic", "-fno-pie", "-mcmodel=kernel", "-mno-red-zone",
  "-mgeneral-regs-only", "-fno-stack-protector", "-fno-asynchronous-unwind-tables", "-nostdlib",
  "-fcf-protection=none", "-Wall",
];

export const INCLUDE_DIR = join(PROJECT_ROOT, "drivers", "include");
export const BARE_RUNTIME = join(PROJECT_ROOT, "drivers", "lib", "bare_runtime.c");

export class CompileError extends Error {}

/** Compiles one C file to an object file; returns its bytes. Throws CompileError with gcc's messages. */
export function compileC(source: string, opts: { opt?: string; extraFlags?: string[]; outDir?: string } = {}): Uint8Array {
  if (!existsSync(source)) throw new CompileError(`${source}: no such file`);
  const outDir = opts.outDir ?? mkdtempSync(join(tmpdir(), "lvd-cc-"));
  const out = join(outDir, basename(source).replace(/\.[cS]$/, "") + ".o");
  const args = ["-c", `-${opts.opt ?? "O2"}`, ...MACHINE_CFLAGS, "-I", INCLUDE_DIR, ...(opts.extraFlags ?? []), "-o", out, source];
  try {
    execFileSync("gcc", args, { stdio: ["ignore", "pipe", "pipe"] });
  } catch (e) {
    const err = e as { stderr?: Buffer; message: string };
    const text = err.stderr?.toString().trim() || err.message;
    throw new CompileError(`gcc failed on ${source}:\n${text}`);
  }
  return new Uint8Array(readFileSync(out));
}

/** The objects of a bare program: the program itself plus the freestanding runtime (memcpy...). */
export function bareProgramObjects(file: string, opt = "O2"): { name: string; bytes: Uint8Array }[] {
  const program = file.endsWith(".c")
    ? { name: basename(file), bytes: compileC(file, { opt }) }
    : { name: basename(file), bytes: readObject(file) };
  return [program, { name: "bare_runtime.o", bytes: compileC(BARE_RUNTIME, { opt: "O2" }) }];
}

export function readObject(file: string): Uint8Array {
  if (!existsSync(file)) throw new CompileError(`${file}: no such file`);
  return new Uint8Array(readFileSync(file));
}

/** The objects of a kernel module: the module (a .c file compiled, or an .o) plus the freestanding runtime. */
export function moduleObjects(file: string, opt = "O2"): { name: string; bytes: Uint8Array }[] {
  return bareProgramObjects(file, opt);
}

export const DOMAIN_LIBRARY = [join(PROJECT_ROOT, "drivers", "lib", "lvd", "domain.c"), join(PROJECT_ROOT, "drivers", "lib", "lvd", "syscalls.c"), join(PROJECT_ROOT, "drivers", "lib", "lvd", "entry.S")];

/**
 * The objects of an isolated driver: the driver (and any extra sources, e.g. its
 * generated glue) plus the domain library and the freestanding runtime. The domain
 * library defines printk, kmalloc and the rest of what a driver may call; anything else
 * must come through glue.
 */
export function domainObjects(file: string, opt = "O2", extra: string[] = [], includes: string[] = []): { name: string; bytes: Uint8Array }[] {
  const flags = includes.flatMap((d) => ["-I", d]);
  const driver = file.endsWith(".c")
    ? { name: basename(file), bytes: compileC(file, { opt, extraFlags: flags }) }
    : { name: basename(file), bytes: readObject(file) };
  const more = [...extra, ...DOMAIN_LIBRARY, BARE_RUNTIME].map((src) => ({
    name: basename(src).replace(/\.[cS]$/, ".o"),
    bytes: compileC(src, { opt: "O2", extraFlags: flags }),
  }));
  return [driver, ...more];
}
