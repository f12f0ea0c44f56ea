/* Volatile accesses: loops over volatile counters and arrays (every access
 * must really happen, in order), volatile pointers to a "device register"
 * struct, busy-wait style polling with a countdown, and read-modify-write
 * sequences of different widths. */
#include "lvd_bare.h"

struct fake_dev {
    volatile unsigned int status;
    volatile unsigned int data;
    volatile unsigned short ctrl;
    volatile unsigned char flags;
    volatile unsigned long counter;
};

static struct fake_dev dev;
static volatile unsigned char vbuf[256];
static volatile int vcount;

static unsigned int poll_ready(struct fake_dev *d, int limit)
{
    unsigned int polls = 0;
    /* the "device" becomes ready when the counter crosses a threshold */
    while (!(d->status & 1u)) {
        polls++;
        d->counter = d->counter + 3;
        if (d->counter >= (unsigned long)limit)
            d->status = d->status | 1u;
    }
    return polls;
}

int lvd_main(void)
{
    volatile unsigned long sum = 0;
    for (volatile int i = 0; i < 2000; i++)
        sum = sum + (unsigned long)i * 3;
    lvd_puts("volatile loop sum "); lvd_put_u64(sum); lvd_putc('\n');

    for (int i = 0; i < 256; i++)
        vbuf[i] = (unsigned char)(i ^ 0x5a);
    unsigned int x = 0;
    for (int pass = 0; pass < 4; pass++)
        for (int i = 0; i < 256; i++) {
            vbuf[i] = (unsigned char)(vbuf[i] + vbuf[(i + 1) & 255]);
            x = x * 31 + vbuf[i];
        }
    lvd_puts("volatile buffer hash "); lvd_put_hex(x); lvd_putc('\n');

    dev.status = 0;
    dev.counter = 0;
    unsigned int polls = poll_ready(&dev, 1000);
    lvd_puts("polls "); lvd_put_u64(polls); lvd_puts(" counter "); lvd_put_u64(dev.counter); lvd_putc('\n');

    dev.ctrl = 0;
    dev.flags = 0;
    dev.data = 0;
    for (int i = 0; i < 300; i++) {
        dev.ctrl = (unsigned short)(dev.ctrl + 0x1111);
        dev.flags = (unsigned char)(dev.flags ^ (unsigned char)(1u << (i & 7)));
        dev.data = (dev.data << 1 | dev.data >> 31) ^ dev.ctrl ^ dev.flags;
    }
    lvd_puts("ctrl "); lvd_put_hex(dev.ctrl); lvd_puts(" flags "); lvd_put_hex(dev.flags);
    lvd_puts(" data "); lvd_put_hex(dev.data); lvd_putc('\n');

    /* a countdown that the optimizer may not remove */
    vcount = 5000;
    unsigned int spins = 0;
    while (vcount > 0) {
        vcount = vcount - 1;
        spins++;
    }
    lvd_puts("spins "); lvd_put_u64(spins); lvd_puts(" vcount "); lvd_put_s64(vcount); lvd_putc('\n');

    /* do/while with volatile condition and early exit */
    volatile int k = 0;
    int iters = 0;
    do {
        k = k + 7;
        iters++;
        if (k % 13 == 0)
            break;
    } while (k < 1000);
    lvd_puts("k "); lvd_put_s64(k); lvd_puts(" iters "); lvd_put_s64(iters); lvd_putc('\n');
    return (int)((sum + x + spins) & 0x7f);
}
