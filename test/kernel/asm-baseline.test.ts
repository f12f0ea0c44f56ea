import { describe, it, expect } from "vitest";
import { readFileSync } from "node:fs";
import { kernelAsmSources, assembleKernelAsm, generatedModule, generatedPath } from "../../tools/build-kernel-asm.ts";

describe("the kernel's machine code", () => {
  for (const source of kernelAsmSources()) {
    it(`${source} matches its generated module (else: npm run build:kernel-asm)`, () => {
      expect(readFileSync(generatedPath(source), "utf8")).toBe(generatedModule(source, assembleKernelAsm(source)));
    });
  }
});
