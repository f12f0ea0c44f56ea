// Each defence of LVD attacked by a malicious domain (drivers/attacks/attacker.c), and
// contained: the attacker killed with the expected reason (or unharmful where the attack
// is a no-op), the kernel memory it aimed at unchanged (a canary page, the other vCPU's IST
// stacks, no IPI delivered), a bystander domain still answering, kernel threads on every
// vCPU finishing with the right results, no hypervisor incident. The scenarios and checks
// are src/cli/attack.ts's, which `npx lvd attack` runs for a user to watch.

import { describe, it, expect } from "vitest";
import { ATTACKS, runAttack, type AttackOutcome } from "../../src/cli/attack.ts";

function attack(name: string): AttackOutcome {
  const a = ATTACKS.find((x) => x.name === name);
  if (!a) throw new Error(`no attack ${name}`);
  const r = runAttack(a);
  expect(r.failures).toEqual([]);
  expect(r.steps.length).toBeGreaterThan(0);
  expect(r.steps.every((s) => s.ok)).toBe(true);
  expect(r.contained).toBe(true);
  return r;
}
const killed = (r: AttackOutcome) => r.steps.map((s) => s.killed);

describe("attacks on LVD's defences are contained", () => {
  it("(a) VMFUNC in the domain's own code: ECX 0 faults in EPT_K (Inv 1), ECX 1 is a no-op, an invalid index exits", () => {
    const r = attack("vmfunc");
    expect(killed(r)[0]).toMatch(/^executed VMFUNC in its own code: #PF in the kernel's EPT at RIP 0xffffffffc[0-9a-f]+ <attacker:lvd_dispatch\+0x[0-9a-f]+>/);
    expect(killed(r)[1]).toMatch(/^executed VMFUNC in its own code/);
    expect(killed(r)[2]).toBeNull();
    expect(r.steps[2].reply![1]).toBe(1n);
    expect(killed(r)[3]).toMatch(/^VMFUNC exit at RIP .*detail 2$/);
  });

  it("(b) a jump to each VMFUNC of the crossing code with the wrong ECX: the check aborts into the hypervisor", () => {
    const r = attack("trampoline");
    expect(r.steps.map((s) => s.label.split(" ")[0])).toEqual(["lvd_enter_domain", "lvd_domain_return", "lvd_springboard", "lvd_springboard_return"]);
    expect(killed(r).map((k) => k!.match(/detail (\d)$/)![1])).toEqual(["1", "2", "2", "3"]);
  });

  it("(c) the rogue stack: RSP at a kernel canary, a jump to the springboard's VMFUNC just before a tick; the frame goes on the IST, never on the canary", () => {
    const r = attack("rogue-stack");
    const hit = killed(r).filter((k) => /^jumped into the crossing code: interrupt 32 in the kernel's EPT at RIP 0x[0-9a-f]+ <lvd_springboard\+0x9>, RSP 0xffff888/.test(k!));
    expect(hit.length).toBeGreaterThan(0); // the interrupt landed right after the VMFUNC, RSP the rogue one
    expect(killed(r).some((k) => k!.startsWith("entered the springboard past its CLI"))).toBe(true); // and the runs it missed
  });

  it("(d) writing the other vCPU's IST stacks: not in this vCPU's EPT_I, an EPT violation", () => {
    const r = attack("other-ist");
    expect(r.steps).toHaveLength(5);
    for (const k of killed(r)) expect(k).toMatch(/^EPT violation at RIP .*, linear 0xffffc9[0-9a-f]+040$/);
  });

  it("(e) kernel stack exhaustion by recursive crossings: the recursing domain is killed, every crossing of the chain fails, the thread lives", () => {
    const r = attack("stack-exhaustion");
    expect(killed(r)[0]).toMatch(/^kernel stack exhausted: \d+ bytes left, \d{2,} crossing\(s\) deep on vCPU 0$/);
    expect(r.notes.some((n) => /nesting afterwards 0,0$/.test(n))).toBe(true);
  });

  it("(f) CLI and an endless loop: the hypervisor's watchdog", () => {
    const r = attack("watchdog");
    expect(killed(r)[0]).toMatch(/^watchdog at RIP 0xffffffffc[0-9a-f]+ <attacker:/);
    expect(r.exits.get("PREEMPTION_TIMER") ?? 0).toBeGreaterThanOrEqual(2);
  });

  it("(g) STI in a domain entered with interrupts off", () => {
    expect(killed(attack("sti"))[0]).toMatch(/^turned interrupts on \(STI\) inside the domain: interrupt 32/);
  });

  it("(h) INT n for vectors 0-31, 0x20, 0x80, 0xFD, 0xFF: killed, except INT 2, which the NMI handler takes as an NMI", () => {
    const r = attack("int");
    expect(r.steps).toHaveLength(36);
    expect(r.steps.filter((s) => s.killed === null).map((s) => s.label)).toEqual(["INT 0x2"]);
    expect(killed(r)[14]).toMatch(/^exception #PF/); // an error-code vector: the frame is a word short, the entry copes
    expect(killed(r)[32]).toMatch(/^raised vector 32 with INT n/);
  });

  it("(i) an IPI through the xAPIC's ICR (#PF) and the x2APIC's (WRMSR exits): none delivered", () => {
    const r = attack("ipi");
    expect(killed(r)[0]).toMatch(/^exception #PF .*address 0xffff8880fee00300$/);
    expect(killed(r)[1]).toMatch(/^sensitive exit outside the kernel/);
  });

  it("(j) exceptions inside the domain: #DE, #UD, #GP, #PF, #BP", () => {
    const r = attack("exceptions");
    expect(killed(r).map((k) => k!.split(" ")[1])).toEqual(["#DE", "#UD", "#GP", "#PF", "#BP"]);
  });

  it("(k) an NMI while the domain spins is handled exitlessly; the domain completes", () => {
    const r = attack("nmi");
    expect(r.steps[0].killed).toBeNull();
    expect(r.steps[0].reply![1]).toBeGreaterThan(0n);
    expect(r.notes).toContain("nmi: handled 1, taken inside the domain: domain, NMI exits 0");
  });

  it("(l) a user-mode VMFUNC on the vCPU a domain just ran on: slot 1 is invalid outside a crossing, so it exits and the thread is stopped", () => {
    const r = attack("user-vmfunc");
    expect(r.notes[0]).toMatch(/^user VMFUNC 1: hypervisor upcall: VMFUNC .*exit reason 59/);
    expect(r.notes[1]).toMatch(/^user VMFUNC 0: unhandled exception #UD/);
  });
});
