// The lvd command line. Each command lives in its own file; this one wires them up and
// turns errors into a message and a non-zero exit status.

import { Command, InvalidArgumentError } from "commander";
import { runBare } from "./run-bare.ts";
import { runNative } from "./run-native.ts";
import { boot } from "./boot.ts";
import { printTables } from "./tables.ts";
import { interrupts } from "./interrupts.ts";
import { runDomain } from "./run-domain.ts";
import { writeIdlGlue } from "./idl.ts";
import { attackCommand } from "./attack.ts";
import { IdlError } from "../idl/diagnostics.ts";
import { CompileError } from "./compile.ts";
import { ElfError } from "../machine/elf.ts";

function positiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n <= 0) throw new InvalidArgumentError(`'${v}' is not a positive integer`);
  return n;
}

const program = new Command()
  .name("lvd")
  .description("Lightweight Virtualized Domains on an emulated x86-64 computer with VT-x")
  .showHelpAfterError();

program
  .command("run-bare")
  .description("compile (if .c) and run a freestanding program's lvd_main on one vCPU; port 0xE9 output goes to stdout, the return value becomes the exit status")
  .argument("<program>", "a C file or an ELF relocatable object (.o)")
  .option("-O, --opt <level>", "gcc optimisation level for .c files (0, 1, 2, 3, s)", "2")
  .option("--stats", "print instructions executed, modeled cycles, host seconds and MIPS to stderr", false)
  .option("--max-instructions <n>", "stop after this many instructions", positiveInt, 20_000_000_000)
  .action((file: string, o: { opt: string; stats: boolean; maxInstructions: number }) => {
    if (!/^(0|1|2|3|s|fast|g)$/.test(o.opt)) throw new InvalidArgumentError(`-O${o.opt} is not a gcc optimisation level`);
    process.exitCode = runBare(file, { ...o, opt: "O" + o.opt });
  });

function cpuCount(v: string): number {
  const n = positiveInt(v);
  if (n > 64) throw new InvalidArgumentError(`a machine has at most 64 vCPUs, not ${n}`);
  return n;
}

function optLevel(v: string): string {
  if (!/^(0|1|2|3|s|fast|g)$/.test(v)) throw new InvalidArgumentError(`-O${v} is not a gcc optimisation level`);
  return "O" + v;
}

program
  .command("boot")
  .description("boot the kernel, run a threaded workload, late-launch the hypervisor, run it again as a guest, show the exits by reason, shut down")
  .option("--cpus <n>", "vCPUs", cpuCount, 4)
  .option("--seed <n>", "scheduler seed (the same seed gives the same run)", positiveInt, 1)
  .option("--memory <MB>", "machine memory in MB", positiveInt, 64)
  .option("--threads <n>", "workload threads (default: twice the vCPUs)", positiveInt)
  .option("--chunks <n>", "machine-code calls per thread", positiveInt, 4)
  .option("--rounds <n>", "xorshift rounds per call", positiveInt, 50_000)
  .option("--tick <cycles>", "APIC timer period", positiveInt, 100_000)
  .option("--no-launch", "stay native: do not launch the hypervisor")
  .action((o: { cpus: number; seed: number; memory: number; threads?: number; chunks: number; rounds: number; tick: number; launch: boolean }) => {
    process.exitCode = boot({ ...o, memoryMb: o.memory, threads: o.threads ?? 2 * o.cpus });
  });

