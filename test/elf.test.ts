// Tests for the ELF64 parser, relocatable linker and executable loader.
// Fixtures in test/fixtures/elf/ are compiled with the system gcc into a
// temp dir once, then parsed, linked and checked byte by byte.

import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ElfError,
  type ElfFile,
  type ElfRela,
  ET_EXEC,
  ET_REL,
  type LinkedImage,
  linkObjects,
  loadExecutable,
  parseElf,
  R_X86_64_32,
  R_X86_64_32S,
  R_X86_64_GOTPCREL,
  R_X86_64_GOTPCRELX,
  R_X86_64_PLT32,
  R_X86_64_REX_GOTPCRELX,
  SHF_ALLOC,
  SHF_EXECINSTR,
  SHN_COMMON,
  SHN_UNDEF,
  SHT_NOBITS,
  STB_GLOBAL,
  STB_WEAK,
  STT_FUNC,
} from "../src/machine/elf.ts";

const FIXTURES = fileURLToPath(new URL("./fixtures/elf/", import.meta.url));
// The project's driver flags (+ -fcommon so `int x;` becomes a COMMON symbol).
const DRIVER_FLAGS = [
  "-c", "-O2", "-std=gnu11", "-ffreestanding", "-fno-pic", "-fno-pie", "-mcmodel=kernel", "-mno-red-zone",
  "-mgeneral-regs-only", "-fno-stack-protector", "-fno-asynchronous-unwind-tables", "-nostdlib", "-fcommon",
];
const PIC_FLAGS = [
  "-c", "-O2", "-std=gnu11", "-ffreestanding", "-fpic", "-fno-plt", "-mno-red-zone",
  "-mgeneral-regs-only", "-fno-stack-protector", "-fno-asynchronous-unwind-tables", "-nostdlib", "-fcommon",
];
const SMALL_FLAGS = DRIVER_FLAGS.map((f) => (f === "-mcmodel=kernel" ? "-mcmodel=small" : f));

const BASE = -2147483648; // 0xFFFFFFFF80000000
// Pretend kernel exports, above the module.
const KERNEL: Record<string, number> = {
  kprint: BASE + 0x0100_0000,
  kernel_jiffies: BASE + 0x0120_0040,
  ext_small16: 0x1234,
  ext_small8: 0x7f,
};
const resolveKernel = (name: string) => KERNEL[name];

let dir: string;
let bytes: Record<string, Uint8Array>;

function gcc(args: string[]): void {
  execFileSync("gcc", args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
}
function compile(out: string, source: string, flags: string[]): Uint8Array {
  gcc([...flags, join(FIXTURES, source), "-o", join(dir, out)]);
  return new Uint8Array(readFileSync(join(dir, out)));
}
/** A fresh parse of a compiled fixture (callers may mutate copies of the bytes). */
function obj(name: string): ElfFile {
  return parseElf(bytes[name]!, name);
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "lvd-elf-"));
  gcc(["-static", "-nostdlib", "-ffreestanding", "-o", "prog", join(FIXTURES, "prog.c"), "-Wl,-e,lvd_main"]);
  bytes = {
    "main.o": compile("main.o", "main.c", DRIVER_FLAGS),
    "other.o": compile("other.o", "other.c", DRIVER_FLAGS),
    "relocs.o": compile("relocs.o", "relocs.c", DRIVER_FLAGS),
    "small.o": compile("small.o", "main.c", SMALL_FLAGS),
    "pic.o": compile("pic.o", "main.c", PIC_FLAGS),
    "pic-other.o": compile("pic-other.o", "other.c", PIC_FLAGS),
    "pic-norelax.o": compile("pic-norelax.o", "main.c", [...PIC_FLAGS, "-Wa,-mrelax-relocations=no"]),
    prog: new Uint8Array(readFileSync(join(dir, "prog"))),
  };
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

// --- helpers ------------------------------------------------------------------

