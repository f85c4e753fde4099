/* keyed.h - keyed state for the stateful tools (dedup, join): record keys
 * encoded as canonical bytes, a hash table of entries found by those bytes,
 * and a min-heap that orders entries by time so a watermark can evict them.
 *
 * Canonical bytes make equal keys byte-equal, so state needs no value trees:
 * a number with an integral value encodes the same whether it was read as an
 * integer, a decimal or a float (1, 1.0 and 1e0 are one key); a decimal with
 * a fraction is encoded without trailing zeros (1.50 = 1.5).  A decimal and
 * a float with the same fractional value are different keys.  Each encoded
 * value delimits itself, so several columns concatenate unambiguously.
 *
 * Entries and heap items are embedded in the caller's structs (intrusive),
 * so a stored key costs one allocation and state can be freed piecemeal. */
#ifndef WEIR_KEYED_H
#define WEIR_KEYED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "value.h"

#define KEYED_OF(ptr, type, member) ((type *)(void *)((char *)(ptr) - offsetof(type, member)))

/* A list of column paths ("a", "user.id") that together form a key. */
struct keyspec {
	size_t n;
	char **paths;
};

/* Add the comma-separated paths in `cols`; false with err set when a path is
 * empty. */
bool keyspec_parse(struct keyspec *ks, const char *cols, char *err, size_t errlen);
void keyspec_add(struct keyspec *ks, const char *path, size_t n);
void keyspec_free(struct keyspec *ks);
/* Append the canonical bytes of rec's key to out; a missing column counts
 * as null.  Returns how many key columns are null or missing (join keys with
 * a null never match, as in SQL). */
size_t keyspec_encode(const struct keyspec *ks, const struct value *rec, struct buf *out);
void key_encode_value(struct buf *out, const struct value *v);

uint64_t key_hash(const void *k, size_t n);

struct keyent {
	uint64_t hash;
	const char *key; /* usually stored right after the caller's struct */
	uint32_t klen;
};

/* Open addressing with linear probing and backward-shift deletion: no
 * tombstones, so a table that evicts as fast as it inserts stays fast.  Slots
 * carry the hash so a probe touches the entry only when the hash matches. */
struct keyslot {
	uint64_t hash;
	struct keyent *e; /* NULL: empty */
};

struct keytab {
	struct keyslot *slots;
	size_t cap, count;
};

struct keyent *keytab_find(const struct keytab *t, const void *key, size_t klen, uint64_t hash);
/* e->hash, e->key and e->klen set; the key must not be in the table. */
void keytab_insert(struct keytab *t, struct keyent *e);
void keytab_remove(struct keytab *t, struct keyent *e);
/* Frees the slot array, not the entries. */
void keytab_free(struct keytab *t);
/* Bytes the table itself uses (for state size reports). */
size_t keytab_bytes(const struct keytab *t);

struct heapent {
	int64_t t;
	size_t pos; /* index in the heap, kept up to date for removal */
};

struct theap {
	struct heapent **a;
	size_t n, cap;
};

void theap_push(struct theap *h, struct heapent *e);
static inline struct heapent *theap_top(const struct theap *h) { return h->n ? h->a[0] : NULL; }
void theap_remove(struct theap *h, struct heapent *e);
void theap_free(struct theap *h);

#endif
