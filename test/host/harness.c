/*
 * harness.c - runs single x86-64 instructions natively for the host-CPU tests.
 *
 * Built by test/host/native.ts (gcc -O1). Reads cases from stdin and writes one result
 * per case to stdout, in the binary formats below (all little-endian).
 *
 * Each case: the instruction bytes go into an RWX code page at the fixed address CODE,
 * at the case's offset, in a page otherwise filled with INT3 (0xCC); the data page at
 * the fixed address DATA is filled from the case's seed (xorshift32, the same stream
 * test/host/cases.ts computes) and patched. lvd_enter loads RFLAGS (POPFQ) and all 16
 * GPRs, RSP included, and jumps to the instruction. Whatever happens next ends in a
 * signal: SIGTRAP from the INT3 after the instruction (or at a branch target), or
 * SIGFPE/SIGSEGV/SIGBUS/SIGILL for an exception the instruction raised. The handler
 * runs on an alternate stack (so RSP may hold any value), copies the interrupted
 * registers from the ucontext and siglongjmps back. Nothing of the harness's own state
 * is reachable from the instruction: memory operands are generated to land in the data
 * page, and the only segment base an instruction may use (GS) points near DATA.
 *
 * Input header (once): nothing. Output header (once, 32 bytes):
 *   "LVDH" u32 version, u64 gs base, u16 selectors es cs ss ds fs gs, u32 pad
 * Case input (176 bytes + 20 per patch):
 *   u8 code_len, u8 npatch, u16 code_off, u32 data_seed, u64 regs[16] (rax..r15),
 *   u64 rflags, u8 code[32], then npatch x { u16 off, u16 len, u8 bytes[16] }
 * Case output (168 bytes + 4 per changed data byte):
 *   u8 kind (0 = reached an INT3, 1 = exception, 2 = timeout, 3 = other signal),
 *   u8 vector, u16 ndiff, u32 error code, u64 regs[16], u64 rip, u64 rflags,
 *   u32 signal, u32 si_code, u64 cr2, then ndiff x { u16 off, u8 value, u8 pad }
 */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>
#include <asm/prctl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>

#define CODE 0x20000000UL
#define DATA 0x10000000UL
#define GS_BASE 0x0F000000UL /* DATA - GS_BASE fits a disp32: GS-relative operands reach DATA */
#define PAGE 4096
#define VERSION 2

uint64_t lvd_in[17]; /* rax..r15, rflags */
uint64_t lvd_entry;

void lvd_enter(void) __attribute__((noreturn));
__asm__(
    ".text\n"
    ".globl lvd_enter\n"
    ".type lvd_enter, @function\n"
    "lvd_enter:\n"
    "  lea lvd_in(%rip), %rax\n"
    "  pushq 128(%rax)\n"
    "  popfq\n"
    "  mov 8(%rax), %rcx\n"
    "  mov 16(%rax), %rdx\n"
    "  mov 24(%rax), %rbx\n"
    "  mov 40(%rax), %rbp\n"
    "  mov 48(%rax), %rsi\n"
    "  mov 56(%rax), %rdi\n"
    "  mov 64(%rax), %r8\n"
    "  mov 72(%rax), %r9\n"
    "  mov 80(%rax), %r10\n"
    "  mov 88(%rax), %r11\n"
    "  mov 96(%rax), %r12\n"
    "  mov 104(%rax), %r13\n"
    "  mov 112(%rax), %r14\n"
    "  mov 120(%rax), %r15\n"
    "  mov 32(%rax), %rsp\n"
    "  mov 0(%rax), %rax\n"
    "  jmp *lvd_entry(%rip)\n"
    ".size lvd_enter, .-lvd_enter\n");

struct result {
    uint8_t kind, vector;
    uint16_t ndiff;
    uint32_t err;
    uint64_t regs[16];
    uint64_t rip, rflags;
    uint32_t sig, si_code;
    uint64_t cr2;
};

