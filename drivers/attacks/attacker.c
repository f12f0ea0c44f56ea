/*
 * A malicious isolated driver: one RPC_PTR per attack on LVD's defences (reference §5, §7).
 * test/lvd/attacks.test.ts and `npx lvd attack <name>` (src/cli/attack.ts) create it as a
 * domain beside a well-behaved one, call one attack, and check it was contained: the
 * domain killed with the reason, the kernel's memory unchanged, the bystander and the
 * kernel's threads unaffected. The kernel passes what the attack needs (kernel
 * addresses, the tick period) as message words; an attacker would find them anyway.
 *
 * Every attack that works as designed never returns: the domain is killed in the middle
 * of it. The comment on each says what it tries and what stops it.
 */
#include <lvd/domain.h>

/* The RPC_PTR indices (src/cli/attack.ts ATTACK_RPC mirrors them). */
enum {
	VMFUNC_OWN_CODE = 1,
	TRAMPOLINE_VMFUNC = 2,
	ROGUE_STACK = 3,
	POKE = 4,
	RECURSE = 5,
	CLI_SPIN = 6,
	STI_SPIN = 7,
	INT_N = 8,
	WRMSR = 9,
	EXCEPTION = 10,
	SPIN = 11,
};

/*
 * VMFUNC_OWN_CODE(ecx, with_message): the VMFUNC byte sequence (0F 01 D4) in the domain's
 * own code, with EAX 0 (EPTP switching) and ECX the EPTP-list index: 0 is the kernel's
 * EPT. With `with_message` the message registers hold a message as the kernel's
 * trampoline would load them (an INIT header, kernel-looking words).
 * What stops it: Inv 1. The switch itself succeeds, but the next instruction is fetched
 * from the domain's window, which the kernel's page tables do not map: a #PF in EPT_K,
 * which the exitless entry reports as a domain's registers in the kernel's EPT (kill).
 * ECX 1 is the domain's own EPT (a no-op: it returns 1). Any other index is not a valid
 * EPTP-list entry: VMFUNC exits to the hypervisor, which upcalls the kernel (kill).
 */
static u64 vmfunc_own_code(u64 ecx, u64 with_message) {
	if (with_message) {
		register u64 r8 __asm__("r8") = 0xffff888000100000ull;
		register u64 r9 __asm__("r9") = 0xffff888000100008ull;
		register u64 r10 __asm__("r10") = 0;
		register u64 r11 __asm__("r11") = 0;
		register u64 r12 __asm__("r12") = 0;
		__asm__ volatile("vmfunc"
				 : "+c"(ecx), "+r"(r8), "+r"(r9), "+r"(r10), "+r"(r11), "+r"(r12)
				 : "a"(0), "D"(LVD_HEADER(LVD_KIND_INIT, 0, 1)), "S"(0xffff888000100000ull),
				   "d"(0xffff888000100010ull)
				 : "memory");
	} else {
		__asm__ volatile("vmfunc" : "+c"(ecx) : "a"(0) : "memory");
	}
	return 1; /* still here: the index was the domain's own EPT */
}

/*
 * TRAMPOLINE_VMFUNC(address, ecx): interrupts off (so no interrupt decides the outcome),
 * then a jump straight to one of the crossing code's VMFUNC instructions (the trampoline
 * page is executable in the domain's EPT: it has to be) with the wrong index in ECX.
 * What stops it: the check after every VMFUNC in trampoline.S. ECX is not the index that
 * VMFUNC meant to switch to, so the code calls the ABORT hypercall (from whichever EPT is
 * active); the hypervisor upcalls the kernel, which kills the domain.
 */
static void trampoline_vmfunc(u64 address, u64 ecx) {
	__asm__ volatile("cli\n\txor %%eax, %%eax\n\tjmp *%0" : : "r"(address), "c"(ecx) : "rax", "memory");
	__builtin_unreachable();
}

/*
 * ROGUE_STACK(address, rsp, period, lead): the rogue-stack attack of reference §7. RSP
 * pointed at writable kernel memory (a canary page), ECX 0, then a jump to a VMFUNC of
 * the crossing code into the kernel's EPT, timed to land `lead` cycles before the next
 * timer interrupt: the domain finds a tick (a gap in RDTSC while it spins is the
 * interrupt being handled), waits one period minus `lead`, and jumps. If the interrupt
 * lands right after the VMFUNC, a CPU that pushed its frame on the current stack would
 * write it over the canary, in the kernel's EPT.
 * What stops it: every vector is delivered on an IST stack (the CPU switches stacks
 * whatever RSP holds), and the entry finds a domain's registers in EPT_K at the crossing
 * code (kill: "jumped into the crossing code: interrupt 32 in the kernel's EPT"). When
 * no interrupt lands in time, the springboard's gate finds interrupts on past its CLI
 * (kill).
 */
