/* A tiny stack-based bytecode interpreter with a switch dispatch loop:
 * arithmetic, comparisons, jumps, calls/returns, locals and a memory area.
 * Runs a few programs: iterative factorial, recursive fibonacci, gcd,
 * sum of primes below 200 and a bubble sort in VM memory. */
#include "lvd_bare.h"

enum {
    OP_HALT, OP_PUSH, OP_POP, OP_DUP, OP_SWAP, OP_OVER,
    OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_MOD, OP_NEG,
    OP_AND, OP_OR, OP_XOR, OP_SHL, OP_SHR,
    OP_EQ, OP_LT, OP_GT, OP_NOT,
    OP_JMP, OP_JZ, OP_JNZ, OP_CALL, OP_RET,
    OP_LOAD, OP_STORE, OP_LDL, OP_STL, OP_PRINT
};

struct vm {
    long stack[256];
    int sp;
    int rstack[64];
    int rsp;
    long mem[64];
    long locals[16];
    unsigned long steps;
    unsigned long printed;
};

static struct vm vm;

static long run(const int *code)
{
    int pc = 0;
    vm.sp = 0;
    vm.rsp = 0;
    vm.steps = 0;
    for (;;) {
        int op = code[pc++];
        long a, b;
        vm.steps++;
        switch (op) {
        case OP_HALT:
            return vm.sp > 0 ? vm.stack[vm.sp - 1] : 0;
        case OP_PUSH: vm.stack[vm.sp++] = code[pc++]; break;
        case OP_POP: vm.sp--; break;
        case OP_DUP: vm.stack[vm.sp] = vm.stack[vm.sp - 1]; vm.sp++; break;
        case OP_SWAP:
            a = vm.stack[vm.sp - 1];
            vm.stack[vm.sp - 1] = vm.stack[vm.sp - 2];
            vm.stack[vm.sp - 2] = a;
            break;
        case OP_OVER: vm.stack[vm.sp] = vm.stack[vm.sp - 2]; vm.sp++; break;
        case OP_ADD: b = vm.stack[--vm.sp]; vm.stack[vm.sp - 1] += b; break;
        case OP_SUB: b = vm.stack[--vm.sp]; vm.stack[vm.sp - 1] -= b; break;
        case OP_MUL: b = vm.stack[--vm.sp]; vm.stack[vm.sp - 1] *= b; break;
        case OP_DIV: b = vm.stack[--vm.sp]; vm.stack[vm.sp - 1] = b ? vm.stack[vm.sp - 1] / b : 0; break;
        case OP_MOD: b = vm.stack[--vm.sp]; vm.stack[vm.sp - 1] = b ? vm.stack[vm.sp - 1] % b : 0; break;
        case OP_NEG: vm.stack[vm.sp - 1] = -vm.stack[vm.sp - 1]; break;
        case OP_AND: b = vm.stack[--vm.sp]; vm.stack[vm.sp - 1] &= b; break;
        case OP_OR: b = vm.stack[--vm.sp]; vm.stack[vm.sp - 1] |= b; break;
        case OP_XOR: b = vm.stack[--vm.sp]; vm.stack[vm.sp - 1] ^= b; break;
        case OP_SHL: b = vm.stack[--vm.sp]; vm.stack[vm.sp - 1] = (long)((unsigned long)vm.stack[vm.sp - 1] << (b & 63)); break;
        case OP_SHR: b = vm.stack[--vm.sp]; vm.stack[vm.sp - 1] >>= (b & 63); break;
        case OP_EQ: b = vm.stack[--vm.sp]; vm.stack[vm.sp - 1] = vm.stack[vm.sp - 1] == b; break;
        case OP_LT: b = vm.stack[--vm.sp]; vm.stack[vm.sp - 1] = vm.stack[vm.sp - 1] < b; break;
        case OP_GT: b = vm.stack[--vm.sp]; vm.stack[vm.sp - 1] = vm.stack[vm.sp - 1] > b; break;
        case OP_NOT: vm.stack[vm.sp - 1] = !vm.stack[vm.sp - 1]; break;
        case OP_JMP: pc = code[pc]; break;
        case OP_JZ: a = vm.stack[--vm.sp]; pc = a ? pc + 1 : code[pc]; break;
        case OP_JNZ: a = vm.stack[--vm.sp]; pc = a ? code[pc] : pc + 1; break;
        case OP_CALL: vm.rstack[vm.rsp++] = pc + 1; pc = code[pc]; break;
        case OP_RET: pc = vm.rstack[--vm.rsp]; break;
        case OP_LOAD: a = vm.stack[vm.sp - 1]; vm.stack[vm.sp - 1] = vm.mem[a & 63]; break;
        case OP_STORE: a = vm.stack[--vm.sp]; b = vm.stack[--vm.sp]; vm.mem[a & 63] = b; break;
        case OP_LDL: vm.stack[vm.sp++] = vm.locals[code[pc++]]; break;
        case OP_STL: vm.locals[code[pc++]] = vm.stack[--vm.sp]; break;
        case OP_PRINT:
            lvd_put_s64(vm.stack[--vm.sp]);
            lvd_putc(' ');
            vm.printed++;
            break;
        default:
            lvd_puts("bad opcode\n");
            return -1;
        }
    }
}

