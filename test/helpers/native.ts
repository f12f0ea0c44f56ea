// Native (user-space) builds of the bare test programs in test/corpus, for reference output.
//
// A corpus program is freestanding C that defines `int lvd_main(void)` and prints through
// drivers/include/lvd_bare.h. Built with -DLVD_NATIVE its lvd_putc calls lvd_native_putc,
// which test/helpers/native_main.c implements (buffered write(2) to stdout); that harness's
// main() returns lvd_main() & 0xff as the exit status. The program is linked with the
// harness and drivers/lib/bare_runtime.c (memcpy, memset, ..., __popcountdi2, which take
// precedence over libc's), all compiled at the requested -O level with the code-generation
// flags of the machine build that matter for behaviour (freestanding, integer registers
// only, no stack protector) but the normal user-space code model.
//
// Everything is cached in $TMPDIR/lvd-native-cache: the runtime and harness objects per
// -O level, and each binary keyed by the program's path, the -O level, the flags, and the
// size and mtime of the program, the header, the runtime and the harness. Reruns only
// execute.

import { execFile, execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const execFileAsync = promisify(execFile);

export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
/** The directory of the bare test programs (absolute). */
export const CORPUS_DIR = join(PROJECT_ROOT, "test", "corpus");
export const BARE_INCLUDE_DIR = join(PROJECT_ROOT, "drivers", "include");
export const BARE_HEADER = join(BARE_INCLUDE_DIR, "lvd_bare.h");
export const BARE_RUNTIME_C = join(PROJECT_ROOT, "drivers", "lib", "bare_runtime.c");
export const NATIVE_HARNESS_C = join(PROJECT_ROOT, "test", "helpers", "native_main.c");
export const NATIVE_CACHE_DIR = join(tmpdir(), "lvd-native-cache");

/** gcc flags of a native build (besides -O<level>, -I and the sources). */
export const NATIVE_CFLAGS: readonly string[] = [
  "-std=gnu11",
  "-DLVD_NATIVE",
  "-ffreestanding",
  "-mgeneral-regs-only",
  "-fno-stack-protector",
  "-fcf-protection=none",
];

/** The corpus programs: absolute paths of test/corpus/*.c, sorted by name. */
export function listCorpus(): string[] {
  return readdirSync(CORPUS_DIR)
    .filter((f) => f.endsWith(".c"))
    .sort()
    .map((f) => join(CORPUS_DIR, f));
}

/** "O2", "-O2" and "2" all mean -O2; also accepts s, g, fast, z. */
export function normalizeOptLevel(optLevel: string): string {
  const m = /^-?O?([0-3sgz]|fast)$/.exec(optLevel);
  if (!m) throw new Error(`bad optimization level '${optLevel}' (expected e.g. O0, O2, Os)`);
  return `O${m[1]}`;
}

function stamp(file: string): string {
  const st = statSync(file);
  return `${file}:${st.size}:${st.mtimeMs}`;
}

function cacheKey(parts: unknown[]): string {
  return createHash("sha256").update(JSON.stringify(parts)).digest("hex").slice(0, 20);
}

function tempOut(path: string): string {
  return `${path}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
}

function gccFailure(src: string, opt: string, e: unknown): Error {
  const err = e as { stderr?: Buffer | string; message: string };
  const text = err.stderr?.toString().trim() || err.message;
  return new Error(`native gcc -${opt} failed on ${src}:\n${text}`);
}

// Each output is written under a temporary name and renamed into place, so concurrent
// builders of the same cached file (e.g. parallel test workers) are harmless.

function cachedGccSync(out: string, src: string, opt: string, args: (tmp: string) => string[]): void {
  if (existsSync(out)) return;
  const tmp = tempOut(out);
  try {
    execFileSync("gcc", args(tmp), { stdio: ["ignore", "pipe", "pipe"] });
  } catch (e) {
    rmSync(tmp, { force: true });
    throw gccFailure(src, opt, e);
  }
  renameSync(tmp, out);
}

async function cachedGccAsync(out: string, src: string, opt: string, args: (tmp: string) => string[]): Promise<void> {
  if (existsSync(out)) return;
  const tmp = tempOut(out);
  try {
    await execFileAsync("gcc", args(tmp), { maxBuffer: 16 << 20 });
  } catch (e) {
    rmSync(tmp, { force: true });
    throw gccFailure(src, opt, e);
  }
  renameSync(tmp, out);
}

interface Plan {
  src: string;
  opt: string;
  bin: string;
  /** [source, object] of the shared parts (runtime, harness), compiled once per level. */
  parts: [string, string][];
}

function plan(cFile: string, optLevel: string): Plan {
  const src = resolve(cFile);
  if (!existsSync(src)) throw new Error(`${src}: no such file`);
  const opt = normalizeOptLevel(optLevel);
  mkdirSync(NATIVE_CACHE_DIR, { recursive: true });
  const parts = [BARE_RUNTIME_C, NATIVE_HARNESS_C].map((part): [string, string] => [
    part,
    join(NATIVE_CACHE_DIR, `${basename(part, ".c")}-${opt}-${cacheKey([opt, NATIVE_CFLAGS, stamp(part), stamp(BARE_HEADER)])}.o`),
  ]);
  const key = cacheKey([opt, NATIVE_CFLAGS, stamp(src), stamp(BARE_HEADER), ...parts.map(([, o]) => o)]);
  return { src, opt, bin: join(NATIVE_CACHE_DIR, `${basename(src, ".c")}-${opt}-${key}`), parts };
}

const compileArgs = (p: Plan, src: string) => (out: string) => ["-c", `-${p.opt}`, ...NATIVE_CFLAGS, "-I", BARE_INCLUDE_DIR, "-o", out, src];
const linkArgs = (p: Plan) => (out: string) => [`-${p.opt}`, ...NATIVE_CFLAGS, "-I", BARE_INCLUDE_DIR, "-o", out, p.src, ...p.parts.map(([, o]) => o)];

/** Builds (or finds in the cache) the native binary of a corpus program; returns its path. */
export function buildNative(cFile: string, optLevel: string): string {
  const p = plan(cFile, optLevel);
  if (existsSync(p.bin)) return p.bin;
  for (const [src, obj] of p.parts) cachedGccSync(obj, src, p.opt, compileArgs(p, src));
  cachedGccSync(p.bin, p.src, p.opt, linkArgs(p));
  return p.bin;
}

const partBuilds = new Map<string, Promise<void>>(); // shared-part object -> its build, in this process

/** Like buildNative, but asynchronous (lets a test build many programs in parallel). */
export async function buildNativeAsync(cFile: string, optLevel: string): Promise<string> {
  const p = plan(cFile, optLevel);
  if (existsSync(p.bin)) return p.bin;
  for (const [src, obj] of p.parts) {
    let build = partBuilds.get(obj);
    if (!build) partBuilds.set(obj, (build = cachedGccAsync(obj, src, p.opt, compileArgs(p, src))));
    await build;
  }
  await cachedGccAsync(p.bin, p.src, p.opt, linkArgs(p));
  return p.bin;
}

/**
 * Compiles a corpus program natively at the given -O level (cached) and runs it.
 * Returns its standard output and exit status (lvd_main's value & 0xff). Throws if it
 * does not compile, is killed by a signal, or runs longer than 20 s.
 */
export function compileAndRunNative(cFile: string, optLevel: string): { stdout: string; status: number } {
  const bin = buildNative(cFile, optLevel);
  const r = spawnSync(bin, [], { encoding: "latin1", timeout: 20_000, maxBuffer: 64 << 20, stdio: ["ignore", "pipe", "pipe"] });
  if (r.error) throw new Error(`${basename(cFile)} (-${normalizeOptLevel(optLevel)}): ${r.error.message}`);
  if (r.status === null) {
    throw new Error(`${basename(cFile)} (-${normalizeOptLevel(optLevel)}) was killed by ${r.signal}; stderr: ${r.stderr}`);
  }
  return { stdout: r.stdout, status: r.status };
}
