// Page permissions shared by the relocatable linker (regions of the linked
// image) and the executable loader (PT_LOAD segments).

/** Read+execute, read-only, or read+write. Writable+executable is refused (W^X). */
export type Perms = "rx" | "r" | "rw";

/** Permissions for memory that is (not) writable / executable; undefined for W+X. */
export function permsFor(writable: boolean, executable: boolean): Perms | undefined {
  if (writable && executable) return undefined;
  if (executable) return "rx";
  return writable ? "rw" : "r";
}