function viewAt(img: LinkedImage, address: number): DataView {
  expect(address).toBeGreaterThanOrEqual(img.base);
  expect(address).toBeLessThan(img.base + img.size);
  return new DataView(img.image.buffer, img.image.byteOffset + (address - img.base));
}
const read32s = (img: LinkedImage, address: number) => viewAt(img, address).getInt32(0, true);
const read64 = (img: LinkedImage, address: number) => {
  const v = viewAt(img, address);
  return v.getInt32(4, true) * 2 ** 32 + v.getUint32(0, true);
};

/** The relocation in `section` of `file` against `symbol` (the first one). */
function relocFor(file: ElfFile, section: string, symbol: string): ElfRela {
  const rela = file.relocations.find((r) => r.target.name === section);
  const entry = rela?.entries.find((e) => file.symbols[e.symbol]!.name === symbol);
  if (!entry) throw new Error(`no relocation against ${symbol} in ${section}`);
  return entry;
}
function placed(img: LinkedImage, object: string, section: string): { address: number; size: number } {
  const s = img.sections.find((p) => p.object === object && p.name === section);
  if (!s) throw new Error(`${object}:${section} not placed`);
  return s;
}
/** Non-negative remainder (addresses are negative in the upper half). */
const mod = (value: number, m: number) => ((value % m) + m) % m;
function regionOf(img: LinkedImage, address: number): string | undefined {
  return img.regions.find((r) => address >= r.start && address < r.start + r.size)?.perms;
}
function expectElfError(fn: () => unknown, file: string, message: RegExp): void {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(ElfError);
  expect((caught as Error).message.startsWith(`${file}: `)).toBe(true);
  expect((caught as Error).message).toMatch(message);
}

// --- parsing ----------------------------------------------------------------

describe("parseElf", () => {
  it("parses a relocatable object: sections, symbols, relocations", () => {
    const file = obj("main.o");
    expect(file.type).toBe(ET_REL);
    expect(file.machine).toBe(62);
    expect(file.segments).toEqual([]);

    const text = file.sections.find((s) => s.name === ".text")!;
    expect(text.flags & (SHF_ALLOC | SHF_EXECINSTR)).toBe(SHF_ALLOC | SHF_EXECINSTR);
    expect(text.data.length).toBe(text.size);
    expect(text.data.buffer).toBe(bytes["main.o"]!.buffer); // a view, not a copy
    const bss = file.sections.find((s) => s.name === ".bss")!;
    expect(bss.type).toBe(SHT_NOBITS);
    expect(bss.data.length).toBe(0);
    expect(file.sections.some((s) => s.name.startsWith(".rodata.str"))).toBe(true);

    const sym = (name: string) => file.symbols.find((s) => s.name === name)!;
    expect(sym("driver_entry")).toMatchObject({ type: STT_FUNC, binding: STB_GLOBAL, shndx: text.index });
    expect(sym("pick").binding).toBe(STB_WEAK);
    expect(sym("kprint").shndx).toBe(SHN_UNDEF);
    expect(sym("shared_common")).toMatchObject({ shndx: SHN_COMMON, value: 4, size: 4 }); // value = alignment

    const call = relocFor(file, ".text", "helper_add");
    expect(call.type).toBe(R_X86_64_PLT32);
    expect(call.addend).toBe(-4);
    expect(relocFor(file, ".text", "table").type).toBe(R_X86_64_32S);
  });
});

// --- linking (kernel code model) -----------------------------------------------