#define TICK_GAP 300 /* cycles: more than one iteration of the loop below, less than an interrupt */
static void rogue_stack(u64 address, u64 rsp, u64 period, u64 lead) {
	u64 prev = rdtsc(), now;
	for (;;) {
		now = rdtsc();
		if (now - prev > TICK_GAP)
			break;
		prev = now;
	}
	u64 when = prev + period - lead;
	while (rdtsc() < when)
		;
	__asm__ volatile("mov %0, %%rsp\n\txor %%eax, %%eax\n\txor %%ecx, %%ecx\n\tjmp *%1"
			 : : "r"(rsp), "r"(address) : "rax", "rcx", "memory");
	__builtin_unreachable();
}

/*
 * POKE(address, value): a plain store. Aimed at another vCPU's IST stack (mapped in that
 * vCPU's EPT_I only, so no domain here can corrupt a frame an interrupt is about to
 * IRETQ from), or at the local APIC's ICR (xAPIC MMIO, to send an IPI).
 * What stops it: the IST page is in the domain's page table but not in this vCPU's
 * EPT_I: an EPT violation, upcall, kill. The APIC page is in neither: a #PF, kill.
 */
static void poke(u64 address, u64 value) {
	*(volatile u32 *)address = (u32)value;
	*(volatile u64 *)address = value;
}

/*
 * RECURSE(): kernel stack exhaustion. The domain calls the kernel (RPC 0), whose handler
 * calls the domain back (RECURSE again, as a kernel callback through a function pointer
 * would), forever. Each level costs the kernel a crossing frame on its stack; the domain
 * side runs on a large stack of its own (so the domain's stacks are not what runs out).
 * What stops it: lvd.call checks the kernel stack has KERNEL_STACK_RESERVE bytes left
 * before entering a domain; the recursing domain is killed and every crossing of the
 * chain fails with DomainKilled.
 */
#define RECURSE_STACK (1u << 20)
static char *recurse_stack;
static u64 recurse_depth;

static void recurse_into_kernel(void) {
	struct lvd_msg m = {{LVD_HEADER(LVD_KIND_RPC, 0, 2), ++recurse_depth}};
	lvd_call_kernel(&m);
}

static void recurse(void) {
	u64 rsp;
	__asm__ volatile("mov %%rsp, %0" : "=r"(rsp));
	if (rsp >= (u64)recurse_stack && rsp < (u64)recurse_stack + RECURSE_STACK) {
		recurse_into_kernel(); /* a nested entry: already on the big stack */
		return;
	}
	/* The first level: switch to the big stack, call, switch back. */
	__asm__ volatile("mov %%rsp, %%rbx\n\tmov %0, %%rsp\n\tcall *%1\n\tmov %%rbx, %%rsp"
			 : : "r"(recurse_stack + RECURSE_STACK), "r"(recurse_into_kernel)
			 : "rax", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "rbx", "memory");
}

/*
 * CLI_SPIN(): interrupts off, then an endless loop: the domain never gives the CPU back
 * ("LVD never exits"), and no timer interrupt can reach the kernel.
 * What stops it: the hypervisor's watchdog (the VMX-preemption timer runs whatever IF
 * says); two expiries with a domain's EPT active and the kernel's progress counter
 * unchanged: upcall, kill.
 */
static void cli_spin(void) {
	__asm__ volatile("cli\n1:\tjmp 1b" : : : "memory");
	__builtin_unreachable();
}

/*
 * STI_SPIN(cycles): the kernel entered the domain with interrupts off (it was in a
 * section that must not be interrupted); the domain turns them on and spins long enough
 * for the timer to fire.
 * What stops it: the crossing records IF; an interrupt arriving in a domain whose
 * crossing was entered with IF 0 means the domain turned them on: kill.
 */
static void sti_spin(u64 cycles) {
	__asm__ volatile("sti" : : : "memory");
	u64 until = rdtsc() + cycles;
	while (rdtsc() < until)
		;
}

