/* Singly and doubly linked lists over a static pool allocator with a free
 * list: push/pop, insertion in order, deletion, reversal, merge sort of a
 * list, cycle detection (Floyd), and an LRU cache built on a doubly
 * linked list plus a small direct-mapped index. */
#include "lvd_bare.h"

struct snode {
    struct snode *next;
    long value;
};

#define SPOOL 600
static struct snode spool[SPOOL];
static struct snode *sfree;
static int s_in_use, s_peak;

static void spool_init(void)
{
    sfree = 0;
    for (int i = SPOOL - 1; i >= 0; i--) {
        spool[i].next = sfree;
        sfree = &spool[i];
    }
}

static struct snode *snew(long v)
{
    struct snode *n = sfree;
    if (!n)
        return 0;
    sfree = n->next;
    n->next = 0;
    n->value = v;
    if (++s_in_use > s_peak)
        s_peak = s_in_use;
    return n;
}

static void sfree_node(struct snode *n)
{
    n->next = sfree;
    sfree = n;
    s_in_use--;
}

static struct snode *push(struct snode *head, long v)
{
    struct snode *n = snew(v);
    n->next = head;
    return n;
}

static struct snode *insert_sorted(struct snode *head, long v)
{
    struct snode **pp = &head;
    while (*pp && (*pp)->value < v)
        pp = &(*pp)->next;
    struct snode *n = snew(v);
    n->next = *pp;
    *pp = n;
    return head;
}

static struct snode *remove_if(struct snode *head, int (*pred)(long), int *removed)
{
    struct snode **pp = &head;
    while (*pp) {
        if (pred((*pp)->value)) {
            struct snode *dead = *pp;
            *pp = dead->next;
            sfree_node(dead);
            (*removed)++;
        } else {
            pp = &(*pp)->next;
        }
    }
    return head;
}

static struct snode *reverse(struct snode *head)
{
    struct snode *prev = 0;
    while (head) {
        struct snode *next = head->next;
        head->next = prev;
        prev = head;
        head = next;
    }
    return prev;
}

static struct snode *merge(struct snode *a, struct snode *b)
{
    struct snode dummy, *tail = &dummy;
    dummy.next = 0;
    while (a && b) {
        if (a->value <= b->value) {
            tail->next = a;
            a = a->next;
        } else {
            tail->next = b;
            b = b->next;
        }
        tail = tail->next;
    }
    tail->next = a ? a : b;
    return dummy.next;
}

static struct snode *msort(struct snode *head)
{
    if (!head || !head->next)
        return head;
    struct snode *slow = head, *fast = head->next;
    while (fast && fast->next) {
        slow = slow->next;
        fast = fast->next->next;
    }
    struct snode *second = slow->next;
    slow->next = 0;
    return merge(msort(head), msort(second));
}

static int has_cycle(struct snode *head)
{
    struct snode *slow = head, *fast = head;
    while (fast && fast->next) {
        slow = slow->next;
        fast = fast->next->next;
        if (slow == fast)
            return 1;
    }
    return 0;
}

static unsigned long list_hash(const struct snode *n, int *len)
{
    unsigned long h = 0;
    *len = 0;
    for (; n; n = n->next) {
        h = h * 1000003 ^ (unsigned long)n->value;
        (*len)++;
    }
    return h;
}

static void print_list(const char *label, const struct snode *n, int max)
{
    lvd_puts(label);
    for (int i = 0; n && i < max; n = n->next, i++) {
        lvd_putc(' ');
        lvd_put_s64(n->value);
    }
    if (n)
        lvd_puts(" ...");
    lvd_putc('\n');
}

static int is_mult3(long v) { return v % 3 == 0; }

/* LRU cache: capacity 8, keys 0..63 */
struct dnode {
    struct dnode *prev, *next;
    int key;
    long value;
};
static struct dnode dpool[8];
static struct dnode lru_head; /* sentinel */
static struct dnode *index_[64];
static int lru_size;
static unsigned long hits, misses, evictions;

static void d_unlink(struct dnode *n)
{
    n->prev->next = n->next;
    n->next->prev = n->prev;
}

