// The corpus on the machine: every program, compiled with the machine's flags at -O0,
// -O1, -O2, -O3 and -Os and run by the bare machine, prints exactly what the native
// build prints and returns the same status. And the decoder agrees with objdump on the
// length of every instruction gcc emitted for the corpus, and knows every one of them.

import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { BareMachine } from "../src/machine/bare.ts";
import { parseElf, findSection } from "../src/machine/elf.ts";
import { decode } from "../src/machine/cpu/decoder.ts";
import { formatInsn } from "../src/machine/cpu/disasm.ts";
import { BARE_RUNTIME_C, compileAndRunNative, listCorpus } from "./helpers/native.ts";
import { buildForMachine, buildKey, programName, MACHINE_LEVELS, type MachineBuild } from "./helpers/machine-build.ts";
import { objdumpInstructions } from "./helpers/objdump.ts";

const programs = listCorpus();
let build: MachineBuild;

beforeAll(async () => {
  build = await buildForMachine([...programs, BARE_RUNTIME_C]);
});

describe("corpus on the machine", () => {
  for (const file of programs) {
    it(`${programName(file)}: same output and status as native at every -O level`, () => {
      const native = compileAndRunNative(file, "O0");
      for (const opt of MACHINE_LEVELS) {
        const key = buildKey(file, opt);
        expect(build.failures.get(key), key).toBeUndefined();
        const objects = [build.objects.get(key)!, build.objects.get(buildKey(BARE_RUNTIME_C, opt))!].map((p) =>
          parseElf(new Uint8Array(readFileSync(p)), p),
        );
        const result = new BareMachine(objects).run(50_000_000);
        expect(result.fault, key).toBeNull();
        expect(result.output, key).toBe(native.stdout);
        expect(result.status! & 0xff, key).toBe(native.status);
      }
    });
  }
});

describe("decoder against objdump", () => {
  it("gives every instruction of the compiled corpus objdump's length, and decodes it", () => {
    const problems: string[] = [];
    const mnemonics = new Set<string>();
    let count = 0;
    for (const [key, path] of build.objects) {
      const elf = parseElf(new Uint8Array(readFileSync(path)), path);
      for (const ins of objdumpInstructions(path)) {
        const data = findSection(elf, ins.section)!.data;
        const mine = decode(data, ins.offset, Math.min(data.length, ins.offset + 15));
        count++;
        const where = `${key} ${ins.section}+0x${ins.offset.toString(16)} (${ins.text})`;
        if (mine.len !== ins.length) problems.push(`${where}: length ${mine.len}, objdump ${ins.length}`);
        else if (!mine.entry) problems.push(`${where}: not decoded`);
        else mnemonics.add(formatInsn(mine).split(" ").filter((w) => !/^(lock|rep|repz|repnz)$/.test(w))[0]);
      }
    }
    expect(problems.slice(0, 30)).toEqual([]);
    expect(count).toBeGreaterThan(50_000);
    expect(mnemonics.size).toBeGreaterThan(60);
  });
});
