/* Binary search tree over a static node pool: insert, search, delete (all
 * three cases), in-order / pre-order / post-order traversal (recursive and
 * iterative with an explicit stack), height, k-th smallest, range count,
 * floor/ceiling, and validation of the BST property. */
#include "lvd_bare.h"

struct node {
    struct node *left, *right;
    int key;
    unsigned int count; /* subtree size */
};

#define POOL 512
static struct node pool[POOL];
static struct node *free_list;
static int used;

static struct node *alloc(int key)
{
    struct node *n;
    if (free_list) {
        n = free_list;
        free_list = n->left;
    } else if (used < POOL) {
        n = &pool[used++];
    } else {
        return 0;
    }
    n->left = n->right = 0;
    n->key = key;
    n->count = 1;
    return n;
}

static void release(struct node *n)
{
    n->left = free_list;
    free_list = n;
}

static unsigned int size(const struct node *n) { return n ? n->count : 0; }
static void update(struct node *n) { n->count = 1 + size(n->left) + size(n->right); }

static struct node *insert(struct node *t, int key, int *added)
{
    if (!t) {
        *added = 1;
        return alloc(key);
    }
    if (key < t->key)
        t->left = insert(t->left, key, added);
    else if (key > t->key)
        t->right = insert(t->right, key, added);
    update(t);
    return t;
}

static struct node *erase(struct node *t, int key, int *removed)
{
    if (!t)
        return 0;
    if (key < t->key) {
        t->left = erase(t->left, key, removed);
    } else if (key > t->key) {
        t->right = erase(t->right, key, removed);
    } else {
        *removed = 1;
        if (!t->left || !t->right) {
            struct node *child = t->left ? t->left : t->right;
            release(t);
            return child;
        }
        /* two children: replace with in-order successor */
        struct node *s = t->right;
        while (s->left)
            s = s->left;
        t->key = s->key;
        int dummy = 0;
        t->right = erase(t->right, s->key, &dummy);
    }
    update(t);
    return t;
}

static const struct node *find(const struct node *t, int key)
{
    while (t && t->key != key)
        t = key < t->key ? t->left : t->right;
    return t;
}

static int height(const struct node *t)
{
    if (!t)
        return 0;
    int l = height(t->left), r = height(t->right);
    return 1 + (l > r ? l : r);
}

static const struct node *kth(const struct node *t, unsigned int k) /* 0-based */
{
    while (t) {
        unsigned int ls = size(t->left);
        if (k < ls)
            t = t->left;
        else if (k == ls)
            return t;
        else {
            k -= ls + 1;
            t = t->right;
        }
    }
    return 0;
}

static unsigned int count_range(const struct node *t, int lo, int hi)
{
    if (!t)
        return 0;
    if (t->key < lo)
        return count_range(t->right, lo, hi);
    if (t->key > hi)
        return count_range(t->left, lo, hi);
    return 1 + count_range(t->left, lo, hi) + count_range(t->right, lo, hi);
}

static int floor_key(const struct node *t, int key, int *out)
{
    int found = 0;
    while (t) {
        if (t->key == key) {
            *out = key;
            return 1;
        }
        if (t->key < key) {
            *out = t->key;
            found = 1;
            t = t->right;
        } else {
            t = t->left;
        }
    }
    return found;
}

static unsigned long h_in, h_pre, h_post;
static void walk(const struct node *t)
{
    if (!t)
        return;
    h_pre = h_pre * 31 + (unsigned long)(long)t->key;
    walk(t->left);
    h_in = h_in * 31 + (unsigned long)(long)t->key;
    walk(t->right);
    h_post = h_post * 31 + (unsigned long)(long)t->key;
}

static unsigned long inorder_iter(const struct node *t, int *valid, unsigned int *n)
{
    const struct node *stack[64];
    int sp = 0;
    unsigned long h = 0;
    int have_prev = 0, prev = 0;
    *valid = 1;
    *n = 0;
    while (t || sp) {
        while (t) {
            stack[sp++] = t;
            t = t->left;
        }
        t = stack[--sp];
        if (have_prev && prev >= t->key)
            *valid = 0;
        prev = t->key;
        have_prev = 1;
        h = h * 31 + (unsigned long)(long)t->key;
        (*n)++;
        t = t->right;
    }
    return h;
}