static void d_push_front(struct dnode *n)
{
    n->next = lru_head.next;
    n->prev = &lru_head;
    lru_head.next->prev = n;
    lru_head.next = n;
}

static long lru_get(int key)
{
    struct dnode *n = index_[key];
    if (n) {
        hits++;
        d_unlink(n);
        d_push_front(n);
        return n->value;
    }
    misses++;
    long value = (long)key * key - 7;
    if (lru_size < 8) {
        n = &dpool[lru_size++];
    } else {
        n = lru_head.prev; /* least recently used */
        d_unlink(n);
        index_[n->key] = 0;
        evictions++;
    }
    n->key = key;
    n->value = value;
    index_[key] = n;
    d_push_front(n);
    return value;
}

int lvd_main(void)
{
    struct snode *a = 0, *b = 0;
    int len, removed = 0;
    unsigned int s = 12345;

    spool_init();
    for (int i = 0; i < 200; i++) {
        s = s * 1103515245u + 12345u;
        a = push(a, (long)(s >> 20) - 2048);
        b = insert_sorted(b, (long)((s >> 12) % 1000u));
    }
    print_list("a:", a, 8);
    print_list("b:", b, 8);
    a = reverse(a);
    print_list("a reversed:", a, 8);
    a = msort(a);
    print_list("a sorted:", a, 8);
    unsigned long ha = list_hash(a, &len);
    lvd_puts("a hash "); lvd_put_hex(ha); lvd_puts(" len "); lvd_put_u64((unsigned long)len); lvd_putc('\n');
    b = remove_if(b, is_mult3, &removed);
    unsigned long hb = list_hash(b, &len);
    lvd_puts("b without multiples of 3: removed "); lvd_put_u64((unsigned long)removed);
    lvd_puts(" len "); lvd_put_u64((unsigned long)len); lvd_puts(" hash "); lvd_put_hex(hb); lvd_putc('\n');
    struct snode *m = merge(a, b);
    int sorted = 1;
    for (struct snode *n = m; n && n->next; n = n->next)
        if (n->value > n->next->value)
            sorted = 0;
    unsigned long hm = list_hash(m, &len);
    lvd_puts("merged len "); lvd_put_u64((unsigned long)len); lvd_puts(" sorted "); lvd_put_u64((unsigned long)sorted);
    lvd_puts(" hash "); lvd_put_hex(hm); lvd_putc('\n');
    lvd_puts("cycle "); lvd_put_u64((unsigned long)has_cycle(m));
    struct snode *last = m;
    while (last->next)
        last = last->next;
    last->next = m->next->next->next; /* make a cycle */
    lvd_puts(" after linking "); lvd_put_u64((unsigned long)has_cycle(m));
    last->next = 0;
    lvd_puts(" in use "); lvd_put_u64((unsigned long)s_in_use);
    lvd_puts(" peak "); lvd_put_u64((unsigned long)s_peak);
    lvd_putc('\n');
    while (m) {
        struct snode *n = m->next;
        sfree_node(m);
        m = n;
    }
    lvd_puts("in use after free "); lvd_put_u64((unsigned long)s_in_use); lvd_putc('\n');

    lru_head.next = lru_head.prev = &lru_head;
    long lsum = 0;
    unsigned int k = 1;
    for (int i = 0; i < 500; i++) {
        k = k * 69069u + 1u;
        int key = (int)((k >> 24) % 12u);
        if (i % 7 == 0)
            key = (int)((k >> 16) & 63u);
        lsum += lru_get(key);
    }
    lvd_puts("lru hits "); lvd_put_u64(hits); lvd_puts(" misses "); lvd_put_u64(misses);
    lvd_puts(" evictions "); lvd_put_u64(evictions); lvd_puts(" sum "); lvd_put_s64(lsum);
    lvd_puts(" order:");
    for (struct dnode *n = lru_head.next; n != &lru_head; n = n->next) {
        lvd_putc(' ');
        lvd_put_u64((unsigned long)n->key);
    }
    lvd_putc('\n');
    return s_in_use == 0 && sorted ? 0 : 1;
}
