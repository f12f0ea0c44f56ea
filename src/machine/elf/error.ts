/**
 * Every problem the ELF parser, linker or loader finds is reported as an
 * ElfError whose message starts with the file name, so a user loading
 * several modules can tell which one is broken.
 */
export class ElfError extends Error {
  /** Name of the file (or object) the problem is in. */
  readonly file: string;

  constructor(file: string, problem: string) {
    super(`${file}: ${problem}`);
    this.name = "ElfError";
    this.file = file;
  }
}