static int check_sizes(const struct node *t)
{
    if (!t)
        return 1;
    return t->count == 1 + size(t->left) + size(t->right) && check_sizes(t->left) && check_sizes(t->right);
}

int lvd_main(void)
{
    struct node *root = 0;
    unsigned int s = 2024;
    int inserted = 0, dups = 0, errors = 0;

    for (int i = 0; i < 400; i++) {
        s = s * 1664525u + 1013904223u;
        int key = (int)(s >> 22) - 512;
        int added = 0;
        root = insert(root, key, &added);
        if (added)
            inserted++;
        else
            dups++;
    }
    lvd_puts("inserted "); lvd_put_u64((unsigned long)inserted);
    lvd_puts(" dups "); lvd_put_u64((unsigned long)dups);
    lvd_puts(" size "); lvd_put_u64(size(root));
    lvd_puts(" height "); lvd_put_u64((unsigned long)height(root));
    lvd_putc('\n');
    walk(root);
    int valid;
    unsigned int n;
    unsigned long hi = inorder_iter(root, &valid, &n);
    if (hi != h_in || n != size(root) || !valid)
        errors++;
    lvd_puts("in "); lvd_put_hex(h_in); lvd_puts(" pre "); lvd_put_hex(h_pre);
    lvd_puts(" post "); lvd_put_hex(h_post); lvd_putc('\n');
    lvd_puts("min "); lvd_put_s64(kth(root, 0)->key);
    lvd_puts(" median "); lvd_put_s64(kth(root, size(root) / 2)->key);
    lvd_puts(" max "); lvd_put_s64(kth(root, size(root) - 1)->key);
    lvd_puts(" in [-100,100]: "); lvd_put_u64(count_range(root, -100, 100));
    int f = 0;
    lvd_puts(" floor(0): ");
    if (floor_key(root, 0, &f)) lvd_put_s64(f); else lvd_puts("none");
    lvd_puts(" floor(-1000): ");
    if (floor_key(root, -1000, &f)) lvd_put_s64(f); else lvd_puts("none");
    lvd_putc('\n');

    /* delete every other key in sorted order, plus some absent ones */
    int deleted = 0;
    for (unsigned int k = 0; k < (unsigned int)inserted; k += 2) {
        int key = kth(root, k / 2 + (k & 1))->key; /* shifting index as the tree shrinks */
        int removed = 0;
        root = erase(root, key, &removed);
        deleted += removed;
        if (find(root, key))
            errors++;
    }
    for (int key = 600; key < 620; key++) {
        int removed = 0;
        root = erase(root, key, &removed);
        errors += removed;
    }
    walk(root);
    h_in = 0;
    unsigned long hi2 = inorder_iter(root, &valid, &n);
    if (!valid || !check_sizes(root) || n != (unsigned int)(inserted - deleted))
        errors++;
    lvd_puts("deleted "); lvd_put_u64((unsigned long)deleted);
    lvd_puts(" size "); lvd_put_u64(size(root));
    lvd_puts(" height "); lvd_put_u64((unsigned long)height(root));
    lvd_puts(" hash "); lvd_put_hex(hi2);
    lvd_puts(" errors "); lvd_put_u64((unsigned long)errors);
    lvd_putc('\n');
    /* reuse freed nodes */
    int before = used;
    for (int key = 1000; key < 1100; key += 3) {
        int added = 0;
        root = insert(root, key, &added);
    }
    lvd_puts("pool used before "); lvd_put_u64((unsigned long)before);
    lvd_puts(" after "); lvd_put_u64((unsigned long)used);
    lvd_puts(" size "); lvd_put_u64(size(root));
    lvd_puts(" height "); lvd_put_u64((unsigned long)height(root));
    lvd_putc('\n');
    return errors;
}
