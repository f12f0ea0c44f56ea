/* Integer matrix arithmetic: multiplication (naive i-j-k and cache-friendly
 * i-k-j, checked against each other), transpose, power by squaring modulo
 * a prime (fibonacci via 2x2 matrices), determinant by fraction-free
 * Bareiss elimination, and a trace/checksum of the results. */
#include "lvd_bare.h"

#define N 20

static int A[N][N], B[N][N];
static long C1[N][N], C2[N][N];

static void mul_ijk(void)
{
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) {
            long s = 0;
            for (int k = 0; k < N; k++)
                s += (long)A[i][k] * B[k][j];
            C1[i][j] = s;
        }
}

static void mul_ikj(void)
{
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++)
            C2[i][j] = 0;
    for (int i = 0; i < N; i++)
        for (int k = 0; k < N; k++) {
            long a = A[i][k];
            for (int j = 0; j < N; j++)
                C2[i][j] += a * B[k][j];
        }
}

typedef struct {
    unsigned long m[2][2];
} mat2;

static mat2 mat2_mul(mat2 a, mat2 b, unsigned long p)
{
    mat2 r;
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 2; j++)
            r.m[i][j] = (a.m[i][0] * b.m[0][j] % p + a.m[i][1] * b.m[1][j] % p) % p;
    return r;
}

static unsigned long fib_mod(unsigned long n, unsigned long p)
{
    mat2 result = { { { 1, 0 }, { 0, 1 } } };
    mat2 base = { { { 1, 1 }, { 1, 0 } } };
    while (n) {
        if (n & 1)
            result = mat2_mul(result, base, p);
        base = mat2_mul(base, base, p);
        n >>= 1;
    }
    return result.m[0][1];
}

/* Bareiss: exact integer determinant for small matrices */
static long det_bareiss(long m[6][6], int n)
{
    long sign = 1, prev = 1;
    for (int k = 0; k < n - 1; k++) {
        if (m[k][k] == 0) {
            int r = k + 1;
            while (r < n && m[r][k] == 0)
                r++;
            if (r == n)
                return 0;
            for (int c = 0; c < n; c++) {
                long t = m[k][c];
                m[k][c] = m[r][c];
                m[r][c] = t;
            }
            sign = -sign;
        }
        for (int i = k + 1; i < n; i++)
            for (int j = k + 1; j < n; j++)
                m[i][j] = (m[i][j] * m[k][k] - m[i][k] * m[k][j]) / prev;
        prev = m[k][k];
    }
    return sign * m[n - 1][n - 1];
}

int lvd_main(void)
{
    unsigned int s = 17;
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) {
            s = s * 1103515245u + 12345u;
            A[i][j] = (int)((s >> 16) % 2001u) - 1000;
            s = s * 1103515245u + 12345u;
            B[i][j] = (int)((s >> 16) % 201u) - 100;
        }
    mul_ijk();
    mul_ikj();
    int same = 1;
    long trace = 0;
    unsigned long h = 0;
    for (int i = 0; i < N; i++) {
        trace += C1[i][i];
        for (int j = 0; j < N; j++) {
            if (C1[i][j] != C2[i][j])
                same = 0;
            h = h * 1000003u ^ (unsigned long)C1[i][j];
        }
    }
    lvd_puts("product same="); lvd_put_u64((unsigned long)same);
    lvd_puts(" trace="); lvd_put_s64(trace);
    lvd_puts(" hash="); lvd_put_hex(h);
    lvd_putc('\n');
    lvd_puts("C[0][0..4]=");
    for (int j = 0; j < 5; j++) {
        lvd_put_s64(C1[0][j]);
        lvd_putc(' ');
    }
    lvd_puts("C[19][19]="); lvd_put_s64(C1[N - 1][N - 1]); lvd_putc('\n');

    /* (AB)^T == B^T A^T, checked on one element row */
    long t_sum = 0;
    for (int j = 0; j < N; j++) {
        long v = 0;
        for (int k = 0; k < N; k++)
            v += (long)B[k][3] * A[j][k];
        if (v != C1[j][3])
            same = 0;
        t_sum += v;
    }
    lvd_puts("transpose column sum="); lvd_put_s64(t_sum); lvd_putc('\n');

    const unsigned long p = 1000000007ul;
    lvd_puts("fib mod p:");
    static const unsigned long ns[] = { 1, 2, 10, 50, 90, 1000, 123456789, 1000000000000ul };
    for (unsigned i = 0; i < sizeof ns / sizeof ns[0]; i++) {
        lvd_putc(' ');
        lvd_put_u64(fib_mod(ns[i], p));
    }
    lvd_putc('\n');

    long m[6][6];
    for (int n = 1; n <= 6; n++) {
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
                m[i][j] = (long)((i * 7 + j * 3 + i * j) % 11) - 5 + (i == j ? n : 0);
        long d = det_bareiss(m, n);
        lvd_puts("det"); lvd_put_u64((unsigned long)n); lvd_putc('=');
        lvd_put_s64(d);
        lvd_putc(n == 6 ? '\n' : ' ');
    }
    /* Hilbert-like integer matrix: determinant of Vandermonde(1..5) = prod(j-i) = 288 */
    for (int i = 0; i < 5; i++) {
        long v = 1;
        for (int j = 0; j < 5; j++) {
            m[i][j] = v;
            v *= i + 1;
        }
    }
    long vd = det_bareiss(m, 5);
    lvd_puts("vandermonde det="); lvd_put_s64(vd); lvd_putc('\n');
    return same && vd == 288 ? 0 : 1;
}
