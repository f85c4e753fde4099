/* keyed.c - see keyed.h */
#include "keyed.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"

/* Tags of the canonical encoding; never reorder (they are in snapshots). */
enum {
	K_NULL, K_BOOL, K_INT, K_DECIMAL, K_FLOAT, K_STRING, K_BINARY,
	K_DATE, K_TIMESTAMP, K_TIMESTAMP_NTZ, K_ARRAY, K_OBJECT, K_MAP,
};

bool keyspec_parse(struct keyspec *ks, const char *cols, char *err, size_t errlen)
{
	const char *p = cols;
	for (;;) {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);
		while (n && (*p == ' ' || *p == '\t')) {
			p++;
			n--;
		}
		while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
			n--;
		if (!n || p[0] == '.' || p[n - 1] == '.') {
			snprintf(err, errlen, "empty column name in '%s'", cols);
			return false;
		}
		keyspec_add(ks, p, n);
		if (!comma)
			return true;
		p = comma + 1;
	}
}

void keyspec_add(struct keyspec *ks, const char *path, size_t n)
{
	ks->paths = xrealloc(ks->paths, (ks->n + 1) * sizeof *ks->paths);
	ks->paths[ks->n++] = xstrndup(path, n);
}

void keyspec_free(struct keyspec *ks)
{
	for (size_t i = 0; i < ks->n; i++)
		free(ks->paths[i]);
	free(ks->paths);
	ks->paths = NULL;
	ks->n = 0;
}

static void put8(struct buf *out, int tag, int64_t i)
{
	buf_grow(out, 9);
	out->p[out->len++] = (char)tag;
	memcpy(out->p + out->len, &i, 8);
	out->len += 8;
}

static void put_bytes(struct buf *out, int tag, const char *s, size_t n)
{
	buf_putc(out, (char)tag);
	buf_uvarint(out, n);
	buf_put(out, s, n);
}

static void put_number(struct buf *out, const struct value *v)
{
	if (v->type == V_INT) {
		put8(out, K_INT, v->i);
		return;
	}
	if (v->type == V_FLOAT) {
		double f = v->f;
		if (f == floor(f) && fabs(f) < 9.2e18) {
			put8(out, K_INT, (int64_t)f);
			return;
		}
		if (isnan(f))
			f = NAN; /* one NaN, whatever its payload */
		int64_t bits;
		memcpy(&bits, &f, 8);
		put8(out, K_FLOAT, bits);
		return;
	}
	int128_t d = v->d;
	int scale = v->scale;
	while (scale > 0 && d % 10 == 0) {
		d /= 10;
		scale--;
	}
	if (scale == 0 && d >= INT64_MIN && d <= INT64_MAX) {
		put8(out, K_INT, (int64_t)d);
		return;
	}
	buf_grow(out, 18);
	out->p[out->len++] = (char)K_DECIMAL;
	out->p[out->len++] = (char)scale;
	memcpy(out->p + out->len, &d, 16);
	out->len += 16;
}

void key_encode_value(struct buf *out, const struct value *v)
{
	switch (v->type) {
	case V_NULL:
		buf_putc(out, K_NULL);
		return;
	case V_BOOL:
		buf_putc(out, K_BOOL);
		buf_putc(out, v->b ? 1 : 0);
		return;
	case V_INT:
	case V_FLOAT:
	case V_DECIMAL:
		put_number(out, v);
		return;
	case V_STRING:
		put_bytes(out, K_STRING, v->s, v->n);
		return;
	case V_BINARY:
		put_bytes(out, K_BINARY, v->s, v->n);
		return;
	case V_DATE:
		put8(out, K_DATE, v->i);
		return;
	case V_TIMESTAMP:
		put8(out, K_TIMESTAMP, v->i);
		return;
	case V_TIMESTAMP_NTZ:
		put8(out, K_TIMESTAMP_NTZ, v->i);
		return;
	case V_ARRAY:
		buf_putc(out, K_ARRAY);
		buf_uvarint(out, v->n);
		for (uint32_t i = 0; i < v->n; i++)
			key_encode_value(out, &v->a[i]);
		return;
	default:
		buf_putc(out, v->type == V_OBJECT ? K_OBJECT : K_MAP);
		buf_uvarint(out, v->n);
		for (uint32_t i = 0; i < 2 * v->n; i++)
			key_encode_value(out, &v->a[i]);
		return;
	}
}