/* --- a tiny assembler: emits code into a buffer, with label fix-ups --- */
static int code[512];
static int ncode;

static void emit(int op) { code[ncode++] = op; }
static void emit2(int op, int arg) { code[ncode++] = op; code[ncode++] = arg; }
static int here(void) { return ncode; }
/* emit a jump with a placeholder target, return the slot to patch */
static int emit_fwd(int op) { code[ncode++] = op; code[ncode++] = -1; return ncode - 1; }
static void patch(int slot) { code[slot] = ncode; }

static void build_fact(int n)
{
    ncode = 0;
    emit2(OP_PUSH, n); emit2(OP_STL, 0);
    emit2(OP_PUSH, 1); emit2(OP_STL, 1);
    int loop = here();
    emit2(OP_LDL, 0);
    int exit_slot = emit_fwd(OP_JZ);
    emit2(OP_LDL, 1); emit2(OP_LDL, 0); emit(OP_MUL); emit2(OP_STL, 1);
    emit2(OP_LDL, 0); emit2(OP_PUSH, 1); emit(OP_SUB); emit2(OP_STL, 0);
    emit2(OP_JMP, loop);
    patch(exit_slot);
    emit2(OP_LDL, 1);
    emit(OP_HALT);
}

/* fib(n) recursive on the data stack */
static void build_fib(int n)
{
    ncode = 0;
    emit2(OP_PUSH, n);
    int call_slot = emit_fwd(OP_CALL);
    emit(OP_HALT);
    int fib = here();
    code[call_slot] = fib;
    emit(OP_DUP); emit2(OP_PUSH, 2); emit(OP_LT);
    int ret_slot = emit_fwd(OP_JNZ);
    emit(OP_DUP); emit2(OP_PUSH, 1); emit(OP_SUB); emit2(OP_CALL, fib);
    emit(OP_SWAP); emit2(OP_PUSH, 2); emit(OP_SUB); emit2(OP_CALL, fib);
    emit(OP_ADD);
    patch(ret_slot);
    emit(OP_RET);
}

/* gcd of several pairs, printing each */
static void build_gcd(void)
{
    static const int pairs[][2] = { { 1071, 462 }, { 832040, 514229 }, { 123456, 7890 },
                                    { 0, 5 }, { 1 << 20, 3 << 12 } };
    ncode = 0;
    int slots[5];
    for (int i = 0; i < 5; i++) {
        emit2(OP_PUSH, pairs[i][0]);
        emit2(OP_PUSH, pairs[i][1]);
        slots[i] = emit_fwd(OP_CALL);
        emit(OP_PRINT);
    }
    emit2(OP_PUSH, 0);
    emit(OP_HALT);
    int gcd = here();
    for (int i = 0; i < 5; i++)
        code[slots[i]] = gcd;
    /* ( a b -- g ): while b: a, b = b, a % b */
    int loop = here();
    emit(OP_DUP);
    int done = emit_fwd(OP_JZ);
    emit(OP_SWAP); emit(OP_OVER); emit(OP_MOD);
    emit2(OP_JMP, loop);
    patch(done);
    emit(OP_POP);
    emit(OP_RET);
}

/* sum of primes below limit by trial division; l0 = n, l1 = d, l2 = sum */
static void build_primes(int limit)
{
    ncode = 0;
    emit2(OP_PUSH, 2); emit2(OP_STL, 0);
    emit2(OP_PUSH, 0); emit2(OP_STL, 2);
    int outer = here();
    emit2(OP_LDL, 0); emit2(OP_PUSH, limit); emit(OP_LT);
    int end = emit_fwd(OP_JZ);
    emit2(OP_PUSH, 2); emit2(OP_STL, 1);
    int inner = here();
    emit2(OP_LDL, 1); emit(OP_DUP); emit(OP_MUL); emit2(OP_LDL, 0); emit(OP_GT);
    int prime = emit_fwd(OP_JNZ);
    emit2(OP_LDL, 0); emit2(OP_LDL, 1); emit(OP_MOD);
    int composite = emit_fwd(OP_JZ);
    emit2(OP_LDL, 1); emit2(OP_PUSH, 1); emit(OP_ADD); emit2(OP_STL, 1);
    emit2(OP_JMP, inner);
    patch(prime);
    emit2(OP_LDL, 2); emit2(OP_LDL, 0); emit(OP_ADD); emit2(OP_STL, 2);
    patch(composite);
    emit2(OP_LDL, 0); emit2(OP_PUSH, 1); emit(OP_ADD); emit2(OP_STL, 0);
    emit2(OP_JMP, outer);
    patch(end);
    emit2(OP_LDL, 2);
    emit(OP_HALT);
}