describe("linkObjects", () => {
  let img: LinkedImage;
  let main: ElfFile;
  const resolved: string[] = [];
  beforeAll(() => {
    main = obj("main.o");
    img = linkObjects([main, obj("other.o"), obj("relocs.o")], {
      base: BASE,
      resolve: (name) => {
        resolved.push(name);
        return resolveKernel(name);
      },
    });
  });
  const sym = (name: string) => {
    const address = img.symbols.get(name);
    if (address === undefined) throw new Error(`${name} not defined`);
    return address;
  };

  it("lays out rx, r and rw regions on page boundaries from base", () => {
    expect(img.base).toBe(BASE);
    expect(img.size).toBe(img.image.length);
    expect(img.regions.map((r) => r.perms)).toEqual(["rx", "r", "rw"]);
    expect(img.regions[0]!.start).toBe(BASE);
    for (const r of img.regions) {
      expect(mod(r.start, 4096)).toBe(0);
      expect(mod(r.size, 4096)).toBe(0);
    }
    const last = img.regions[2]!;
    expect(last.start + last.size).toBe(BASE + img.size);
    for (const s of img.sections) {
      const section = [main, obj("other.o"), obj("relocs.o")]
        .find((f) => f.name === s.object)
        ?.sections.find((x) => x.name === s.name);
      if (section && section.align > 1) expect(mod(s.address, section.align)).toBe(0);
    }
  });

  it("puts symbols in the right regions", () => {
    for (const f of ["driver_entry", "helper_add", "pick", "only_weak", "table_addr"]) expect(regionOf(img, sym(f))).toBe("rx");
    for (const d of ["table", "table_ptr", "greeting", "shared_common", "reloc_table"]) expect(regionOf(img, sym(d))).toBe("rw");
    expect(regionOf(img, img.locals.get("main.o:triple")!)).toBe("rx");
    expect(regionOf(img, img.locals.get("main.o:local_counter")!)).toBe("rw");
    expect(img.symbols.has("kprint")).toBe(false); // external, not defined here
  });

  it("patches PC32/PLT32 calls across objects", () => {
    const text = placed(img, "main.o", ".text");
    const place = text.address + relocFor(main, ".text", "helper_add").offset;
    const opcode = img.image[place - 1 - BASE];
    expect([0xe8, 0xe9]).toContain(opcode); // call or tail-call jmp rel32
    expect(place + 4 + read32s(img, place)).toBe(sym("helper_add"));
    // other.o reads main.o's table[3] via PC32: value = S + A - P, so S = P + value - A.
    const other = obj("other.o");
    const r = relocFor(other, ".text", "table");
    const otherPlace = placed(img, "other.o", ".text").address + r.offset;
    expect(otherPlace + read32s(img, otherPlace) - r.addend).toBe(sym("table"));
  });

  it("writes R_X86_64_64 pointers in .data", () => {
    expect(read64(img, sym("table_ptr"))).toBe(sym("table") + 8);
    const str = read64(img, sym("greeting"));
    expect(regionOf(img, str)).toBe("r");
    const text = new TextDecoder().decode(img.image.subarray(str - BASE, str - BASE + 11));
    expect(text).toBe("hello, lvd\0");
  });

  it("applies R_X86_64_32S with upper-half addresses", () => {
    const place = placed(img, "main.o", ".text").address + relocFor(main, ".text", "table").offset;
    expect(read32s(img, place)).toBe(sym("table") + 4); // sign-extended back to 0xffffffff8...
    expect(sym("table")).toBeLessThan(0);
  });

  it("resolves an undefined weak reference to 0", () => {
    const place = placed(img, "main.o", ".text").address + relocFor(main, ".text", "maybe_missing").offset;
    expect(read32s(img, place)).toBe(0);
  });

  it("prefers a strong definition over a weak one", () => {
    const otherText = placed(img, "other.o", ".text");
    expect(sym("pick")).toBeGreaterThanOrEqual(otherText.address);
    expect(sym("pick")).toBeLessThan(otherText.address + otherText.size);
    const place = placed(img, "main.o", ".text").address + relocFor(main, ".text", "pick").offset;
    expect(place + 4 + read32s(img, place)).toBe(sym("pick"));
    const mainText = placed(img, "main.o", ".text");
    expect(sym("only_weak")).toBeGreaterThanOrEqual(mainText.address);
    expect(sym("only_weak")).toBeLessThan(mainText.address + mainText.size);
  });

  it("allocates merged COMMON symbols in bss", () => {
    const common = sym("shared_common");
    expect(mod(common, 32)).toBe(0); // other.c's long[4] wants 32-byte alignment
    expect(img.image.subarray(common - BASE, common - BASE + 32).every((b) => b === 0)).toBe(true);
    // Nothing else lives inside its 32 merged bytes.
    for (const [name, address] of img.symbols) {
      if (name !== "shared_common") expect(address >= common && address < common + 32).toBe(false);
    }
    const place = placed(img, "main.o", ".text").address + relocFor(main, ".text", "shared_common").offset;
    expect(place + 4 + read32s(img, place)).toBe(common); // addend -4: relative to the next instruction
  });

  it("resolves external symbols through resolve()", () => {
    expect(resolved).toContain("kprint");
    const text = placed(img, "main.o", ".text").address;
    const call = text + relocFor(main, ".text", "kprint").offset;
    expect(call + 4 + read32s(img, call)).toBe(KERNEL.kprint);
    const load = text + relocFor(main, ".text", "kernel_jiffies").offset;
    expect(load + 4 + read32s(img, load)).toBe(KERNEL.kernel_jiffies);
  });

  it("applies PC64, 16, PC16, 8 and PC8 data relocations", () => {
    const table = sym("reloc_table");
    const near = sym("near_target");
    const v = viewAt(img, table);
    expect(read64(img, table)).toBe(near - table);
    expect(v.getUint16(8, true)).toBe(0x1234);
    expect(v.getInt16(10, true)).toBe(near - (table + 10));
    expect(v.getUint8(12)).toBe(0x7f);
    expect(v.getInt8(13)).toBe(near - (table + 13));
  });

  it("maps addresses back to symbol+offset", () => {
    const entry = sym("driver_entry");
    expect(img.symbolAt(entry)).toMatchObject({ name: "driver_entry", offset: 0, label: "driver_entry" });
    expect(img.symbolAt(entry + 5)).toMatchObject({ name: "driver_entry", offset: 5, label: "driver_entry+0x5" });
    expect(img.symbolAt(BASE - 1)).toBeUndefined();
    expect(img.symbolAt(BASE + img.size)).toBeUndefined();
  });
});