program
  .command("run")
  .description("boot the kernel, launch the hypervisor and load a driver into an isolated domain: its init runs through a VMFUNC crossing, then its exit; a domain that breaks isolation is killed with the reason")
  .requiredOption("--driver <file>", "the driver: a C file or an ELF relocatable object (.o), linked with the domain library")
  .option("--idl <file>", "the driver's interface: glue for both sides is generated from it")
  .option("--native", "load the same driver as a native kernel module instead", false)
  .option("--starts <n>", "start the domain this many times (a killed domain is started again)", positiveInt, 1)
  .option("--cpus <n>", "vCPUs", cpuCount, 1)
  .option("--seed <n>", "scheduler seed (the same seed gives the same run)", positiveInt, 1)
  .option("-O, --opt <level>", "gcc optimisation level for .c files", optLevel, "O2")
  .option("--memory <MB>", "machine memory in MB", positiveInt, 64)
  .option("--max-instructions <n>", "give up after this many instructions", positiveInt, 2_000_000_000)
  .action(async (o: { driver: string; idl?: string; native: boolean; starts: number; cpus: number; seed: number; opt: string; memory: number; maxInstructions: number }) => {
    process.exitCode = await runDomain(o.driver, { ...o, memoryMb: o.memory });
  });

program
  .command("idl")
  .description("compile an IDL file into the domain's C glue (<module>_glue.h, .c) and the kernel's TypeScript glue (<module>_glue.ts)")
  .argument("<file>", "the .idl file")
  .option("-o, --out <dir>", "where to write the glue", ".")
  .action((file: string, o: { out: string }) => {
    process.exitCode = writeIdlGlue(file, o.out);
  });

program
  .command("tables")
  .description("print the paper's tables beside ours, measured by running the code (Tables 1-4: crossings, sensitive instructions, interrupt delivery, marshaling)")
  .action(async () => {
    process.exitCode = await printTables();
  });

program
  .command("interrupts")
  .description("boot the kernel, launch the hypervisor, start LVD and keep a domain running on every vCPU while timer ticks and IPIs fire: interrupts delivered (inside domains), handled, lost, and the VM exits they caused")
  .option("--count <n>", "stop after this many timer ticks and IPIs handled", positiveInt, 1_000_000)
  .option("--cpus <n>", "vCPUs", cpuCount, 4)
  .option("--tick <cycles>", "APIC timer period", positiveInt, 4000)
  .option("--rounds <n>", "xorshift rounds per domain call", positiveInt, 300)
  .option("--seed <n>", "scheduler seed (the same seed gives the same run)", positiveInt, 1)
  .action((o: { count: number; cpus: number; tick: number; rounds: number; seed: number }) => {
    process.exitCode = interrupts(o);
  });

program
  .command("run-native")
  .description("boot the kernel and load a driver as a native (non-isolated) module: its init runs, then its exit, then the kernel shuts down")
  .requiredOption("--driver <file>", "the driver: a C file (compiled with the machine's flags) or an ELF relocatable object (.o)")
  .option("--cpus <n>", "vCPUs", cpuCount, 1)
  .option("--seed <n>", "scheduler seed (the same seed gives the same run)", positiveInt, 1)
  .option("-O, --opt <level>", "gcc optimisation level for .c files", optLevel, "O2")
  .option("--memory <MB>", "machine memory in MB", positiveInt, 64)
  .option("--max-instructions <n>", "give up after this many instructions", positiveInt, 2_000_000_000)
  .action((o: { driver: string; cpus: number; seed: number; opt: string; memory: number; maxInstructions: number }) => {
    process.exitCode = runNative(o.driver, { ...o, memoryMb: o.memory });
  });

program
  .command("attack")
  .description("run an attack on LVD's defences from a malicious domain beside a bystander domain and kernel threads, and show it is contained (exit status 1 if not)")
  .argument("[names...]", "attacks to run (see --list)")
  .option("--list", "list the attacks: what each tries and what stops it", false)
  .option("--all", "run every attack", false)
  .action((names: string[], o: { list: boolean; all: boolean }) => {
    process.exitCode = attackCommand(names, o);
  });

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof IdlError) {
    process.stderr.write(`${e.message}\n`);
    process.exitCode = 1;
  } else if (e instanceof CompileError || e instanceof ElfError || e instanceof InvalidArgumentError || e instanceof Error) {
    process.stderr.write(`lvd: ${e.message}\n`);
    process.exitCode = 1;
  } else throw e;
}
