// The kernel-side glue runtime: everything generated TypeScript glue imports, in one
// module (docs/glue-abi.md, Runtime API). The kernel implements GlueChannel for each
// domain (crossing with the LVD trampolines); the rest is here, free of Node APIs.

export * from "./wire.ts";
export type { GlueChannel, GlueMemory, GlueResult, Box, KernelPath } from "./runtime/channel.ts";
export { GlueError } from "./runtime/glue-error.ts";
export { WordReader, WordWriter, packInts, unpackInts, type IntArray } from "./runtime/words.ts";
export { GlueCSpace, type CSpace } from "./runtime/cspace.ts";
export {
  loadInt, storeInt, loadInt64, storeInt64, loadBool, storeBool, loadPtr, storePtr, loadString, storeString,
  loadArray, storeArray, loadTerminated, storeArrayPointer, loadCString, copyString, copyArray, MAX_STRING,
} from "./runtime/objects.ts";
export {
  allocObjects, objectsCount, objectViews, loadRefs, storeRefs, copyRefs, freeObjects, replaceObjects,
} from "./runtime/object-arrays.ts";
export { nameOf, objectOf, dropObject, type View, type ViewClass, type RefMode } from "./runtime/refs.ts";
export {
  settle, serve, errorReply, callDomain, trampoline, functionWord, functionAddress, memberIndex, checkMember, sizeDiv,
  type DomainFunction,
} from "./runtime/calls.ts";