/* bubble sort of mem[0..n-1] (filled by the host), then a checksum */
static void build_bubble(int n)
{
    ncode = 0;
    /* l0 = i, l1 = j */
    emit2(OP_PUSH, 0); emit2(OP_STL, 0);
    int outer = here();
    emit2(OP_LDL, 0); emit2(OP_PUSH, n - 1); emit(OP_LT);
    int end = emit_fwd(OP_JZ);
    emit2(OP_PUSH, 0); emit2(OP_STL, 1);
    int inner = here();
    emit2(OP_LDL, 1); emit2(OP_PUSH, n - 1); emit2(OP_LDL, 0); emit(OP_SUB); emit(OP_LT);
    int next_i = emit_fwd(OP_JZ);
    /* if mem[j] > mem[j+1] swap */
    emit2(OP_LDL, 1); emit(OP_LOAD);
    emit2(OP_LDL, 1); emit2(OP_PUSH, 1); emit(OP_ADD); emit(OP_LOAD);
    emit(OP_OVER); emit(OP_OVER); emit(OP_GT);
    int noswap = emit_fwd(OP_JZ);
    /* stack: a b ; store b at j, a at j+1 */
    emit2(OP_LDL, 1); emit(OP_STORE);
    emit2(OP_LDL, 1); emit2(OP_PUSH, 1); emit(OP_ADD); emit(OP_STORE);
    int cont = emit_fwd(OP_JMP);
    patch(noswap);
    emit(OP_POP); emit(OP_POP);
    patch(cont);
    emit2(OP_LDL, 1); emit2(OP_PUSH, 1); emit(OP_ADD); emit2(OP_STL, 1);
    emit2(OP_JMP, inner);
    patch(next_i);
    emit2(OP_LDL, 0); emit2(OP_PUSH, 1); emit(OP_ADD); emit2(OP_STL, 0);
    emit2(OP_JMP, outer);
    patch(end);
    /* checksum: h = h * 31 ^ mem[k], k from 0 to n-1, uses shifts and xor */
    emit2(OP_PUSH, 0); emit2(OP_STL, 2);
    emit2(OP_PUSH, 0); emit2(OP_STL, 0);
    int ck = here();
    emit2(OP_LDL, 0); emit2(OP_PUSH, n); emit(OP_LT);
    int ck_end = emit_fwd(OP_JZ);
    emit2(OP_LDL, 2); emit2(OP_PUSH, 5); emit(OP_SHL); emit2(OP_LDL, 2); emit(OP_SUB);
    emit2(OP_LDL, 0); emit(OP_LOAD); emit(OP_XOR);
    emit2(OP_PUSH, 0xffffff); emit(OP_AND); emit2(OP_STL, 2);
    emit2(OP_LDL, 0); emit2(OP_PUSH, 1); emit(OP_ADD); emit2(OP_STL, 0);
    emit2(OP_JMP, ck);
    patch(ck_end);
    emit2(OP_LDL, 2);
    emit(OP_HALT);
}

int lvd_main(void)
{
    long r;
    unsigned long total_steps = 0;
    int ok = 1;

    build_fact(20);
    r = run(code);
    total_steps += vm.steps;
    lvd_puts("fact(20) = "); lvd_put_s64(r); lvd_puts(" steps "); lvd_put_u64(vm.steps); lvd_putc('\n');
    ok &= r == 2432902008176640000l;

    build_fib(13);
    r = run(code);
    total_steps += vm.steps;
    lvd_puts("fib(13) = "); lvd_put_s64(r); lvd_puts(" steps "); lvd_put_u64(vm.steps); lvd_putc('\n');
    ok &= r == 233;

    build_gcd();
    lvd_puts("gcds: ");
    r = run(code);
    total_steps += vm.steps;
    lvd_puts("steps "); lvd_put_u64(vm.steps); lvd_putc('\n');

    build_primes(200);
    r = run(code);
    total_steps += vm.steps;
    lvd_puts("sum of primes < 200 = "); lvd_put_s64(r); lvd_puts(" steps "); lvd_put_u64(vm.steps); lvd_putc('\n');
    ok &= r == 4227;

    unsigned int seed = 99;
    for (int i = 0; i < 24; i++) {
        seed = seed * 1103515245u + 12345u;
        vm.mem[i] = (long)((seed >> 16) % 2001u) - 1000;
    }
    build_bubble(24);
    r = run(code);
    total_steps += vm.steps;
    lvd_puts("bubble checksum = "); lvd_put_s64(r); lvd_puts(" steps "); lvd_put_u64(vm.steps); lvd_putc('\n');
    for (int i = 0; i < 24; i++) {
        lvd_put_s64(vm.mem[i]);
        lvd_putc(i == 23 ? '\n' : ' ');
        if (i > 0 && vm.mem[i - 1] > vm.mem[i])
            ok = 0;
    }
    lvd_puts("code size "); lvd_put_u64((unsigned long)ncode);
    lvd_puts(" total steps "); lvd_put_u64(total_steps);
    lvd_puts(" printed "); lvd_put_u64(vm.printed);
    lvd_puts(ok ? " ok\n" : " FAILED\n");
    return ok ? (int)(total_steps & 0x7f) : 255;
}
