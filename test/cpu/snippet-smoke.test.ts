import { describe, it, expect } from "vitest";
import { snippet, DATA } from "../helpers/snippet.ts";
import { RAX, RBX } from "../../src/machine/cpu/cpu.ts";

describe("snippet machine", () => {
  it("runs straight-line code to the final HLT", () => {
    const s = snippet("mov eax, 5\nadd eax, 7\nmov rbx, 0x123456789abcdef0");
    s.run();
    expect(s.cpu.lo[RAX]).toBe(12);
    expect(s.cpu.reg64(RBX)).toBe(0x123456789abcdef0);
    expect(s.faultVector()).toBe(-1);
  });
  it("stops in the handler of an exception with vector and error code", () => {
    const s = snippet(`mov rax, ${DATA + 0x2000000}\nmov [rax], rax`);
    s.run();
    expect(s.faultVector()).toBe(14);
    expect(s.faultError()).toBe(2); // not present, write, supervisor
    expect(s.cpu.cr2).toBe(DATA + 0x2000000);
  });
});