describe("linkObjects errors", () => {
  it("names an undefined symbol and the object referencing it", () => {
    expectElfError(() => linkObjects([obj("main.o"), obj("other.o")], { base: BASE }), "main.o", /undefined symbol 'kprint' referenced by main\.o/);
  });

  it("rejects two strong definitions of one name", () => {
    const twice = parseElf(bytes["other.o"]!, "other2.o");
    expectElfError(
      () => linkObjects([obj("main.o"), obj("other.o"), twice], { base: BASE, resolve: resolveKernel }),
      "other2.o",
      /duplicate definition of '\w+': already defined in other\.o/,
    );
  });

  it("reports 32S overflow with symbol, section, offset, type and value", () => {
    const main = obj("main.o");
    const offset = relocFor(main, ".text", "table").offset;
    expectElfError(
      () => linkObjects([main, obj("other.o")], { base: 2 ** 32, resolve: resolveKernel }),
      "main.o",
      new RegExp(`R_X86_64_32S at \\.text\\+0x${offset.toString(16)} against 'table' overflows: value 0x1[0-9a-f]{8} does not fit in signed 32 bits`),
    );
  });

  it("reports 8-bit overflow", () => {
    expectElfError(
      () => linkObjects([obj("relocs.o")], { base: BASE, resolve: (n) => (n === "ext_small8" ? 0x1234 : resolveKernel(n)) }),
      "relocs.o",
      /R_X86_64_8 at \.data\.relocs\+0xc against 'ext_small8' overflows: value 0x1234 does not fit in 8 bits/,
    );
  });

  it("rejects non-relocatable input and unaligned bases", () => {
    expectElfError(() => linkObjects([parseElf(bytes.prog!, "prog")], { base: BASE }), "prog", /not a relocatable object/);
    expect(() => linkObjects([obj("relocs.o")], { base: BASE + 16, resolve: resolveKernel })).toThrow(/not a 4 KB aligned/);
  });
});

// --- other code models ------------------------------------------------------------

describe("R_X86_64_32 (small code model)", () => {
  it("links low and rejects the upper half", () => {
    const small = obj("small.o");
    const r = relocFor(small, ".text", "table");
    expect(r.type).toBe(R_X86_64_32);
    const img = linkObjects([small, obj("other.o")], { base: 0x200000, resolve: resolveKernel });
    const place = placed(img, "small.o", ".text").address + r.offset;
    expect(viewAt(img, place).getUint32(0, true)).toBe(img.symbols.get("table")! + 4);
    expectElfError(
      () => linkObjects([small, obj("other.o")], { base: BASE, resolve: resolveKernel }),
      "small.o",
      /R_X86_64_32 at \.text\+0x[0-9a-f]+ against 'table' overflows: value 0xffffffff8[0-9a-f]+ does not fit in unsigned 32 bits/,
    );
  });
});