static sigjmp_buf jb;
static struct result res;
static const int GREG[16] = {REG_RAX, REG_RCX, REG_RDX, REG_RBX, REG_RSP, REG_RBP, REG_RSI, REG_RDI,
                             REG_R8,  REG_R9,  REG_R10, REG_R11, REG_R12, REG_R13, REG_R14, REG_R15};

static void on_signal(int sig, siginfo_t *si, void *ucv)
{
    ucontext_t *uc = ucv;
    greg_t *g = uc->uc_mcontext.gregs;
    for (int r = 0; r < 16; r++) res.regs[r] = (uint64_t)g[GREG[r]];
    res.rip = (uint64_t)g[REG_RIP];
    res.rflags = (uint64_t)g[REG_EFL];
    res.err = (uint32_t)g[REG_ERR];
    res.sig = (uint32_t)sig;
    res.si_code = (uint32_t)si->si_code;
    res.cr2 = (uint64_t)g[REG_CR2];
    int trapno = (int)g[REG_TRAPNO];
    switch (sig) {
    case SIGTRAP:
        res.kind = trapno == 3 ? 0 : 1;
        res.vector = (uint8_t)trapno;
        break;
    case SIGALRM:
        res.kind = 2;
        res.vector = 0xff;
        break;
    case SIGFPE:
    case SIGILL:
    case SIGSEGV:
    case SIGBUS:
        res.kind = 1;
        res.vector = (uint8_t)trapno;
        break;
    default:
        res.kind = 3;
        res.vector = 0xff;
    }
    siglongjmp(jb, 1);
}

/*
 * A system call made from the code page (a misencoded case could reach SYSCALL or INT 80h
 * with random registers) fails with EPERM instead of running; the harness's own calls,
 * made from libc, are allowed.
 */
static int confine_code_page(void)
{
    struct sock_filter f[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, instruction_pointer) + 4),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 3),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, instruction_pointer)),
        BPF_STMT(BPF_ALU | BPF_AND | BPF_K, ~(uint32_t)(PAGE - 1)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)CODE, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | 1 /* EPERM */),
    };
    struct sock_fprog prog = {.len = sizeof f / sizeof f[0], .filter = f};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return -1;
    return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog);
}

static uint8_t *code, *data;
static uint8_t init_data[PAGE];

static void fill_data(uint32_t seed)
{
    uint32_t x = seed ? seed : 0x9e3779b9u;
    for (int k = 0; k < PAGE; k += 4) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        memcpy(init_data + k, &x, 4);
    }
}

static int read_full(void *buf, size_t n)
{
    uint8_t *p = buf;
    size_t got = 0;
    while (got < n) {
        ssize_t k = read(0, p + got, n - got);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) return got == 0 ? 0 : -1;
        got += (size_t)k;
    }
    return 1;
}

static uint8_t outbuf[1 << 16];
static size_t outlen;

static void out_flush(void)
{
    size_t off = 0;
    while (off < outlen) {
        ssize_t k = write(1, outbuf + off, outlen - off);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) _exit(3);
        off += (size_t)k;
    }
    outlen = 0;
}

static void out(const void *p, size_t n)
{
    if (outlen + n > sizeof outbuf) out_flush();
    memcpy(outbuf + outlen, p, n);
    outlen += n;
}

#pragma pack(push, 1)
struct case_in {
    uint8_t code_len, npatch;
    uint16_t code_off;
    uint32_t data_seed;
    uint64_t regs[16];
    uint64_t rflags;
    uint8_t code[32];
};
struct patch {
    uint16_t off, len;
    uint8_t bytes[16];
};
#pragma pack(pop)