size_t keyspec_encode(const struct keyspec *ks, const struct value *rec, struct buf *out)
{
	size_t nulls = 0;
	for (size_t i = 0; i < ks->n; i++) {
		const struct value *v = value_path(rec, ks->paths[i]);
		if (!v || v->type == V_NULL) {
			buf_putc(out, K_NULL);
			nulls++;
		} else {
			key_encode_value(out, v);
		}
	}
	return nulls;
}

uint64_t key_hash(const void *k, size_t n)
{
	return hash_bytes(k, n, 0x6b6579);
}

/* ---- hash table ---- */

static void keytab_grow(struct keytab *t)
{
	size_t ncap = t->cap ? t->cap * 2 : 64;
	struct keyslot *ns = xcalloc(ncap, sizeof *ns);
	for (size_t i = 0; i < t->cap; i++) {
		if (!t->slots[i].e)
			continue;
		size_t j = t->slots[i].hash & (ncap - 1);
		while (ns[j].e)
			j = (j + 1) & (ncap - 1);
		ns[j] = t->slots[i];
	}
	free(t->slots);
	t->slots = ns;
	t->cap = ncap;
}

struct keyent *keytab_find(const struct keytab *t, const void *key, size_t klen, uint64_t hash)
{
	if (!t->count)
		return NULL;
	size_t mask = t->cap - 1;
	for (size_t i = hash & mask;; i = (i + 1) & mask) {
		const struct keyslot *s = &t->slots[i];
		if (!s->e)
			return NULL;
		if (s->hash == hash && s->e->klen == klen && !memcmp(s->e->key, key, klen))
			return s->e;
	}
}

void keytab_insert(struct keytab *t, struct keyent *e)
{
	/* at most half full keeps probe runs short */
	if (2 * (t->count + 1) > t->cap)
		keytab_grow(t);
	size_t mask = t->cap - 1, i = e->hash & mask;
	while (t->slots[i].e)
		i = (i + 1) & mask;
	t->slots[i].hash = e->hash;
	t->slots[i].e = e;
	t->count++;
}

void keytab_remove(struct keytab *t, struct keyent *e)
{
	size_t mask = t->cap - 1, i = e->hash & mask;
	while (t->slots[i].e != e)
		i = (i + 1) & mask;
	/* Backward shift: move later members of the probe run into the hole
	 * when their home slot does not lie between the hole and them. */
	size_t hole = i;
	for (size_t j = (i + 1) & mask; t->slots[j].e; j = (j + 1) & mask) {
		size_t home = t->slots[j].hash & mask;
		bool movable = hole <= j ? (home <= hole || home > j) : (home <= hole && home > j);
		if (movable) {
			t->slots[hole] = t->slots[j];
			hole = j;
		}
	}
	t->slots[hole].e = NULL;
	t->count--;
}

void keytab_free(struct keytab *t)
{
	free(t->slots);
	t->slots = NULL;
	t->cap = t->count = 0;
}

size_t keytab_bytes(const struct keytab *t)
{
	return t->cap * sizeof *t->slots;
}

/* ---- heap ---- */

static void heap_set(struct theap *h, size_t i, struct heapent *e)
{
	h->a[i] = e;
	e->pos = i;
}

static void sift_up(struct theap *h, size_t i)
{
	struct heapent *e = h->a[i];
	while (i > 0) {
		size_t parent = (i - 1) / 2;
		if (h->a[parent]->t <= e->t)
			break;
		heap_set(h, i, h->a[parent]);
		i = parent;
	}
	heap_set(h, i, e);
}

static void sift_down(struct theap *h, size_t i)
{
	struct heapent *e = h->a[i];
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= h->n)
			break;
		if (c + 1 < h->n && h->a[c + 1]->t < h->a[c]->t)
			c++;
		if (h->a[c]->t >= e->t)
			break;
		heap_set(h, i, h->a[c]);
		i = c;
	}
	heap_set(h, i, e);
}

void theap_push(struct theap *h, struct heapent *e)
{
	if (h->n == h->cap) {
		h->cap = h->cap ? h->cap * 2 : 64;
		h->a = xrealloc(h->a, h->cap * sizeof *h->a);
	}
	h->a[h->n] = e;
	sift_up(h, h->n++);
}

void theap_remove(struct theap *h, struct heapent *e)
{
	size_t i = e->pos;
	struct heapent *last = h->a[--h->n];
	if (i == h->n)
		return;
	heap_set(h, i, last);
	if (i > 0 && h->a[(i - 1) / 2]->t > last->t)
		sift_up(h, i);
	else
		sift_down(h, i);
}

void theap_free(struct theap *h)
{
	free(h->a);
	h->a = NULL;
	h->n = h->cap = 0;
}
