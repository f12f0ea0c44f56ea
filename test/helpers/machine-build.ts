// Compiling C files with the machine's flags (what `lvd run-bare` uses, plus -Werror),
// several at once, with a cache keyed by flags, gcc version and the sources' stamps, so
// reruns skip gcc. Failures are reported, never cached.

import { execFile, execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, renameSync, rmSync, statSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { basename, join } from "node:path";
import { promisify } from "node:util";
import { MACHINE_CFLAGS, INCLUDE_DIR } from "../../src/cli/compile.ts";

const execFileAsync = promisify(execFile);

export const MACHINE_LEVELS = ["O0", "O1", "O2", "O3", "Os"];
export const MACHINE_FLAGS = [...MACHINE_CFLAGS, "-Werror"];
const CACHE_DIR = join(tmpdir(), "lvd-corpus-machine-cache");
const JOBS = Math.max(2, availableParallelism());

export const programName = (file: string) => basename(file, ".c");
/** The key of one build: "name -Ox". */
export const buildKey = (file: string, opt: string) => `${programName(file)} -${opt}`;

function stamp(file: string): string {
  const st = statSync(file);
  return `${file}:${st.size}:${st.mtimeMs}`;
}

export async function parallel<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

export interface MachineBuild {
  /** buildKey -> object file path */
  objects: Map<string, string>;
  /** buildKey -> gcc's messages */
  failures: Map<string, string>;
}

/** Compiles every source at every level (in parallel, cached). */
export async function buildForMachine(sources: string[], levels = MACHINE_LEVELS): Promise<MachineBuild> {
  mkdirSync(CACHE_DIR, { recursive: true });
  const gccVersion = execFileSync("gcc", ["--version"], { encoding: "utf8" }).split("\n")[0];
  const header = join(INCLUDE_DIR, "lvd_bare.h");
  const build: MachineBuild = { objects: new Map(), failures: new Map() };
  const jobs = sources.flatMap((file) => levels.map((opt) => ({ file, opt })));
  await parallel(jobs, JOBS, async ({ file, opt }) => {
    const key = buildKey(file, opt);
    const hash = createHash("sha256")
      .update(JSON.stringify([opt, MACHINE_FLAGS, gccVersion, stamp(file), stamp(header)]))
      .digest("hex")
      .slice(0, 20);
    const out = join(CACHE_DIR, `${programName(file)}-${opt}-${hash}.o`);
    if (existsSync(out)) {
      build.objects.set(key, out);
      return;
    }
    const tmp = `${out}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
    try {
      await execFileAsync("gcc", ["-c", `-${opt}`, ...MACHINE_FLAGS, "-I", INCLUDE_DIR, "-o", tmp, file]);
      renameSync(tmp, out);
      build.objects.set(key, out);
    } catch (e) {
      rmSync(tmp, { force: true });
      const err = e as { stderr?: string; message: string };
      build.failures.set(key, err.stderr?.trim() || err.message);
    }
  });
  return build;
}
