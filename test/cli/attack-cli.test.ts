// `npx lvd attack`: lists the attacks, runs one for a user to watch, exits 0 when it was contained.

import { describe, it, expect } from "vitest";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { PROJECT_ROOT } from "../../src/cli/compile.ts";

const lvd = (...args: string[]) => spawnSync(process.execPath, [join(PROJECT_ROOT, "bin", "lvd.mjs"), ...args], { encoding: "utf8", cwd: PROJECT_ROOT });

describe("lvd attack", () => {
  it("--list names every attack with what it tries and what stops it", () => {
    const r = lvd("attack", "--list");
    expect(r.status).toBe(0);
    for (const name of ["vmfunc", "trampoline", "rogue-stack", "other-ist", "stack-exhaustion", "watchdog", "sti", "int", "ipi", "exceptions", "nmi"]) {
      expect(r.stdout).toMatch(new RegExp(`^${name} `, "m"));
    }
    expect(r.stdout).toContain("stopped by:");
  });

  it("runs an attack: the kernel's kill lines, each step contained, the checks, exits by reason; status 0", () => {
    const r = lvd("attack", "sti");
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/lvd: domain attacker killed: turned interrupts on \(STI\) inside the domain: interrupt 32/);
    expect(r.stdout).toMatch(/^ {3}contained {2}STI, spin: killed \(turned interrupts on/m);
    expect(r.stdout).toContain("checks: canary page intact, bystander answered 2 + 3 = 5, kernel threads finished");
    expect(r.stdout).toMatch(/VM exits by reason: .*IO_INSTRUCTION \d+/);
  });

  it("an unknown attack is an error (status 1)", () => {
    const r = lvd("attack", "no-such-attack");
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("no attack 'no-such-attack'");
  });
});