int main(void)
{
    code = mmap((void *)CODE, PAGE, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    data = mmap((void *)DATA, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    if (code != (uint8_t *)CODE || data != (uint8_t *)DATA) {
        fprintf(stderr, "harness: cannot map the fixed code/data pages\n");
        return 2;
    }
    memset(code, 0xcc, PAGE);
    if (syscall(SYS_arch_prctl, ARCH_SET_GS, GS_BASE) != 0) {
        perror("harness: arch_prctl(ARCH_SET_GS)");
        return 2;
    }

    if (confine_code_page() != 0) {
        perror("harness: seccomp");
        return 2;
    }

    stack_t ss = {.ss_sp = malloc(1 << 16), .ss_size = 1 << 16, .ss_flags = 0};
    if (!ss.ss_sp || sigaltstack(&ss, NULL) != 0) {
        perror("harness: sigaltstack");
        return 2;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_signal;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    int sigs[] = {SIGTRAP, SIGFPE, SIGILL, SIGSEGV, SIGBUS, SIGALRM};
    for (unsigned k = 0; k < sizeof sigs / sizeof sigs[0]; k++) sigaction(sigs[k], &sa, NULL);

    /* Header: version, GS base, segment selectors. */
    uint64_t gsbase = 0;
    syscall(SYS_arch_prctl, ARCH_GET_GS, &gsbase);
    uint16_t sel[6];
    __asm__ volatile("mov %%es, %0" : "=r"(sel[0]));
    __asm__ volatile("mov %%cs, %0" : "=r"(sel[1]));
    __asm__ volatile("mov %%ss, %0" : "=r"(sel[2]));
    __asm__ volatile("mov %%ds, %0" : "=r"(sel[3]));
    __asm__ volatile("mov %%fs, %0" : "=r"(sel[4]));
    __asm__ volatile("mov %%gs, %0" : "=r"(sel[5]));
    uint32_t version = VERSION, pad = 0;
    out("LVDH", 4);
    out(&version, 4);
    out(&gsbase, 8);
    out(sel, sizeof sel);
    out(&pad, 4);

    struct case_in c;
    struct patch patches[64];
    for (;;) {
        int r = read_full(&c, sizeof c);
        if (r == 0) break;
        if (r < 0 || c.npatch > 64 || c.code_len > 32 || c.code_off >= PAGE) {
            fprintf(stderr, "harness: bad case record\n");
            return 2;
        }
        if (c.npatch && read_full(patches, sizeof patches[0] * c.npatch) != 1) {
            fprintf(stderr, "harness: truncated patch list\n");
            return 2;
        }
        fill_data(c.data_seed);
        for (int k = 0; k < c.npatch; k++) {
            if (patches[k].len > 16 || patches[k].off + patches[k].len > PAGE) {
                fprintf(stderr, "harness: bad patch\n");
                return 2;
            }
            memcpy(init_data + patches[k].off, patches[k].bytes, patches[k].len);
        }
        /* An instruction may run into the unmapped page after the code page (a fetch #PF). */
        if (c.code_off + c.code_len > PAGE) c.code_len = (uint8_t)(PAGE - c.code_off);
        memcpy(code + c.code_off, c.code, c.code_len);
        memcpy(lvd_in, c.regs, sizeof c.regs);
        lvd_in[16] = c.rflags;
        lvd_entry = CODE + c.code_off;

        /* A timeout is retried once: a busy machine may deschedule the harness for a while. */
        for (int attempt = 0; attempt < 2; attempt++) {
            memcpy(data, init_data, PAGE);
            memset(&res, 0, sizeof res);
            alarm(2);
            if (sigsetjmp(jb, 0) == 0) lvd_enter();
            alarm(0);
            if (res.kind != 2) break;
        }

        memset(code + c.code_off, 0xcc, c.code_len); /* the page is all INT3 again */
        uint16_t ndiff = 0;
        for (int k = 0; k < PAGE; k++) ndiff += data[k] != init_data[k];
        res.ndiff = ndiff;
        out(&res, sizeof res);
        for (int k = 0; k < PAGE; k++) {
            if (data[k] != init_data[k]) {
                uint8_t rec[4] = {(uint8_t)k, (uint8_t)(k >> 8), data[k], 0};
                out(rec, 4);
            }
        }
    }
    out_flush();
    return 0;
}
