// What the kernel's TypeScript charges the vCPU clock for its own work: the one table of
// named kernel costs (DESIGN.md). Everything else a kernel path costs comes from the
// machine code it runs (entry stubs, IRETQ, the MSR/CR/port helpers, HLT) and from the
// exits those take under the hypervisor. The figures estimate what the same work costs
// in Linux on a Haswell-class core (instructions retired by the equivalent C, at about
// one per cycle); they are inputs, not results.

export const KERNEL_COSTS: Readonly<Record<string, number>> = {
  /** Entering kernel TypeScript through a gate: the C prologue and the dispatch to the handler. */
  gate: 10,
  /** Interrupt dispatch: find the handler of a vector, account it (do_IRQ / sysvec glue). */
  irqDispatch: 40,
  /** The timer tick's own work: time keeping, the scheduler tick. */
  tick: 150,
  /** pick_next_task and the bookkeeping of a schedule() that may switch. */
  schedule: 120,
  /** A page from the page allocator; a heap object. */
  pageAlloc: 80,
  kmalloc: 40,
  /** Formatting and storing one console log line (printk without the console write). */
  printk: 300,
  /** Creating a kernel thread (task struct, stack set-up). */
  spawn: 2000,
  /**
   * The kernel glue's work per message word it reads or writes when it serves a domain's
   * RPC (bounds check, load or store, a field of a view in guest memory), as compiled
   * glue would do it in a few instructions.
   */
  glueWord: 3,
  /** Resolving and applying one relocation when loading a module. */
  relocation: 30,
};