describe("GOT relocations (-fpic)", () => {
  for (const [name, types] of [
    ["pic.o", [R_X86_64_GOTPCRELX, R_X86_64_REX_GOTPCRELX]],
    ["pic-norelax.o", [R_X86_64_GOTPCREL]],
  ] as const) {
    it(`builds a GOT for ${types.join("/")} in ${name}`, () => {
      const file = obj(name);
      const img = linkObjects([file, obj("pic-other.o")], { base: BASE, resolve: resolveKernel });
      const got = placed(img, "<linker>", ".got");
      expect(regionOf(img, got.address)).toBe("r");
      const text = placed(img, name, ".text").address;
      const gotRelocs = file.relocations.find((r) => r.target.name === ".text")!.entries.filter((e) => (types as readonly number[]).includes(e.type));
      expect(new Set(gotRelocs.map((e) => e.type))).toEqual(new Set(types));
      const referenced = new Set(gotRelocs.map((e) => file.symbols[e.symbol]!.name));
      expect(got.size).toBe(8 * referenced.size); // one slot per symbol
      for (const e of gotRelocs) {
        const symName = file.symbols[e.symbol]!.name;
        const place = text + e.offset;
        const slot = read32s(img, place) - e.addend + place; // value = G + A - P
        expect(slot).toBeGreaterThanOrEqual(got.address);
        expect(slot).toBeLessThan(got.address + got.size);
        const expected = img.symbols.get(symName) ?? KERNEL[symName] ?? 0; // maybe_missing: weak, 0
        expect(read64(img, slot), symName).toBe(expected);
      }
    });
  }
});

// --- static executables -------------------------------------------------------

describe("loadExecutable", () => {
  it("returns PT_LOAD segments, entry and symbols", () => {
    const file = parseElf(bytes.prog!, "prog");
    expect(file.type).toBe(ET_EXEC);
    const exe = loadExecutable(file);
    expect(exe.entry).toBe(exe.symbols.get("lvd_main"));
    const segmentOf = (address: number) => exe.segments.find((s) => address >= s.vaddr && address < s.vaddr + s.memsz);
    expect(segmentOf(exe.entry)?.perms).toBe("rx");
    const counter = exe.symbols.get("counter")!;
    const rw = segmentOf(counter)!;
    expect(rw.perms).toBe("rw");
    expect(new DataView(rw.data.buffer, rw.data.byteOffset).getInt32(counter - rw.vaddr, true)).toBe(3);
    const banner = exe.symbols.get("banner")!;
    const ro = segmentOf(banner)!;
    expect(ro.perms).toBe("r");
    expect(new TextDecoder().decode(ro.data.subarray(banner - ro.vaddr, banner - ro.vaddr + 4))).toBe("lvd\0");
    for (const s of exe.segments) expect(s.data.length).toBeLessThanOrEqual(s.memsz);
    expect(exe.symbolAt(exe.entry + 2)?.label).toBe("lvd_main+0x2");
  });

  it("rejects relocatable objects", () => {
    expectElfError(() => loadExecutable(obj("main.o")), "main.o", /not a static executable/);
  });
});

// --- malformed input ------------------------------------------------------------