/*
 * INT_N(vector): a software interrupt (INT imm8, CD ib) through the kernel's IDT, which
 * the domain must be able to use (its EPT maps it: interrupts arrive there).
 * Vectors 0-31 pose as exceptions, 32-255 as device interrupts or IPIs (0x20 the timer,
 * 0xFD reschedule, 0xFF spurious), 0x80 as a system call.
 * What stops it: an exception (0-31) raised in a domain kills it; for 32-255 the kernel
 * asks the local APIC whether the vector is in service (a real interrupt is; INT n never
 * is): kill. INT 2 reaches the NMI handler, which cannot tell it from a real NMI: it is
 * handled as one (nothing but a count) and the domain goes on, unharmed and harmless.
 * Vectors whose exceptions push an error code (8, 10-14, 17, 21, 29, 30) get a frame
 * without one from INT n: the kill reason's RIP is then a word off (CS).
 */
__asm__(".pushsection .text\n"
	"\t.balign 16\n"
	"int_n_table:\n"
	"\tvector = 0\n"
	"\t.rept 256\n"
	"\t.balign 8\n"
	"\t.byte 0xcd, vector\n"
	"\tret\n"
	"\tvector = vector + 1\n"
	"\t.endr\n"
	"\t.popsection\n");
extern char int_n_table[];

static void int_n(u64 vector) {
	void (*stub)(void) = (void (*)(void))(int_n_table + 8 * (vector & 0xff));
	__asm__ volatile("call *%0" : : "r"(stub) : "memory");
}

/*
 * WRMSR(msr, value): a sensitive instruction, e.g. the x2APIC ICR (MSR 0x830) to send an
 * IPI to another vCPU.
 * What stops it: every WRMSR exits to the hypervisor, which serves only the kernel's EPT:
 * a sensitive exit outside the kernel, upcall, kill.
 */
static void wrmsr(u64 msr, u64 value) {
	__asm__ volatile("wrmsr" : : "c"((u32)msr), "a"((u32)value), "d"((u32)(value >> 32)) : "memory");
}

/*
 * EXCEPTION(which): 0 #DE (divide by zero), 1 #UD (UD2), 2 #GP (a non-canonical address),
 * 3 #PF (a user-space address: the domain's page table maps none), 4 #BP (INT3, CC).
 * (#AC needs CPL 3 with CR0.AM and RFLAGS.AC; a domain runs at CPL 0, where alignment is
 * never checked.)
 * What stops it: a synchronous exception inside a domain kills it (reference §5).
 */
static u64 exception(u64 which) {
	volatile u64 zero = 0;
	u64 r = 0;
	switch (which) {
	case 0:
		__asm__ volatile("div %2" : "=a"(r), "+d"(zero) : "r"(zero), "a"(1ull));
		break;
	case 1:
		__asm__ volatile("ud2");
		break;
	case 2:
		r = *(volatile u64 *)0x8000000000000000ull;
		break;
	case 3: /* the lower half (user space): not in the domain's page table */
		r = *(volatile u64 *)0x1000;
		break;
	case 4:
		__asm__ volatile("int3");
		break;
	}
	return r;
}

/* SPIN(cycles): a well-behaved busy loop (the NMI test delivers an NMI while it runs); returns the iterations. */
static u64 spin(u64 cycles) {
	u64 n = 0, until = rdtsc() + cycles;
	while (rdtsc() < until)
		n++;
	return n;
}

int lvd_dispatch(struct lvd_msg *m) {
	u64 index = LVD_HEADER_INDEX(m->w[0]);
	u64 *w = m->w;
	switch (index) {
	case VMFUNC_OWN_CODE:
		w[1] = vmfunc_own_code(w[1], w[2]);
		break;
	case TRAMPOLINE_VMFUNC:
		trampoline_vmfunc(w[1], w[2]);
		break;
	case ROGUE_STACK:
		rogue_stack(w[1], w[2], w[3], w[4]);
		break;
	case POKE:
		poke(w[1], w[2]);
		break;
	case RECURSE:
		recurse();
		w[1] = recurse_depth;
		break;
	case CLI_SPIN:
		cli_spin();
		break;
	case STI_SPIN:
		sti_spin(w[1]);
		break;
	case INT_N:
		int_n(w[1]);
		break;
	case WRMSR:
		wrmsr(w[1], w[2]);
		break;
	case EXCEPTION:
		w[1] = exception(w[1]);
		break;
	case SPIN:
		w[1] = spin(w[1]);
		break;
	default:
		w[0] = LVD_HEADER(LVD_KIND_ERROR, index, 2);
		w[1] = LVD_ERR_MESSAGE;
		return -1;
	}
	w[0] = LVD_HEADER(LVD_KIND_REPLY, 0, 2);
	return 0;
}

static int init(void) {
	recurse_stack = lvd_alloc_pages(RECURSE_STACK / 4096);
	return recurse_stack ? 0 : -1;
}
module_init(init);
