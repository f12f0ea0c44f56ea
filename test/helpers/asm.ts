// Assembles Intel-syntax x86-64 text with GNU as into raw bytes (tests only).

import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseElf, findSection } from "../../src/machine/elf.ts";

const cache = new Map<string, Uint8Array>();

/** Bytes of `source` (Intel syntax, one instruction or many, labels allowed), assembled at address 0. */
export function assemble(source: string): Uint8Array {
  const hit = cache.get(source);
  if (hit) return hit;
  const dir = mkdtempSync(join(tmpdir(), "lvd-asm-"));
  try {
    writeFileSync(join(dir, "a.s"), `.intel_syntax noprefix\n.text\n${source}\n`);
    execFileSync("as", ["--64", "-o", join(dir, "a.o"), join(dir, "a.s")], { stdio: "pipe" });
    const elf = parseElf(new Uint8Array(readFileSync(join(dir, "a.o"))), "a.o");
    if (elf.relocations.some((r) => r.target.name === ".text" && r.entries.length > 0)) {
      throw new Error(`assemble: the snippet needs relocations (use labels inside it only)`);
    }
    const bytes = new Uint8Array(findSection(elf, ".text")!.data);
    cache.set(source, bytes);
    return bytes;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