describe("malformed input", () => {
  /** A copy of a fixture with some bytes changed. */
  function patched(name: string, patch: (view: DataView, file: ElfFile) => void): Uint8Array {
    const copy = bytes[name]!.slice();
    patch(new DataView(copy.buffer), parseElf(copy, name));
    return copy;
  }
  const relaText = (file: ElfFile) => file.relocations.find((r) => r.target.name === ".text")!;
  const shoff = (view: DataView) => Number(view.getBigUint64(40, true));

  it("rejects truncated files, headers, section tables and section data", () => {
    const full = bytes["main.o"]!;
    expectElfError(() => parseElf(full.subarray(0, 10), "main.o"), "main.o", /truncated file/);
    expectElfError(() => parseElf(full.subarray(0, 40), "main.o"), "main.o", /truncated header/);
    const off = shoff(new DataView(full.buffer, full.byteOffset));
    expectElfError(() => parseElf(full.subarray(0, off + 10), "main.o"), "main.o", /truncated section table/);
    const bad = patched("main.o", (v) => v.setBigUint64(shoff(v) + 64 + 24, 0xffffffn, true)); // section 1 sh_offset
    expectElfError(() => parseElf(bad, "main.o"), "main.o", /section 1 data out of range/);
  });

  it("rejects bad magic, ELF32, big-endian, wrong machine and unsupported type", () => {
    expectElfError(() => parseElf(patched("main.o", (v) => v.setUint8(1, 0x46)), "m.o"), "m.o", /bad magic/);
    expectElfError(() => parseElf(patched("main.o", (v) => v.setUint8(4, 1)), "m.o"), "m.o", /not ELF64.*ELFCLASS32/);
    expectElfError(() => parseElf(patched("main.o", (v) => v.setUint8(5, 2)), "m.o"), "m.o", /not little-endian/);
    expectElfError(() => parseElf(patched("main.o", (v) => v.setUint16(18, 3, true)), "m.o"), "m.o", /wrong machine EM_386 \(3\)/);
    expectElfError(() => parseElf(patched("main.o", (v) => v.setUint16(16, 3, true)), "m.o"), "m.o", /unsupported type ET_DYN \(3\)/);
  });

  it("rejects unknown and unsupported relocation types at link time", () => {
    const unknown = patched("main.o", (v, f) => v.setUint32(relaText(f).section.offset + 8, 99, true));
    expectElfError(() => linkObjects([parseElf(unknown, "main.o"), obj("other.o")], { base: BASE, resolve: resolveKernel }), "main.o", /unknown relocation type 99 at \.text\+0x/);
    const tls = patched("main.o", (v, f) => v.setUint32(relaText(f).section.offset + 8, 23, true));
    expectElfError(
      () => linkObjects([parseElf(tls, "main.o"), obj("other.o")], { base: BASE, resolve: resolveKernel }),
      "main.o",
      /unsupported relocation type 23 \(R_X86_64_TPOFF32\)/,
    );
  });

  it("rejects a relocation symbol index out of range", () => {
    const bad = patched("main.o", (v, f) => v.setUint32(relaText(f).section.offset + 12, 9999, true));
    expectElfError(() => parseElf(bad, "main.o"), "main.o", /symbol index out of range: \.rela\.text entry 0 refers to symbol 9999/);
  });

  it("rejects a relocation offset out of its section", () => {
    const far = patched("main.o", (v, f) => v.setBigUint64(relaText(f).section.offset, 0x100000n, true));
    expectElfError(() => parseElf(far, "main.o"), "main.o", /relocation offset out of section: \.rela\.text entry 0 patches \.text\+0x100000/);
    // In range for its first byte, but a 4-byte field would run past the end.
    const edge = patched("main.o", (v, f) => {
      const text = f.sections[relaText(f).target.index]!;
      v.setBigUint64(relaText(f).section.offset, BigInt(text.size - 2), true);
    });
    expectElfError(
      () => linkObjects([parseElf(edge, "main.o"), obj("other.o")], { base: BASE, resolve: resolveKernel }),
      "main.o",
      /relocation offset out of section: R_X86_64_PC32 at \.text\+0x[0-9a-f]+ patches 4 bytes/,
    );
  });

  it("rejects string table indices out of range", () => {
    const badName = patched("main.o", (v, f) => {
      const symtab = f.sections.find((s) => s.name === ".symtab")!;
      v.setUint32(symtab.offset + 24, 0xffffff, true); // st_name of symbol 1
    });
    expectElfError(() => parseElf(badName, "main.o"), "main.o", /string table index out of range: symbol 1 name offset 16777215/);
    const badShstrndx = patched("main.o", (v) => v.setUint16(62, 200, true));
    expectElfError(() => parseElf(badShstrndx, "main.o"), "main.o", /string table index out of range: e_shstrndx 200/);
  });
});
