/* A hash table with separate chaining over a static node pool: string keys
 * built on the fly, insert / update / lookup / delete, rehash into a bigger
 * bucket array, and statistics of chain lengths. */
#include "lvd_bare.h"

#define POOL 800

struct node {
    struct node *next;
    unsigned int hash;
    int value;
    char key[16];
};

static struct node pool[POOL];
static struct node *free_list;
static struct node *buckets_a[64], *buckets_b[256];
static struct node **buckets = buckets_a;
static unsigned int nbuckets = 64;
static unsigned int count;

static void pool_init(void)
{
    free_list = 0;
    for (int i = POOL - 1; i >= 0; i--) {
        pool[i].next = free_list;
        free_list = &pool[i];
    }
}

static struct node *node_alloc(void)
{
    struct node *n = free_list;
    if (n)
        free_list = n->next;
    return n;
}

static void node_free(struct node *n)
{
    n->next = free_list;
    free_list = n;
}

static unsigned int hash_str(const char *s)
{
    unsigned int h = 2166136261u;
    while (*s) {
        h ^= (unsigned char)*s++;
        h *= 16777619u;
    }
    return h;
}

static int str_eq(const char *a, const char *b)
{
    while (*a && *a == *b) {
        a++;
        b++;
    }
    return *a == *b;
}

static void str_cpy(char *d, const char *s)
{
    while ((*d++ = *s++) != 0)
        ;
}

static void make_key(char *out, unsigned int i)
{
    char tmp[12];
    int n = 0;
    out[0] = 'k';
    out[1] = (char)('a' + i % 26);
    do {
        tmp[n++] = (char)('0' + i % 10);
        i /= 10;
    } while (i);
    int p = 2;
    while (n)
        out[p++] = tmp[--n];
    out[p] = 0;
}

static struct node *lookup(const char *key)
{
    unsigned int h = hash_str(key);
    for (struct node *n = buckets[h & (nbuckets - 1)]; n; n = n->next)
        if (n->hash == h && str_eq(n->key, key))
            return n;
    return 0;
}

static int insert(const char *key, int value)
{
    struct node *n = lookup(key);
    if (n) {
        n->value = value;
        return 0;
    }
    n = node_alloc();
    if (!n)
        return -1;
    n->hash = hash_str(key);
    n->value = value;
    str_cpy(n->key, key);
    unsigned int b = n->hash & (nbuckets - 1);
    n->next = buckets[b];
    buckets[b] = n;
    count++;
    return 1;
}

static int erase(const char *key)
{
    unsigned int h = hash_str(key);
    struct node **pp = &buckets[h & (nbuckets - 1)];
    while (*pp) {
        struct node *n = *pp;
        if (n->hash == h && str_eq(n->key, key)) {
            *pp = n->next;
            node_free(n);
            count--;
            return 1;
        }
        pp = &n->next;
    }
    return 0;
}

static void rehash(struct node **nb, unsigned int nn)
{
    for (unsigned int i = 0; i < nn; i++)
        nb[i] = 0;
    for (unsigned int i = 0; i < nbuckets; i++) {
        struct node *n = buckets[i];
        while (n) {
            struct node *next = n->next;
            unsigned int b = n->hash & (nn - 1);
            n->next = nb[b];
            nb[b] = n;
            n = next;
        }
        buckets[i] = 0;
    }
    buckets = nb;
    nbuckets = nn;
}

static void stats(const char *label)
{
    unsigned int longest = 0, empty = 0, total = 0;
    unsigned int hist[6] = { 0, 0, 0, 0, 0, 0 };
    for (unsigned int i = 0; i < nbuckets; i++) {
        unsigned int len = 0;
        for (struct node *n = buckets[i]; n; n = n->next)
            len++;
        total += len;
        if (len == 0)
            empty++;
        if (len > longest)
            longest = len;
        hist[len < 5 ? len : 5]++;
    }
    lvd_puts(label);
    lvd_puts(": buckets="); lvd_put_u64(nbuckets);
    lvd_puts(" count="); lvd_put_u64(count);
    lvd_puts(" total="); lvd_put_u64(total);
    lvd_puts(" empty="); lvd_put_u64(empty);
    lvd_puts(" longest="); lvd_put_u64(longest);
    lvd_puts(" hist=");
    for (int i = 0; i < 6; i++) {
        lvd_put_u64(hist[i]);
        lvd_putc(i < 5 ? ',' : '\n');
    }
}

int lvd_main(void)
{
    char key[16];
    long sum = 0;
    int errors = 0;

    pool_init();
    for (unsigned int i = 0; i < 500; i++) {
        make_key(key, i * 7919u % 100000u);
        if (insert(key, (int)i) != 1)
            errors++;
    }
    stats("after insert");
    for (unsigned int i = 0; i < 500; i += 3) {
        make_key(key, i * 7919u % 100000u);
        if (insert(key, -(int)i) != 0)
            errors++;
    }
    for (unsigned int i = 0; i < 500; i += 5) {
        make_key(key, i * 7919u % 100000u);
        if (!erase(key))
            errors++;
    }
    make_key(key, 5);
    if (erase(key))
        errors++;
    stats("after update/erase");
    rehash(buckets_b, 256);
    stats("after rehash");
    for (unsigned int i = 0; i < 500; i++) {
        make_key(key, i * 7919u % 100000u);
        struct node *n = lookup(key);
        if (i % 5 == 0) {
            if (n)
                errors++;
        } else if (!n) {
            errors++;
        } else {
            sum += n->value;
            if (i % 3 == 0 && n->value != -(int)i)
                errors++;
        }
    }
    lvd_puts("lookup sum="); lvd_put_s64(sum);
    lvd_puts(" errors="); lvd_put_u64((unsigned long)errors);
    lvd_putc('\n');
    static const char *const samples[] = { "kp7919", "kt23757", "kz4738" };
    for (int i = 0; i < 3; i++) {
        struct node *n = lookup(samples[i]);
        lvd_puts("sample "); lvd_puts(samples[i]);
        if (n) {
            lvd_putc('=');
            lvd_put_s64(n->value);
        } else {
            lvd_puts(" (none)");
        }
        lvd_putc('\n');
    }
    return errors;
}
