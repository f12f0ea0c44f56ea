/*
 * native_main.c - user-space harness for running a bare LVD program natively.
 *
 * Linked with a program compiled with -DLVD_NATIVE (so its lvd_putc calls
 * lvd_native_putc) and drivers/lib/bare_runtime.c.  main() calls lvd_main(),
 * flushes the buffered output to fd 1 and exits with (status & 0xff), the
 * same status the emulated machine reports.
 */
#include <unistd.h>

int lvd_main(void);
void lvd_native_putc(char c);

static char out_buf[4096];
static unsigned out_len;

static void out_flush(void)
{
    unsigned off = 0;
    while (off < out_len) {
        ssize_t n = write(1, out_buf + off, out_len - off);
        if (n <= 0)
            _exit(120);
        off += (unsigned)n;
    }
    out_len = 0;
}

void lvd_native_putc(char c)
{
    if (out_len == sizeof out_buf)
        out_flush();
    out_buf[out_len++] = c;
}

int main(void)
{
    int status = lvd_main();
    out_flush();
    return status & 0xff;
}
