/* parquet.c - see parquet.h.
 *
 * Reading: the file is mapped, the footer decoded into a schema of nodes,
 * and the nodes turned into an assembly tree (struct, list, map, leaf) whose
 * shape is the Delta type.  A cursor keeps one streaming reader per leaf
 * column; rows are rebuilt from repetition and definition levels by walking
 * the tree, peeking at the first leaf below each node to learn whether it is
 * null, empty or has more elements (Dremel record assembly).  Nothing is
 * allocated from a declared size before that size is checked against the
 * bytes that would have to hold it.
 *
 * Writing: rows are shredded into levels and PLAIN or dictionary-indexed
 * values per leaf, cut into data pages (v1) by size, compressed, and kept in
 * memory per column chunk until the row group is full, so the dictionary
 * page can go first. */
#include "parquet.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "base64.h"
#include "codec.h"
#include "diag.h"
#include "json.h"
#include "opt.h"
#include "pqenc.h"
#include "thrift.h"
#include "timeutil.h"

enum { PT_BOOLEAN, PT_INT32, PT_INT64, PT_INT96, PT_FLOAT, PT_DOUBLE, PT_BYTE_ARRAY, PT_FLBA };
enum { REP_REQUIRED, REP_OPTIONAL, REP_REPEATED };
enum { ENC_PLAIN = 0, ENC_PLAIN_DICT = 2, ENC_RLE = 3, ENC_BIT_PACKED = 4, ENC_DBP = 5, ENC_DLBA = 6,
       ENC_DBA = 7, ENC_RLE_DICT = 8, ENC_BSS = 9 };
enum { CT_UTF8 = 0, CT_MAP = 1, CT_MAP_KEY_VALUE = 2, CT_LIST = 3, CT_ENUM = 4, CT_DECIMAL = 5, CT_DATE = 6,
       CT_TIME_MILLIS = 7, CT_TIME_MICROS = 8, CT_TIMESTAMP_MILLIS = 9, CT_TIMESTAMP_MICROS = 10,
       CT_UINT_8 = 11, CT_UINT_16 = 12, CT_UINT_32 = 13, CT_UINT_64 = 14, CT_INT_8 = 15, CT_INT_16 = 16,
       CT_INT_32 = 17, CT_INT_64 = 18, CT_JSON = 19, CT_BSON = 20, CT_INTERVAL = 21 };
enum { LT_NONE = 0, LT_STRING = 1, LT_MAP = 2, LT_LIST = 3, LT_ENUM = 4, LT_DECIMAL = 5, LT_DATE = 6,
       LT_TIME = 7, LT_TIMESTAMP = 8, LT_INTEGER = 10, LT_UNKNOWN = 11, LT_JSON = 12, LT_BSON = 13,
       LT_UUID = 14, LT_FLOAT16 = 15 };
enum { PAGE_DATA = 0, PAGE_INDEX = 1, PAGE_DICT = 2, PAGE_DATA_V2 = 3 };

static const char *const ptype_names[] = {"BOOLEAN", "INT32", "INT64", "INT96", "FLOAT", "DOUBLE",
					  "BYTE_ARRAY", "FIXED_LEN_BYTE_ARRAY"};

/* Largest page we agree to inflate, whatever a header says. */
#define MAX_PAGE_BYTES (1u << 30)

/* ---- the file's schema ---- */

struct pq_node {
	char *name;
	int phys; /* -1 for groups */
	int32_t type_len;
	int rep;
	int conv;    /* ConvertedType, -1 none */
	int32_t scale, precision;
	int logical; /* LT_*, LT_NONE when absent */
	bool ts_utc;
	int ts_unit; /* 1 millis, 2 micros, 3 nanos */
	int int_bits;
	bool int_signed;
	int32_t nchildren;
	int32_t *children; /* indexes in nodes[] */
};

/* How a leaf's physical values become struct values. */
enum conv {
	CV_BOOL, CV_INT32, CV_UINT32, CV_INT64, CV_UINT64, CV_FLOAT, CV_DOUBLE, CV_DATE,
	CV_TS_MILLIS, CV_TS_MICROS, CV_TS_NANOS, CV_INT96, CV_DEC32, CV_DEC64, CV_DECBYTES,
	CV_STRING, CV_BINARY, CV_FLOAT16, CV_NULL,
};

struct pq_leaf {
	char *path; /* dotted path_in_schema */
	const struct pq_node *node;
	int phys;
	int32_t type_len;
	int max_def, max_rep;
	enum conv cv;
	bool ntz;
	int scale;
	int top; /* index of the top-level field it belongs to */
};

enum akind { A_LEAF, A_STRUCT, A_LIST, A_MAP };

struct anode {
	enum akind kind;
	bool optional;
	int def;    /* definition level of this node when present */
	int rdef;   /* A_LIST/A_MAP: level at which an element exists */
	int rlevel; /* A_LIST/A_MAP: repetition level of the elements */
	int leaf;   /* A_LEAF: leaf index */
	int leaf_lo, leaf_hi;
	struct anode **kids; /* A_STRUCT fields; A_LIST element; A_MAP key, value */
	const char **names;  /* A_STRUCT field names */
	uint32_t *name_lens;
	int nkids;
};

struct pq_chunk {
	int phys, codec;
	int64_t num_values, data_off, dict_off, comp_size, uncomp_size;
	int32_t *encodings;
	uint32_t nencodings;
	const uint8_t *min, *max; /* statistics, PLAIN bytes */
	uint32_t min_len, max_len;
	bool has_minmax, legacy_minmax;
	int64_t null_count;
};

struct pq_rg {
	int64_t num_rows, total_byte_size;
	struct pq_chunk *chunks; /* one per leaf */
};

struct pq_file {
	const uint8_t *data;
	size_t size, data_end; /* data_end: where the footer starts */
	bool mapped;
	int32_t version;
	int64_t num_rows;
	const uint8_t *created_by;
	uint32_t created_by_len;
	struct pq_node *nodes;
	size_t nnodes;
	struct pq_leaf *leaves;
	size_t nleaves;
	struct anode *root;
	struct type *schema;
	struct pq_rg *rgs;
	int nrgs;
	const uint8_t **kv; /* key, value pairs (pointers into the footer) */
	uint32_t *kv_len;
	uint32_t nkv;
	/* every anode, for freeing */
	struct anode **anodes;
	size_t nanodes, capanodes;
};

static int errf(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int errf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

static inline uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t le64(const uint8_t *p)
{
	return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

/* ---- footer decoding ---- */

/* Iterate over the fields of a struct: `FIELDS(r) { switch (id) ... }`
 * with unknown ids skipped by the caller's default. */
#define FIELDS(r, last, id, type) \
	for (int16_t last = 0, id = 0; tc_field(r, &last, &id, &type) > 0;)

static bool read_logical(struct tc_reader *r, struct pq_node *n)
{
	if (!tc_struct_begin(r))
		return false;
	int t;
	FIELDS(r, last, id, t) {
		if (t != TC_STRUCT) {
			tc_skip(r, t);
			continue;
		}
		n->logical = id;
		if (!tc_struct_begin(r))
			return false;
		int t2;
		FIELDS(r, last2, id2, t2) {
			int32_t v;
			bool b;
			if (id == LT_DECIMAL && id2 == 1 && tc_i32(r, t2, &v))
				n->scale = v;
			else if (id == LT_DECIMAL && id2 == 2 && tc_i32(r, t2, &v))
				n->precision = v;
			else if ((id == LT_TIMESTAMP || id == LT_TIME) && id2 == 1 && tc_bool(r, t2, &b))
				n->ts_utc = b;
			else if ((id == LT_TIMESTAMP || id == LT_TIME) && id2 == 2 && t2 == TC_STRUCT) {
				/* TimeUnit union: the member's id names the unit */
				if (!tc_struct_begin(r))
					return false;
				int t3;
				FIELDS(r, last3, id3, t3) {
					n->ts_unit = id3;
					tc_skip(r, t3);
				}
				tc_struct_end(r);
			} else if (id == LT_INTEGER && id2 == 1 && tc_i32(r, t2, &v))
				n->int_bits = v;
			else if (id == LT_INTEGER && id2 == 2 && tc_bool(r, t2, &b))
				n->int_signed = b;
			else if (!r->err)
				tc_skip(r, t2);
		}
		tc_struct_end(r);
	}
	tc_struct_end(r);
	return !r->err;
}

static bool read_schema_element(struct tc_reader *r, struct pq_node *n)
{
	memset(n, 0, sizeof *n);
	n->phys = -1;
	n->conv = -1;
	n->rep = REP_REQUIRED;
	if (!tc_struct_begin(r))
		return false;
	int t;
	bool have_name = false;
	FIELDS(r, last, id, t) {
		int32_t v;
		const uint8_t *p;
		uint32_t len;
		switch (id) {
		case 1:
			if (tc_i32(r, t, &v)) {
				if (v < 0 || v > PT_FLBA)
					return tc_fail(r, "unknown physical type");
				n->phys = v;
			}
			break;
		case 2: tc_i32(r, t, &n->type_len); break;
		case 3:
			if (tc_i32(r, t, &v)) {
				if (v < 0 || v > 2)
					return tc_fail(r, "unknown repetition type");
				n->rep = v;
			}
			break;
		case 4:
			if (tc_binary(r, t, &p, &len)) {
				free(n->name);
				n->name = xstrndup((const char *)p, len);
				have_name = true;
			}
			break;
		case 5:
			if (tc_i32(r, t, &v)) {
				if (v < 0)
					return tc_fail(r, "negative number of children");
				n->nchildren = v;
			}
			break;
		case 6: tc_i32(r, t, &n->conv); break;
		case 7: tc_i32(r, t, &n->scale); break;
		case 8: tc_i32(r, t, &n->precision); break;
		case 10: read_logical(r, n); break;
		default: tc_skip(r, t);
		}
	}
	tc_struct_end(r);
	if (!r->err && !have_name)
		n->name = xstrdup("");
	return !r->err;
}

static bool read_stats(struct tc_reader *r, struct pq_chunk *c)
{
	const uint8_t *min = NULL, *max = NULL, *lmin = NULL, *lmax = NULL;
	uint32_t minl = 0, maxl = 0, lminl = 0, lmaxl = 0;
	if (!tc_struct_begin(r))
		return false;
	int t;
	FIELDS(r, last, id, t) {
		switch (id) {
		case 1: tc_binary(r, t, &lmax, &lmaxl); break;
		case 2: tc_binary(r, t, &lmin, &lminl); break;
		case 3: tc_i64(r, t, &c->null_count); break;
		case 5: tc_binary(r, t, &max, &maxl); break;
		case 6: tc_binary(r, t, &min, &minl); break;
		default: tc_skip(r, t);
		}
	}
	tc_struct_end(r);
	if (min && max) {
		c->min = min, c->min_len = minl, c->max = max, c->max_len = maxl;
		c->has_minmax = true;
	} else if (lmin && lmax) {
		c->min = lmin, c->min_len = lminl, c->max = lmax, c->max_len = lmaxl;
		c->has_minmax = c->legacy_minmax = true;
	}
	return !r->err;
}

static bool read_column_meta(struct tc_reader *r, struct pq_chunk *c)
{
	if (!tc_struct_begin(r))
		return false;
	int t;
	bool have_type = false, have_off = false;
	FIELDS(r, last, id, t) {
		int32_t v;
		int elem;
		uint32_t n;
		switch (id) {
		case 1:
			if (tc_i32(r, t, &v))
				c->phys = v, have_type = true;
			break;
		case 2:
			if (tc_list(r, t, &elem, &n)) {
				free(c->encodings);
				c->encodings = xcalloc(n ? n : 1, sizeof *c->encodings);
				c->nencodings = n;
				for (uint32_t i = 0; i < n && !r->err; i++)
					tc_elem_i32(r, elem, &c->encodings[i]);
			}
			break;
		case 4: tc_i32(r, t, &c->codec); break;
		case 5: tc_i64(r, t, &c->num_values); break;
		case 6: tc_i64(r, t, &c->uncomp_size); break;
		case 7: tc_i64(r, t, &c->comp_size); break;
		case 9:
			if (tc_i64(r, t, &c->data_off))
				have_off = true;
			break;
		case 11: tc_i64(r, t, &c->dict_off); break;
		case 12: read_stats(r, c); break;
		default: tc_skip(r, t);
		}
	}
	tc_struct_end(r);
	if (!r->err && (!have_type || !have_off))
		return tc_fail(r, "column metadata without type or data page offset");
	return !r->err;
}

static bool read_row_group(struct tc_reader *r, struct pq_rg *rg, size_t nleaves)
{
	if (!tc_struct_begin(r))
		return false;
	int t;
	bool have_cols = false;
	FIELDS(r, last, id, t) {
		int elem;
		uint32_t n;
		switch (id) {
		case 1:
			if (!tc_list(r, t, &elem, &n))
				break;
			if (elem != TC_STRUCT)
				return tc_fail(r, "column chunks are not structures");
			if (n != nleaves || have_cols)
				return tc_fail(r, "row group has a different number of columns than the schema");
			have_cols = true;
			rg->chunks = xcalloc(nleaves ? nleaves : 1, sizeof *rg->chunks);
			for (uint32_t i = 0; i < n && !r->err; i++) {
				struct pq_chunk *c = &rg->chunks[i];
				c->null_count = -1;
				c->dict_off = 0;
				if (!tc_struct_begin(r))
					break;
				int t2;
				bool have_meta = false;
				FIELDS(r, last2, id2, t2) {
					const uint8_t *p;
					uint32_t len;
					if (id2 == 1 && tc_binary(r, t2, &p, &len))
						return tc_fail(r, "column chunk in another file (file_path) not supported");
					else if (id2 == 3)
						have_meta = read_column_meta(r, c);
					else if (!r->err)
						tc_skip(r, t2);
				}
				tc_struct_end(r);
				if (!r->err && !have_meta)
					return tc_fail(r, "column chunk without metadata");
			}
			break;
		case 2: tc_i64(r, t, &rg->total_byte_size); break;
		case 3: tc_i64(r, t, &rg->num_rows); break;
		default: tc_skip(r, t);
		}
	}
	tc_struct_end(r);
	if (r->err)
		return false;
	if (!have_cols && nleaves)
		return tc_fail(r, "row group without columns");
	if (!rg->chunks)
		rg->chunks = xcalloc(1, sizeof *rg->chunks);
	if (!r->err && rg->num_rows < 0)
		return tc_fail(r, "negative row count");
	return !r->err;
}

/* ---- schema → assembly tree and Delta types ---- */

struct build {
	struct pq_file *f;
	char *err;
	size_t errlen;
	struct buf path;
	int top;
};

static struct anode *anode_new(struct pq_file *f, enum akind k)
{
	struct anode *a = xcalloc(1, sizeof *a);
	a->kind = k;
	if (f->nanodes == f->capanodes) {
		f->capanodes = f->capanodes ? 2 * f->capanodes : 64;
		f->anodes = xrealloc(f->anodes, f->capanodes * sizeof *f->anodes);
	}
	f->anodes[f->nanodes++] = a;
	return a;
}

static bool is_list(const struct pq_node *n)
{
	return n->phys < 0 && (n->logical == LT_LIST || n->conv == CT_LIST);
}

static bool is_map(const struct pq_node *n)
{
	return n->phys < 0 && (n->logical == LT_MAP || n->conv == CT_MAP || n->conv == CT_MAP_KEY_VALUE);
}

static int leaf_type(struct build *b, const struct pq_node *n, struct pq_leaf *l, struct type **out)
{
	enum tkind k;
	l->cv = CV_BINARY;
	int lt = n->logical;
	bool dec = lt == LT_DECIMAL || (lt == LT_NONE && n->conv == CT_DECIMAL);
	switch (n->phys) {
	case PT_BOOLEAN: k = T_BOOLEAN, l->cv = CV_BOOL; break;
	case PT_INT32:
		k = T_INT, l->cv = CV_INT32;
		if (dec) {
			k = T_DECIMAL, l->cv = CV_DEC32;
		} else if (lt == LT_DATE || n->conv == CT_DATE) {
			k = T_DATE, l->cv = CV_DATE;
		} else if (lt == LT_INTEGER) {
			if (n->int_bits == 8)
				k = n->int_signed ? T_BYTE : T_SHORT;
			else if (n->int_bits == 16)
				k = n->int_signed ? T_SHORT : T_INT;
			else if (!n->int_signed)
				k = T_LONG, l->cv = CV_UINT32;
		} else if (n->conv == CT_INT_8) {
			k = T_BYTE;
		} else if (n->conv == CT_INT_16 || n->conv == CT_UINT_8) {
			k = T_SHORT;
		} else if (n->conv == CT_UINT_16) {
			k = T_INT;
		} else if (n->conv == CT_UINT_32) {
			k = T_LONG, l->cv = CV_UINT32;
		}
		break;
	case PT_INT64:
		k = T_LONG, l->cv = CV_INT64;
		if (dec) {
			k = T_DECIMAL, l->cv = CV_DEC64;
		} else if (lt == LT_TIMESTAMP) {
			k = n->ts_utc ? T_TIMESTAMP : T_TIMESTAMP_NTZ;
			l->cv = n->ts_unit == 1 ? CV_TS_MILLIS : n->ts_unit == 3 ? CV_TS_NANOS : CV_TS_MICROS;
		} else if (lt == LT_NONE && (n->conv == CT_TIMESTAMP_MILLIS || n->conv == CT_TIMESTAMP_MICROS)) {
			/* legacy annotation without isAdjustedToUTC: wall clock, as DuckDB reads it */
			k = T_TIMESTAMP_NTZ;
			l->cv = n->conv == CT_TIMESTAMP_MILLIS ? CV_TS_MILLIS : CV_TS_MICROS;
		} else if ((lt == LT_INTEGER && !n->int_signed) || (lt == LT_NONE && n->conv == CT_UINT_64)) {
			k = T_DECIMAL, l->cv = CV_UINT64;
		}
		break;
	case PT_INT96: k = T_TIMESTAMP_NTZ, l->cv = CV_INT96; break;
	case PT_FLOAT: k = T_FLOAT, l->cv = CV_FLOAT; break;
	case PT_DOUBLE: k = T_DOUBLE, l->cv = CV_DOUBLE; break;
	case PT_BYTE_ARRAY:
	case PT_FLBA:
		k = T_BINARY, l->cv = CV_BINARY;
		if (n->phys == PT_FLBA && n->type_len <= 0)
			return errf(b->err, b->errlen, "column '%s' has fixed length %d", n->name, n->type_len);
		if (dec)
			k = T_DECIMAL, l->cv = CV_DECBYTES;
		else if (lt == LT_FLOAT16 && n->phys == PT_FLBA && n->type_len == 2)
			k = T_FLOAT, l->cv = CV_FLOAT16;
		else if (n->phys == PT_BYTE_ARRAY &&
			 (lt == LT_STRING || lt == LT_ENUM || lt == LT_JSON ||
			  (lt == LT_NONE && (n->conv == CT_UTF8 || n->conv == CT_ENUM || n->conv == CT_JSON))))
			k = T_STRING, l->cv = CV_STRING;
		break;
	default:
		return errf(b->err, b->errlen, "column '%s' has no physical type", n->name);
	}
	if (lt == LT_UNKNOWN)
		k = T_VOID, l->cv = CV_NULL;
	struct type *t = type_new(k);
	if (k == T_DECIMAL) {
		if (l->cv == CV_UINT64) {
			t->precision = 20, t->scale = 0;
		} else {
			t->precision = n->precision, t->scale = n->scale;
			if (n->precision < 1 || n->precision > 38 || n->scale < 0 || n->scale > n->precision) {
				type_free(t);
				return errf(b->err, b->errlen, "column '%s' has decimal(%d,%d): precision 1 to 38 supported",
					    n->name, n->precision, n->scale);
			}
		}
		l->scale = t->scale;
	}
	l->ntz = k == T_TIMESTAMP_NTZ;
	*out = t;
	return 0;
}

static struct anode *convert_node(struct build *b, const struct pq_node *n, int def, int rep, bool as_required,
				  struct type **type, bool *nullable);

static struct anode *make_leaf(struct build *b, const struct pq_node *n, int def, int rep, struct type **type)
{
	struct pq_file *f = b->f;
	if (f->nleaves >= f->nnodes) /* each leaf is a distinct schema element */
		return errf(b->err, b->errlen, "schema elements reused"), NULL;
	struct pq_leaf *l = &f->leaves[f->nleaves];
	memset(l, 0, sizeof *l);
	if (leaf_type(b, n, l, type) < 0)
		return NULL;
	l->node = n;
	l->phys = n->phys;
	l->type_len = n->type_len;
	l->max_def = def;
	l->max_rep = rep;
	l->top = b->top;
	l->path = xstrndup(b->path.len ? b->path.p : "", b->path.len);
	struct anode *a = anode_new(f, A_LEAF);
	a->leaf = (int)f->nleaves;
	a->leaf_lo = (int)f->nleaves;
	a->leaf_hi = (int)f->nleaves + 1;
	f->nleaves++;
	return a;
}

static void path_push(struct build *b, const char *name, size_t *mark)
{
	*mark = b->path.len;
	if (b->path.len)
		buf_putc(&b->path, '.');
	buf_puts(&b->path, name);
}

static struct anode *make_struct(struct build *b, const struct pq_node *n, int def, int rep, struct type **type)
{
	struct pq_file *f = b->f;
	struct anode *a = anode_new(f, A_STRUCT);
	struct type *t = type_new(T_STRUCT);
	*type = t;
	if (n->nchildren == 0)
		return errf(b->err, b->errlen, "group '%s' has no fields", n->name), NULL;
	a->kids = xcalloc((size_t)n->nchildren, sizeof *a->kids);
	a->names = xcalloc((size_t)n->nchildren, sizeof *a->names);
	a->name_lens = xcalloc((size_t)n->nchildren, sizeof *a->name_lens);
	a->nkids = n->nchildren;
	a->leaf_lo = (int)f->nleaves;
	for (int i = 0; i < n->nchildren; i++) {
		const struct pq_node *c = &f->nodes[n->children[i]];
		size_t mark;
		path_push(b, c->name, &mark);
		struct type *ct = NULL;
		bool nullable;
		a->kids[i] = convert_node(b, c, def, rep, false, &ct, &nullable);
		b->path.len = mark;
		if (!a->kids[i]) {
			type_free(ct);
			return NULL;
		}
		a->names[i] = c->name;
		a->name_lens[i] = (uint32_t)strlen(c->name);
		type_add_field(t, c->name, ct, nullable);
	}
	a->leaf_hi = (int)f->nleaves;
	return a;
}

/* The element of a LIST-annotated group, following LogicalTypes.md's
 * backward-compatibility rules for 2-level lists. */
static struct anode *make_list(struct build *b, const struct pq_node *n, int def, int rep, struct type **type)
{
	struct pq_file *f = b->f;
	if (n->nchildren != 1 || f->nodes[n->children[0]].rep != REP_REPEATED)
		return NULL; /* not a list after all: the caller reads it as a struct */
	const struct pq_node *r = &f->nodes[n->children[0]];
	if (r->phys < 0 && r->nchildren == 0)
		return NULL;
	struct anode *a = anode_new(f, A_LIST);
	a->rdef = def + 1;
	a->rlevel = rep + 1;
	a->kids = xcalloc(1, sizeof *a->kids);
	a->nkids = 1;
	a->leaf_lo = (int)f->nleaves;
	struct type *t = type_new(T_ARRAY);
	*type = t;
	size_t mark, mark2;
	path_push(b, r->name, &mark);
	bool nullable = false;
	size_t rlen = strlen(r->name), nlen = strlen(n->name);
	if (r->phys >= 0 || r->nchildren > 1 || !strcmp(r->name, "array") ||
	    (rlen == nlen + 6 && !strncmp(r->name, n->name, nlen) && !strcmp(r->name + nlen, "_tuple"))) {
		a->kids[0] = convert_node(b, r, a->rdef, a->rlevel, true, &t->elem, &nullable);
	} else {
		const struct pq_node *e = &f->nodes[r->children[0]];
		path_push(b, e->name, &mark2);
		a->kids[0] = convert_node(b, e, a->rdef, a->rlevel, false, &t->elem, &nullable);
	}
	b->path.len = mark;
	t->contains_null = nullable;
	if (!a->kids[0])
		return NULL;
	a->leaf_hi = (int)f->nleaves;
	return a;
}

static struct anode *make_map(struct build *b, const struct pq_node *n, int def, int rep, struct type **type)
{
	struct pq_file *f = b->f;
	if (n->nchildren != 1)
		return NULL;
	const struct pq_node *r = &f->nodes[n->children[0]];
	if (r->rep != REP_REPEATED || r->phys >= 0 || r->nchildren < 1 || r->nchildren > 2)
		return NULL;
	struct anode *a = anode_new(f, A_MAP);
	a->rdef = def + 1;
	a->rlevel = rep + 1;
	a->kids = xcalloc(2, sizeof *a->kids);
	a->nkids = r->nchildren;
	a->leaf_lo = (int)f->nleaves;
	struct type *t = type_new(T_MAP);
	*type = t;
	size_t mark, mark2;
	path_push(b, r->name, &mark);
	for (int i = 0; i < r->nchildren; i++) {
		const struct pq_node *c = &f->nodes[r->children[i]];
		bool nullable;
		path_push(b, c->name, &mark2);
		a->kids[i] = convert_node(b, c, a->rdef, a->rlevel, false, i ? &t->val : &t->key, &nullable);
		b->path.len = mark2;
		if (!a->kids[i])
			break;
		if (i)
			t->contains_null = nullable;
	}
	b->path.len = mark;
	if (!a->kids[0] || (a->nkids == 2 && !a->kids[1]))
		return NULL;
	if (a->nkids == 1) /* a map without values (a set): values read as null */
		t->val = type_new(T_VOID);
	a->leaf_hi = (int)f->nleaves;
	return a;
}

static struct anode *convert_node(struct build *b, const struct pq_node *n, int def, int rep, bool as_required,
				  struct type **type, bool *nullable)
{
	struct pq_file *f = b->f;
	int r = as_required ? REP_REQUIRED : n->rep;
	*type = NULL;
	if (r == REP_REPEATED) {
		/* a bare repeated field: a required list of required elements */
		struct anode *a = anode_new(f, A_LIST);
		a->rdef = def + 1;
		a->rlevel = rep + 1;
		a->def = def;
		a->kids = xcalloc(1, sizeof *a->kids);
		a->nkids = 1;
		a->leaf_lo = (int)f->nleaves;
		struct type *t = type_new(T_ARRAY);
		*type = t;
		bool en;
		a->kids[0] = convert_node(b, n, a->rdef, a->rlevel, true, &t->elem, &en);
		t->contains_null = false;
		*nullable = false;
		a->leaf_hi = (int)f->nleaves;
		return a->kids[0] ? a : NULL;
	}
	int d = def + (r == REP_OPTIONAL);
	*nullable = r == REP_OPTIONAL;
	struct anode *a = NULL;
	if (n->phys >= 0) {
		a = make_leaf(b, n, d, rep, type);
	} else {
		size_t leaves = f->nleaves;
		if (is_map(n))
			a = make_map(b, n, d, rep, type);
		else if (is_list(n))
			a = make_list(b, n, d, rep, type);
		if (!a && !b->err[0]) {
			/* an annotation that does not fit its shape: read the group as it is */
			type_free(*type);
			*type = NULL;
			for (size_t i = leaves; i < f->nleaves; i++)
				free(f->leaves[i].path);
			f->nleaves = leaves;
			a = make_struct(b, n, d, rep, type);
		}
	}
	if (!a)
		return NULL;
	a->optional = r == REP_OPTIONAL;
	a->def = d;
	return a;
}

/* Link nodes to their children (depth-first list) and check the counts. */
static int link_schema(struct pq_file *f, char *err, size_t errlen)
{
	if (!f->nnodes)
		return errf(err, errlen, "empty schema");
	if ((size_t)f->nodes[0].nchildren >= f->nnodes)
		return errf(err, errlen, "schema root claims more columns than the schema lists");
	size_t next = 1;
	/* iterative walk with an explicit stack of (node, children linked) */
	struct {
		size_t node;
		int32_t done;
	} *stack = xcalloc(f->nnodes + 1, sizeof *stack);
	size_t sp = 0;
	stack[sp++].node = 0;
	f->nodes[0].children = xcalloc((size_t)f->nodes[0].nchildren + 1, sizeof(int32_t));
	int rc = 0;
	while (sp) {
		struct pq_node *n = &f->nodes[stack[sp - 1].node];
		if (stack[sp - 1].done == n->nchildren) {
			sp--;
			continue;
		}
		if (next >= f->nnodes) {
			rc = errf(err, errlen, "schema lists fewer elements than its groups claim");
			break;
		}
		n->children[stack[sp - 1].done++] = (int32_t)next;
		struct pq_node *c = &f->nodes[next];
		if (c->phys >= 0 && c->nchildren > 0) {
			rc = errf(err, errlen, "schema element '%s' is both a group and a column", c->name);
			break;
		}
		if (c->nchildren > 0 && (size_t)c->nchildren > f->nnodes) {
			rc = errf(err, errlen, "schema element '%s' claims too many children", c->name);
			break;
		}
		c->children = xcalloc((size_t)c->nchildren + 1, sizeof(int32_t));
		if (sp > 100) {
			rc = errf(err, errlen, "schema nested too deeply");
			break;
		}
		stack[sp].node = next++;
		stack[sp].done = 0;
		sp++;
	}
	free(stack);
	if (!rc && next != f->nnodes)
		rc = errf(err, errlen, "schema lists more elements than its groups claim");
	return rc;
}

static int build_tree(struct pq_file *f, char *err, size_t errlen)
{
	if (link_schema(f, err, errlen) < 0)
		return -1;
	struct pq_node *root = &f->nodes[0];
	f->leaves = xcalloc(f->nnodes, sizeof *f->leaves);
	struct build b = {.f = f, .err = err, .errlen = errlen, .path = BUF_INIT};
	err[0] = 0;
	struct anode *a = anode_new(f, A_STRUCT);
	struct type *t = type_new(T_STRUCT);
	f->root = a;
	f->schema = t;
	a->kids = xcalloc((size_t)root->nchildren + 1, sizeof *a->kids);
	a->names = xcalloc((size_t)root->nchildren + 1, sizeof *a->names);
	a->name_lens = xcalloc((size_t)root->nchildren + 1, sizeof *a->name_lens);
	a->nkids = root->nchildren;
	int rc = 0;
	for (int i = 0; i < root->nchildren; i++) {
		const struct pq_node *c = &f->nodes[root->children[i]];
		b.top = i;
		b.path.len = 0;
		buf_puts(&b.path, c->name);
		struct type *ct = NULL;
		bool nullable;
		a->kids[i] = convert_node(&b, c, 0, 0, false, &ct, &nullable);
		if (!a->kids[i]) {
			type_free(ct);
			if (!err[0])
				errf(err, errlen, "cannot read the schema of column '%s'", c->name);
			rc = -1;
			break;
		}
		a->names[i] = c->name;
		a->name_lens[i] = (uint32_t)strlen(c->name);
		type_add_field(t, c->name, ct, nullable);
	}
	a->leaf_hi = (int)f->nleaves;
	buf_free(&b.path);
	return rc;
}

/* ---- opening ---- */

static int read_footer(struct pq_file *f, const uint8_t *p, size_t n, char *err, size_t errlen)
{
	struct tc_reader r;
	tc_init(&r, p, n);
	int t;
	bool have_schema = false, have_rgs = false;
	if (!tc_struct_begin(&r))
		goto bad;
	FIELDS(&r, last, id, t) {
		int elem;
		uint32_t cnt;
		const uint8_t *bp;
		uint32_t bl;
		switch (id) {
		case 1: tc_i32(&r, t, &f->version); break;
		case 2:
			if (!tc_list(&r, t, &elem, &cnt) || have_schema)
				break;
			if (elem != TC_STRUCT)
				goto bad;
			have_schema = true;
			f->nodes = xcalloc(cnt ? cnt : 1, sizeof *f->nodes);
			for (uint32_t i = 0; i < cnt; i++) {
				f->nnodes++; /* even when it fails half-read: pq_close frees it */
				if (!read_schema_element(&r, &f->nodes[i]))
					break;
			}
			break;
		case 3: tc_i64(&r, t, &f->num_rows); break;
		case 4:
			if (!have_schema) {
				/* the leaves must be known to size the column chunks */
				tc_fail(&r, "row groups before the schema");
				break;
			}
			if (r.err)
				break;
			if (!f->root) {
				if (build_tree(f, err, errlen) < 0)
					return -1;
			}
			if (!tc_list(&r, t, &elem, &cnt) || have_rgs)
				break;
			if (elem != TC_STRUCT)
				goto bad;
			have_rgs = true;
			f->rgs = xcalloc(cnt ? cnt : 1, sizeof *f->rgs);
			for (uint32_t i = 0; i < cnt; i++) {
				if (!read_row_group(&r, &f->rgs[i], f->nleaves)) {
					for (size_t k = 0; f->rgs[i].chunks && k < f->nleaves; k++)
						free(f->rgs[i].chunks[k].encodings);
					free(f->rgs[i].chunks);
					f->rgs[i].chunks = NULL;
					break;
				}
				f->nrgs++;
			}
			break;
		case 5:
			if (!tc_list(&r, t, &elem, &cnt) || f->kv)
				break;
			if (elem != TC_STRUCT)
				goto bad;
			f->kv = xcalloc(2 * (size_t)cnt + 1, sizeof *f->kv);
			f->kv_len = xcalloc(2 * (size_t)cnt + 1, sizeof *f->kv_len);
			for (uint32_t i = 0; i < cnt && !r.err; i++) {
				if (!tc_struct_begin(&r))
					break;
				int t2;
				FIELDS(&r, last2, id2, t2) {
					if (id2 == 1 || id2 == 2)
						tc_binary(&r, t2, &f->kv[2 * i + (uint32_t)id2 - 1], &f->kv_len[2 * i + (uint32_t)id2 - 1]);
					else
						tc_skip(&r, t2);
				}
				tc_struct_end(&r);
				f->nkv++;
			}
			break;
		case 6:
			if (tc_binary(&r, t, &bp, &bl))
				f->created_by = bp, f->created_by_len = bl;
			break;
		default: tc_skip(&r, t);
		}
	}
	if (r.err)
		goto bad;
	if (!have_schema || !f->nnodes)
		return errf(err, errlen, "file metadata has no schema");
	if (!f->root && build_tree(f, err, errlen) < 0)
		return -1;
	if (f->num_rows < 0)
		return errf(err, errlen, "negative row count in file metadata");
	return 0;
bad:
	return errf(err, errlen, "corrupt file metadata: %s", r.err ? r.err : "unexpected field type");
}

/* Check every column chunk's byte range against the file before anything
 * trusts it. */
static int check_chunks(struct pq_file *f, size_t data_end, char *err, size_t errlen)
{
	int64_t total = 0;
	for (int g = 0; g < f->nrgs; g++) {
		struct pq_rg *rg = &f->rgs[g];
		total += rg->num_rows;
		for (size_t i = 0; i < f->nleaves; i++) {
			struct pq_chunk *c = &rg->chunks[i];
			const struct pq_leaf *l = &f->leaves[i];
			if (c->phys != l->phys)
				return errf(err, errlen, "row group %d column '%s' is %s in its metadata but %s in the schema",
					    g, l->path, c->phys >= 0 && c->phys <= PT_FLBA ? ptype_names[c->phys] : "unknown",
					    ptype_names[l->phys]);
			int64_t start = c->dict_off > 0 && c->dict_off < c->data_off ? c->dict_off : c->data_off;
			if (start < 4 || (uint64_t)start >= data_end || c->comp_size <= 0 ||
			    (uint64_t)c->comp_size > data_end - (uint64_t)start)
				return errf(err, errlen, "row group %d column '%s' lies outside the file", g, l->path);
			if (c->num_values < 0)
				return errf(err, errlen, "row group %d column '%s' has a negative value count", g, l->path);
		}
	}
	(void)total;
	return 0;
}

static struct pq_file *open_bytes(const uint8_t *data, size_t size, bool mapped, char *err, size_t errlen)
{
	struct pq_file *f = xcalloc(1, sizeof *f);
	f->data = data;
	f->size = size;
	f->mapped = mapped;
	if (size < 12 || memcmp(data, "PAR1", 4) || memcmp(data + size - 4, "PAR1", 4)) {
		if (size >= 4 && !memcmp(data + size - 4, "PARE", 4))
			errf(err, errlen, "encrypted Parquet files are not supported");
		else
			errf(err, errlen, "not a Parquet file (no PAR1 magic at both ends)");
		goto fail;
	}
	uint32_t flen = le32(data + size - 8);
	if (flen > size - 12) {
		errf(err, errlen, "footer length %u does not fit in a file of %zu bytes", flen, size);
		goto fail;
	}
	const uint8_t *footer = data + size - 8 - flen;
	if (read_footer(f, footer, flen, err, errlen) < 0)
		goto fail;
	f->data_end = size - 8 - flen;
	if (check_chunks(f, f->data_end, err, errlen) < 0)
		goto fail;
	return f;
fail:
	pq_close(f);
	return NULL;
}

struct pq_file *pq_open(const char *path, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		errf(err, errlen, "%s", strerror(errno));
		return NULL;
	}
	struct stat st;
	if (fstat(fd, &st) < 0) {
		errf(err, errlen, "%s", strerror(errno));
		close(fd);
		return NULL;
	}
	if (!S_ISREG(st.st_mode)) {
		errf(err, errlen, "not a regular file");
		close(fd);
		return NULL;
	}
	size_t size = (size_t)st.st_size;
	void *p = NULL;
	if (size) {
		p = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
		if (p == MAP_FAILED) {
			errf(err, errlen, "cannot map: %s", strerror(errno));
			close(fd);
			return NULL;
		}
	}
	close(fd);
	return open_bytes(p ? p : "", size, p != NULL, err, errlen);
}

struct pq_file *pq_open_mem(const void *p, size_t n, char *err, size_t errlen)
{
	return open_bytes(p, n, false, err, errlen);
}

void pq_close(struct pq_file *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->nnodes; i++) {
		free(f->nodes[i].name);
		free(f->nodes[i].children);
	}
	free(f->nodes);
	for (size_t i = 0; i < f->nleaves; i++)
		free(f->leaves[i].path);
	free(f->leaves);
	for (size_t i = 0; i < f->nanodes; i++) {
		free(f->anodes[i]->kids);
		free(f->anodes[i]->names);
		free(f->anodes[i]->name_lens);
		free(f->anodes[i]);
	}
	free(f->anodes);
	type_free(f->schema);
	for (int g = 0; g < f->nrgs; g++) {
		for (size_t i = 0; i < f->nleaves; i++)
			free(f->rgs[g].chunks[i].encodings);
		free(f->rgs[g].chunks);
	}
	free(f->rgs);
	free(f->kv);
	free(f->kv_len);
	if (f->mapped)
		munmap((void *)f->data, f->size);
	free(f);
}

const struct type *pq_schema(const struct pq_file *f)
{
	return f->schema;
}

int pq_num_row_groups(const struct pq_file *f)
{
	return f->nrgs;
}

/* ---- physical → struct value ---- */

static double half_to_double(uint16_t h)
{
	int e = (h >> 10) & 31, m = h & 1023;
	double v = e == 0 ? ldexp(m, -24) : e == 31 ? (m ? NAN : INFINITY) : ldexp(m + 1024, e - 25);
	return h & 0x8000 ? -v : v;
}

/* Big-endian two's complement of any length into an int128. */
static bool be_int128(const uint8_t *p, uint32_t n, int128_t *out)
{
	if (n == 0) {
		*out = 0;
		return true;
	}
	uint8_t sign = (p[0] & 0x80) ? 0xff : 0;
	while (n > 16) {
		if (p[0] != sign)
			return false;
		p++, n--;
	}
	unsigned __int128 u = sign ? ~(unsigned __int128)0 : 0;
	for (uint32_t i = 0; i < n; i++)
		u = u << 8 | p[i];
	*out = (int128_t)u;
	return true;
}

static int64_t floordiv(int64_t a, int64_t b)
{
	int64_t q = a / b;
	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* Decode one PLAIN value of a leaf at p (n bytes: the value alone, no length
 * prefix for byte arrays) into v.  Strings point at p. */
static bool plain_to_value(const struct pq_leaf *l, const uint8_t *p, uint32_t n, struct value *v)
{
	memset(v, 0, sizeof *v);
	switch (l->cv) {
	case CV_BOOL:
		if (n < 1)
			return false;
		*v = value_bool(p[0] & 1);
		return true;
	case CV_INT32:
		if (n < 4)
			return false;
		*v = value_int((int32_t)le32(p));
		return true;
	case CV_UINT32:
		if (n < 4)
			return false;
		*v = value_int(le32(p));
		return true;
	case CV_DATE:
		if (n < 4)
			return false;
		*v = value_typed_int(V_DATE, (int32_t)le32(p));
		return true;
	case CV_INT64:
		if (n < 8)
			return false;
		*v = value_int((int64_t)le64(p));
		return true;
	case CV_UINT64:
		if (n < 8)
			return false;
		v->type = V_DECIMAL;
		v->d = (int128_t)le64(p);
		return true;
	case CV_TS_MILLIS:
	case CV_TS_MICROS:
	case CV_TS_NANOS: {
		if (n < 8)
			return false;
		int64_t x = (int64_t)le64(p);
		if (l->cv == CV_TS_MILLIS)
			x = (int64_t)((uint64_t)x * 1000u);
		else if (l->cv == CV_TS_NANOS)
			x = floordiv(x, 1000);
		*v = value_typed_int(l->ntz ? V_TIMESTAMP_NTZ : V_TIMESTAMP, x);
		return true;
	}
	case CV_INT96: {
		if (n < 12)
			return false;
		int64_t nanos = (int64_t)le64(p);
		int64_t jd = (int32_t)le32(p + 8);
		uint64_t us = (uint64_t)(jd - 2440588) * UINT64_C(86400000000) + (uint64_t)(nanos / 1000);
		*v = value_typed_int(l->ntz ? V_TIMESTAMP_NTZ : V_TIMESTAMP, (int64_t)us);
		return true;
	}
	case CV_FLOAT: {
		if (n < 4)
			return false;
		uint32_t u = le32(p);
		float x;
		memcpy(&x, &u, 4);
		*v = value_float(float_shortest(x));
		return true;
	}
	case CV_DOUBLE: {
		if (n < 8)
			return false;
		uint64_t u = le64(p);
		double x;
		memcpy(&x, &u, 8);
		*v = value_float(x);
		return true;
	}
	case CV_FLOAT16:
		if (n < 2)
			return false;
		*v = value_float(half_to_double((uint16_t)(p[0] | p[1] << 8)));
		return true;
	case CV_DEC32:
		if (n < 4)
			return false;
		v->type = V_DECIMAL;
		v->d = (int32_t)le32(p);
		v->scale = (uint8_t)l->scale;
		return true;
	case CV_DEC64:
		if (n < 8)
			return false;
		v->type = V_DECIMAL;
		v->d = (int64_t)le64(p);
		v->scale = (uint8_t)l->scale;
		return true;
	case CV_DECBYTES:
		v->type = V_DECIMAL;
		v->scale = (uint8_t)l->scale;
		return be_int128(p, n, &v->d);
	case CV_STRING:
		*v = value_str((const char *)p, n);
		return true;
	case CV_BINARY:
		*v = value_str((const char *)p, n);
		v->type = V_BINARY;
		return true;
	case CV_NULL:
		*v = value_null();
		return true;
	}
	return false;
}

/* Width of a PLAIN value of a physical type; 0 for BYTE_ARRAY. */
static uint32_t plain_width(int phys, int32_t type_len)
{
	switch (phys) {
	case PT_INT32: case PT_FLOAT: return 4;
	case PT_INT64: case PT_DOUBLE: return 8;
	case PT_INT96: return 12;
	case PT_FLBA: return (uint32_t)type_len;
	default: return 0;
	}
}

/* Statistics of a top-level primitive column. */
bool pq_row_group_stats(const struct pq_file *f, int rg, const char *column, struct pq_stats *st)
{
	memset(st, 0, sizeof *st);
	st->null_count = -1;
	if (rg < 0 || rg >= f->nrgs)
		return false;
	long top = type_field_index(f->schema, column);
	if (top < 0 || f->root->kids[top]->kind != A_LEAF)
		return false;
	int li = f->root->kids[top]->leaf;
	const struct pq_leaf *l = &f->leaves[li];
	const struct pq_chunk *c = &f->rgs[rg].chunks[li];
	st->null_count = c->null_count;
	if (c->has_minmax && l->phys != PT_BOOLEAN) {
		/* legacy min/max were written with signed comparison: trust them only
		 * where that is the type's order */
		bool ok = !c->legacy_minmax ||
			  ((l->phys == PT_INT32 || l->phys == PT_INT64 || l->phys == PT_FLOAT || l->phys == PT_DOUBLE) &&
			   l->cv != CV_UINT32 && l->cv != CV_UINT64);
		uint32_t w = plain_width(l->phys, l->type_len);
		if (ok && l->phys != PT_INT96 && (w == 0 || (c->min_len == w && c->max_len == w)) &&
		    plain_to_value(l, c->min, c->min_len, &st->min) && plain_to_value(l, c->max, c->max_len, &st->max))
			st->has_minmax = true;
		else
			st->min = st->max = value_null();
	}
	return st->has_minmax || st->null_count >= 0;
}

static void json_key(struct buf *b, const char *k)
{
	json_write_string(b, k, strlen(k));
	buf_putc(b, ':');
}

void pq_meta_json(const struct pq_file *f, struct buf *out)
{
	buf_puts(out, "{");
	json_key(out, "version");
	buf_printf(out, "%d,", f->version);
	json_key(out, "created_by");
	if (f->created_by)
		json_write_string(out, (const char *)f->created_by, f->created_by_len);
	else
		buf_puts(out, "null");
	buf_putc(out, ',');
	json_key(out, "num_rows");
	buf_printf(out, "%lld,", (long long)f->num_rows);
	json_key(out, "key_value_metadata");
	buf_putc(out, '{');
	for (uint32_t i = 0; i < f->nkv; i++) {
		if (i)
			buf_putc(out, ',');
		json_write_string(out, f->kv[2 * i] ? (const char *)f->kv[2 * i] : "", f->kv_len[2 * i]);
		buf_putc(out, ':');
		if (f->kv[2 * i + 1])
			json_write_string(out, (const char *)f->kv[2 * i + 1], f->kv_len[2 * i + 1]);
		else
			buf_puts(out, "null");
	}
	buf_puts(out, "},");
	json_key(out, "columns");
	buf_putc(out, '[');
	for (size_t i = 0; i < f->nleaves; i++) {
		const struct pq_leaf *l = &f->leaves[i];
		const struct pq_node *n = l->node;
		if (i)
			buf_putc(out, ',');
		buf_putc(out, '{');
		json_key(out, "path");
		json_write_string(out, l->path, strlen(l->path));
		buf_printf(out, ",\"physical_type\":\"%s\"", ptype_names[l->phys]);
		if (l->phys == PT_FLBA)
			buf_printf(out, ",\"type_length\":%d", l->type_len);
		buf_printf(out, ",\"repetition\":\"%s\"",
			   n->rep == REP_REQUIRED ? "REQUIRED" : n->rep == REP_OPTIONAL ? "OPTIONAL" : "REPEATED");
		if (n->conv >= 0)
			buf_printf(out, ",\"converted_type\":%d", n->conv);
		if (n->logical)
			buf_printf(out, ",\"logical_type\":%d", n->logical);
		buf_printf(out, ",\"max_definition_level\":%d,\"max_repetition_level\":%d}", l->max_def, l->max_rep);
	}
	buf_puts(out, "],");
	json_key(out, "row_groups");
	buf_putc(out, '[');
	for (int g = 0; g < f->nrgs; g++) {
		const struct pq_rg *rg = &f->rgs[g];
		if (g)
			buf_putc(out, ',');
		buf_printf(out, "{\"num_rows\":%lld,\"total_byte_size\":%lld,\"columns\":[", (long long)rg->num_rows,
			   (long long)rg->total_byte_size);
		for (size_t i = 0; i < f->nleaves; i++) {
			const struct pq_chunk *c = &rg->chunks[i];
			const struct pq_leaf *l = &f->leaves[i];
			if (i)
				buf_putc(out, ',');
			buf_putc(out, '{');
			json_key(out, "path");
			json_write_string(out, l->path, strlen(l->path));
			const char *cn = codec_name(c->codec);
			if (cn)
				buf_printf(out, ",\"codec\":\"%s\"", cn);
			else
				buf_printf(out, ",\"codec\":%d", c->codec);
			buf_puts(out, ",\"encodings\":[");
			static const char *const enames[] = {"PLAIN", "GROUP_VAR_INT", "PLAIN_DICTIONARY", "RLE", "BIT_PACKED",
							     "DELTA_BINARY_PACKED", "DELTA_LENGTH_BYTE_ARRAY",
							     "DELTA_BYTE_ARRAY", "RLE_DICTIONARY", "BYTE_STREAM_SPLIT"};
			for (uint32_t k = 0; k < c->nencodings; k++) {
				if (k)
					buf_putc(out, ',');
				int32_t e = c->encodings[k];
				if (e >= 0 && e <= 9)
					buf_printf(out, "\"%s\"", enames[e]);
				else
					buf_printf(out, "%d", e);
			}
			buf_printf(out, "],\"num_values\":%lld,\"compressed_size\":%lld,\"uncompressed_size\":%lld"
				   ",\"data_page_offset\":%lld",
				   (long long)c->num_values, (long long)c->comp_size, (long long)c->uncomp_size,
				   (long long)c->data_off);
			if (c->dict_off > 0)
				buf_printf(out, ",\"dictionary_page_offset\":%lld", (long long)c->dict_off);
			if (c->has_minmax || c->null_count >= 0) {
				buf_puts(out, ",\"statistics\":{");
				bool comma = false;
				struct value mn, mx;
				uint32_t w = plain_width(l->phys, l->type_len);
				if (c->has_minmax && (w == 0 || (c->min_len == w && c->max_len == w)) &&
				    plain_to_value(l, c->min, c->min_len, &mn) && plain_to_value(l, c->max, c->max_len, &mx)) {
					buf_puts(out, "\"min\":");
					json_write(out, &mn);
					buf_puts(out, ",\"max\":");
					json_write(out, &mx);
					comma = true;
				}
				if (c->null_count >= 0)
					buf_printf(out, "%s\"null_count\":%lld", comma ? "," : "", (long long)c->null_count);
				buf_putc(out, '}');
			}
			buf_putc(out, '}');
		}
		buf_puts(out, "]}");
	}
	buf_puts(out, "]}");
}

/* ---- column readers ---- */

struct lvl {
	bool msb; /* the deprecated BIT_PACKED encoding: MSB first, no runs */
	struct rle_dec r;
	const uint8_t *p;
	uint64_t nbits, bit;
	int bw;
};

static inline bool lvl_next(struct lvl *l, int max, int *out)
{
	uint64_t v;
	if (l->msb) {
		if (l->bit + (uint64_t)l->bw > l->nbits)
			return false;
		v = 0;
		for (int i = 0; i < l->bw; i++, l->bit++)
			v = v << 1 | ((l->p[l->bit >> 3] >> (7 - (l->bit & 7))) & 1);
	} else if (!rle_next(&l->r, &v)) {
		return false;
	}
	if (v > (uint64_t)max)
		return false;
	*out = (int)v;
	return true;
}

struct colrd {
	const struct pq_file *f;
	const struct pq_leaf *l;
	const uint8_t *pos, *end; /* end: where the file's data ends */
	const uint8_t *decl_end;  /* where the chunk says it ends */
	int64_t values_left;      /* of the chunk's declared count */
	int codec;
	struct buf page, dpage;
	struct value *dict;
	uint32_t ndict;
	bool has_dict;
	uint64_t page_left;
	struct lvl rep, def;
	int enc;
	const uint8_t *vp, *vend;
	uint64_t bit;
	struct rle_dec rd;
	struct dbp_dec dbp, pre;
	struct buf prev, cur;
	uint64_t bss_n, bss_i;
	uint32_t width;
	bool have, eof;
	int crep, cdef;
};

static void colrd_free(struct colrd *c)
{
	buf_free(&c->page);
	buf_free(&c->dpage);
	buf_free(&c->prev);
	buf_free(&c->cur);
	free(c->dict);
	memset(c, 0, sizeof *c);
}

static void colrd_start(struct colrd *c, const struct pq_file *f, int li, int rg)
{
	colrd_free(c);
	const struct pq_chunk *ch = &f->rgs[rg].chunks[li];
	c->f = f;
	c->l = &f->leaves[li];
	int64_t start = ch->dict_off > 0 && ch->dict_off < ch->data_off ? ch->dict_off : ch->data_off;
	c->pos = f->data + start;
	c->decl_end = c->pos + ch->comp_size;
	/* some writers leave the dictionary page out of the chunk's size
	 * (PARQUET-816): pages may run past the declared end, but only while
	 * declared values are missing, and never into the footer */
	c->end = f->data + f->data_end;
	c->values_left = ch->num_values;
	c->codec = ch->codec;
	c->width = plain_width(c->l->phys, c->l->type_len);
}

static int cerr(char *err, size_t errlen, const struct colrd *c, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int cerr(char *err, size_t errlen, const struct colrd *c, const char *fmt, ...)
{
	char msg[200];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return errf(err, errlen, "column '%s': %s", c->l->path, msg);
}

struct page_hdr {
	int type;
	int32_t uncomp, comp;
	int32_t num_values, num_nulls, num_rows;
	int32_t encoding, def_enc, rep_enc;
	int32_t def_len, rep_len;
	uint32_t crc;
	bool have_crc, is_compressed;
	bool have_data, have_v2, have_dict;
};

static bool read_page_header(struct tc_reader *r, struct page_hdr *h)
{
	memset(h, 0, sizeof *h);
	h->type = -1;
	h->is_compressed = true;
	h->def_enc = h->rep_enc = ENC_RLE;
	if (!tc_struct_begin(r))
		return false;
	int t;
	FIELDS(r, last, id, t) {
		int32_t v;
		switch (id) {
		case 1:
			if (tc_i32(r, t, &v))
				h->type = v;
			break;
		case 2: tc_i32(r, t, &h->uncomp); break;
		case 3: tc_i32(r, t, &h->comp); break;
		case 4:
			if (tc_i32(r, t, &v)) {
				h->crc = (uint32_t)v;
				h->have_crc = true;
			}
			break;
		case 5:
		case 7:
		case 8: {
			if (t != TC_STRUCT) {
				tc_fail(r, "page header field has the wrong type");
				break;
			}
			if (!tc_struct_begin(r))
				break;
			int t2;
			FIELDS(r, last2, id2, t2) {
				if (id2 == 1)
					tc_i32(r, t2, &h->num_values);
				else if (id == 5 && id2 == 2)
					tc_i32(r, t2, &h->encoding);
				else if (id == 5 && id2 == 3)
					tc_i32(r, t2, &h->def_enc);
				else if (id == 5 && id2 == 4)
					tc_i32(r, t2, &h->rep_enc);
				else if (id == 7 && id2 == 2)
					tc_i32(r, t2, &h->encoding);
				else if (id == 8 && id2 == 2)
					tc_i32(r, t2, &h->num_nulls);
				else if (id == 8 && id2 == 3)
					tc_i32(r, t2, &h->num_rows);
				else if (id == 8 && id2 == 4)
					tc_i32(r, t2, &h->encoding);
				else if (id == 8 && id2 == 5)
					tc_i32(r, t2, &h->def_len);
				else if (id == 8 && id2 == 6)
					tc_i32(r, t2, &h->rep_len);
				else if (id == 8 && id2 == 7)
					tc_bool(r, t2, &h->is_compressed);
				else
					tc_skip(r, t2);
			}
			tc_struct_end(r);
			if (id == 5)
				h->have_data = true;
			else if (id == 7)
				h->have_dict = true;
			else
				h->have_v2 = true;
			break;
		}
		default: tc_skip(r, t);
		}
	}
	tc_struct_end(r);
	return !r->err;
}

/* A page body's bytes inflated into out (exactly uncomp bytes). */
static int inflate_page(struct colrd *c, const uint8_t *body, uint32_t comp, uint32_t uncomp, struct buf *out,
			char *err, size_t errlen)
{
	/* no codec makes more than this out of `comp` bytes; refuse before
	 * allocating what a lying header asks for */
	uint64_t limit;
	switch (c->codec) {
	case CODEC_UNCOMPRESSED: limit = comp; break;
	case CODEC_GZIP: limit = (uint64_t)comp * 1032 + 64; break;
	case CODEC_LZ4_RAW:
	case CODEC_LZ4: limit = (uint64_t)comp * 255 + 64; break;
	case CODEC_SNAPPY: limit = (uint64_t)comp * 24 + 64; break; /* a 3-byte copy makes 64 */
	default: limit = (uint64_t)comp * 65536 + 64;
	}
	if (uncomp > limit || uncomp > MAX_PAGE_BYTES)
		return cerr(err, errlen, c, "page claims %u bytes from %u compressed", uncomp, comp);
	buf_reset(out);
	buf_grow(out, uncomp + 1);
	char cerrbuf[160];
	if (codec_decompress(c->codec, body, comp, (uint8_t *)out->p, uncomp, cerrbuf, sizeof cerrbuf) < 0)
		return cerr(err, errlen, c, "%s", cerrbuf);
	out->len = uncomp;
	return 0;
}

static int load_dict(struct colrd *c, const struct page_hdr *h, const uint8_t *body, char *err, size_t errlen)
{
	if (c->has_dict)
		return cerr(err, errlen, c, "second dictionary page");
	if (h->encoding != ENC_PLAIN && h->encoding != ENC_PLAIN_DICT)
		return cerr(err, errlen, c, "dictionary page encoding %d not supported", h->encoding);
	if (h->num_values < 0)
		return cerr(err, errlen, c, "negative dictionary size");
	if (inflate_page(c, body, (uint32_t)h->comp, (uint32_t)h->uncomp, &c->dpage, err, errlen) < 0)
		return -1;
	const struct pq_leaf *l = c->l;
	uint64_t n = (uint64_t)h->num_values;
	uint64_t minw = l->phys == PT_BOOLEAN ? 1 : c->width ? c->width : 4;
	if (l->phys == PT_BOOLEAN ? n > c->dpage.len * 8 : n * minw > c->dpage.len)
		return cerr(err, errlen, c, "dictionary of %llu values in %zu bytes", (unsigned long long)n, c->dpage.len);
	c->dict = xcalloc(n ? n : 1, sizeof *c->dict);
	const uint8_t *p = (const uint8_t *)c->dpage.p, *e = p + c->dpage.len;
	for (uint64_t i = 0; i < n; i++) {
		uint32_t len = c->width;
		if (l->phys == PT_BOOLEAN) {
			uint8_t b = (p[i >> 3] >> (i & 7)) & 1;
			c->dict[i] = value_bool(b);
			continue;
		}
		if (l->phys == PT_BYTE_ARRAY) {
			if (e - p < 4)
				return cerr(err, errlen, c, "dictionary page truncated");
			len = le32(p);
			p += 4;
		}
		if ((uint64_t)(e - p) < len || !plain_to_value(l, p, len, &c->dict[i]))
			return cerr(err, errlen, c, "dictionary page truncated");
		p += len;
	}
	c->ndict = (uint32_t)n;
	c->has_dict = true;
	return 0;
}

static bool lvl_init(struct lvl *l, int enc, int max, const uint8_t **p, const uint8_t *end, bool prefixed,
		     size_t v2len, uint64_t n)
{
	memset(l, 0, sizeof *l);
	l->bw = bit_width((uint64_t)max);
	if (enc == ENC_BIT_PACKED) {
		uint64_t bytes = (n * (uint64_t)l->bw + 7) / 8;
		if (bytes > (uint64_t)(end - *p))
			return false;
		l->msb = true;
		l->p = *p;
		l->nbits = bytes * 8;
		*p += bytes;
		return true;
	}
	if (enc != ENC_RLE)
		return false;
	size_t len = v2len;
	if (prefixed) {
		if (end - *p < 4)
			return false;
		len = le32(*p);
		*p += 4;
	}
	if (len > (size_t)(end - *p))
		return false;
	rle_init(&l->r, *p, len, l->bw);
	*p += len;
	return true;
}

static int init_values(struct colrd *c, int enc, const uint8_t *p, const uint8_t *end, char *err, size_t errlen)
{
	const struct pq_leaf *l = c->l;
	c->enc = enc;
	c->vp = p;
	c->vend = end;
	c->bit = 0;
	switch (enc) {
	case ENC_PLAIN:
		return 0;
	case ENC_PLAIN_DICT:
	case ENC_RLE_DICT:
		if (!c->has_dict)
			return cerr(err, errlen, c, "dictionary-encoded page without a dictionary");
		if (p >= end) {
			rle_init(&c->rd, p, 0, 0);
			return 0;
		}
		if (*p > 32)
			return cerr(err, errlen, c, "dictionary index width %d", *p);
		rle_init(&c->rd, p + 1, (size_t)(end - p - 1), *p);
		return 0;
	case ENC_RLE:
		if (l->phys != PT_BOOLEAN)
			return cerr(err, errlen, c, "RLE values for a non-boolean column");
		if (end - p < 4 || le32(p) > (uint64_t)(end - p - 4))
			return cerr(err, errlen, c, "RLE boolean values truncated");
		rle_init(&c->rd, p + 4, le32(p), 1);
		return 0;
	case ENC_DBP:
		if (l->phys != PT_INT32 && l->phys != PT_INT64)
			return cerr(err, errlen, c, "DELTA_BINARY_PACKED values for a %s column", ptype_names[l->phys]);
		if (!dbp_init(&c->dbp, p, (size_t)(end - p)))
			return cerr(err, errlen, c, "bad DELTA_BINARY_PACKED header");
		return 0;
	case ENC_DLBA:
	case ENC_DBA: {
		if (l->phys != PT_BYTE_ARRAY && l->phys != PT_FLBA)
			return cerr(err, errlen, c, "delta byte array values for a %s column", ptype_names[l->phys]);
		const uint8_t *q = p;
		if (enc == ENC_DBA) {
			struct dbp_dec scan;
			if (!dbp_init(&c->pre, p, (size_t)(end - p)) || !dbp_init(&scan, p, (size_t)(end - p)) ||
			    !dbp_end(&scan, &q))
				return cerr(err, errlen, c, "bad DELTA_BYTE_ARRAY prefix lengths");
		}
		struct dbp_dec scan;
		if (!dbp_init(&c->dbp, q, (size_t)(end - q)) || !dbp_init(&scan, q, (size_t)(end - q)) ||
		    !dbp_end(&scan, &c->vp))
			return cerr(err, errlen, c, "bad delta-encoded lengths");
		buf_reset(&c->prev);
		return 0;
	}
	case ENC_BSS:
		if (!c->width || l->phys == PT_INT96)
			return cerr(err, errlen, c, "BYTE_STREAM_SPLIT values for a %s column", ptype_names[l->phys]);
		if ((size_t)(end - p) % c->width)
			return cerr(err, errlen, c, "BYTE_STREAM_SPLIT data is not a whole number of values");
		c->bss_n = (size_t)(end - p) / c->width;
		c->bss_i = 0;
		return 0;
	}
	return cerr(err, errlen, c, "encoding %d not supported", enc);
}

/* Load the next data page; 0 with c->eof set at the end of the chunk. */
static int next_page(struct colrd *c, char *err, size_t errlen)
{
	const struct pq_leaf *l = c->l;
	for (;;) {
		if (c->pos >= c->end || (c->pos >= c->decl_end && c->values_left <= 0)) {
			c->eof = true;
			return 0;
		}
		struct tc_reader r;
		tc_init(&r, c->pos, (size_t)(c->end - c->pos));
		struct page_hdr h;
		if (!read_page_header(&r, &h))
			return cerr(err, errlen, c, "corrupt page header: %s", r.err);
		const uint8_t *body = r.p;
		if (h.comp < 0 || h.uncomp < 0 || (size_t)h.comp > (size_t)(c->end - body))
			return cerr(err, errlen, c, "page of %d bytes does not fit in its column chunk", h.comp);
		c->pos = body + h.comp;
#ifndef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION /* fuzzed pages would all fail here */
		if (h.have_crc) {
			uint32_t crc = (uint32_t)crc32(0, body, (uInt)h.comp);
			if (crc != h.crc)
				return cerr(err, errlen, c, "page checksum mismatch (stored %08x, computed %08x): the file is damaged",
					    h.crc, crc);
		}
#endif
		if (h.type == PAGE_DICT) {
			if (!h.have_dict)
				return cerr(err, errlen, c, "dictionary page without its header");
			if (load_dict(c, &h, body, err, errlen) < 0)
				return -1;
			continue;
		}
		if (h.type != PAGE_DATA && h.type != PAGE_DATA_V2)
			continue; /* index pages and anything newer */
		if ((h.type == PAGE_DATA && !h.have_data) || (h.type == PAGE_DATA_V2 && !h.have_v2))
			return cerr(err, errlen, c, "data page without its header");
		if (h.num_values < 0)
			return cerr(err, errlen, c, "negative value count in a page");
		if (h.num_values == 0)
			continue;
		uint64_t n = (uint64_t)h.num_values;
		if (n > ((uint64_t)h.uncomp + (uint64_t)h.comp + 16) << 16)
			return cerr(err, errlen, c, "page claims %llu values in %d bytes", (unsigned long long)n, h.uncomp);
		const uint8_t *p, *end;
		if (h.type == PAGE_DATA) {
			if (inflate_page(c, body, (uint32_t)h.comp, (uint32_t)h.uncomp, &c->page, err, errlen) < 0)
				return -1;
			p = (const uint8_t *)c->page.p;
			end = p + c->page.len;
			if (l->max_rep && !lvl_init(&c->rep, h.rep_enc, l->max_rep, &p, end, true, 0, n))
				return cerr(err, errlen, c, "bad repetition levels");
			if (l->max_def && !lvl_init(&c->def, h.def_enc, l->max_def, &p, end, true, 0, n))
				return cerr(err, errlen, c, "bad definition levels");
		} else {
			if (h.rep_len < 0 || h.def_len < 0 || (int64_t)h.rep_len + h.def_len > h.comp ||
			    (int64_t)h.rep_len + h.def_len > h.uncomp)
				return cerr(err, errlen, c, "level lengths do not fit in the page");
			p = body;
			end = body + h.rep_len + h.def_len;
			if (l->max_rep && !lvl_init(&c->rep, ENC_RLE, l->max_rep, &p, end, false, (size_t)h.rep_len, n))
				return cerr(err, errlen, c, "bad repetition levels");
			p = body + h.rep_len;
			if (l->max_def && !lvl_init(&c->def, ENC_RLE, l->max_def, &p, end, false, (size_t)h.def_len, n))
				return cerr(err, errlen, c, "bad definition levels");
			p = end;
			uint32_t vcomp = (uint32_t)(h.comp - h.rep_len - h.def_len);
			uint32_t vuncomp = (uint32_t)(h.uncomp - h.rep_len - h.def_len);
			if (h.is_compressed && c->codec != CODEC_UNCOMPRESSED && vcomp > 0) {
				if (inflate_page(c, p, vcomp, vuncomp, &c->page, err, errlen) < 0)
					return -1;
				p = (const uint8_t *)c->page.p;
				end = p + c->page.len;
			} else {
				end = p + vcomp;
			}
		}
		if (init_values(c, h.encoding, p, end, err, errlen) < 0)
			return -1;
		c->page_left = n;
		c->values_left -= (int64_t)n;
		return 0;
	}
}

/* Make the next entry's levels current. */
static int peek(struct colrd *c, char *err, size_t errlen)
{
	if (c->have || c->eof)
		return 0;
	if (!c->page_left) {
		if (next_page(c, err, errlen) < 0)
			return -1;
		if (c->eof)
			return 0;
	}
	const struct pq_leaf *l = c->l;
	c->crep = 0;
	c->cdef = l->max_def;
	if (l->max_rep && !lvl_next(&c->rep, l->max_rep, &c->crep))
		return cerr(err, errlen, c, "repetition levels truncated or out of range");
	if (l->max_def && !lvl_next(&c->def, l->max_def, &c->cdef))
		return cerr(err, errlen, c, "definition levels truncated or out of range");
	c->have = true;
	return 0;
}

static bool value_bytes(struct colrd *c, uint32_t n, const uint8_t **out)
{
	if ((uint64_t)(c->vend - c->vp) < n)
		return false;
	*out = c->vp;
	c->vp += n;
	return true;
}

/* Decode the current entry's value (the entry is not null). */
static int decode_value(struct colrd *c, struct arena *a, struct value *v, char *err, size_t errlen)
{
	const struct pq_leaf *l = c->l;
	const uint8_t *p;
	uint32_t n = c->width;
	uint8_t tmp[16];
	uint64_t u;
	int64_t x;
	switch (c->enc) {
	case ENC_PLAIN:
		if (l->phys == PT_BOOLEAN) {
			if (c->bit >= (uint64_t)(c->vend - c->vp) * 8)
				goto short_data;
			*v = value_bool((c->vp[c->bit >> 3] >> (c->bit & 7)) & 1);
			c->bit++;
			return 0;
		}
		if (l->phys == PT_BYTE_ARRAY) {
			if (c->vend - c->vp < 4)
				goto short_data;
			n = le32(c->vp);
			c->vp += 4;
		}
		if (!value_bytes(c, n, &p))
			goto short_data;
		break;
	case ENC_PLAIN_DICT:
	case ENC_RLE_DICT:
		if (!rle_next(&c->rd, &u))
			goto short_data;
		if (u >= c->ndict)
			return cerr(err, errlen, c, "dictionary index %llu out of range (%u entries)", (unsigned long long)u,
				    c->ndict);
		*v = c->dict[u];
		goto copy;
	case ENC_RLE:
		if (!rle_next(&c->rd, &u))
			goto short_data;
		*v = value_bool(u & 1);
		return 0;
	case ENC_DBP:
		if (!dbp_next(&c->dbp, &x))
			goto short_data;
		for (int i = 0; i < 8; i++)
			tmp[i] = (uint8_t)((uint64_t)x >> (8 * i));
		p = tmp;
		n = 8;
		break;
	case ENC_DLBA:
	case ENC_DBA: {
		int64_t pre = 0, len;
		if ((c->enc == ENC_DBA && !dbp_next(&c->pre, &pre)) || !dbp_next(&c->dbp, &len))
			goto short_data;
		if (pre < 0 || len < 0 || (uint64_t)pre > c->prev.len || (uint64_t)len > (uint64_t)(c->vend - c->vp))
			return cerr(err, errlen, c, "delta byte array lengths out of range");
		if (c->enc == ENC_DLBA) {
			p = c->vp;
			n = (uint32_t)len;
			c->vp += len;
			if (c->enc == ENC_DLBA)
				buf_reset(&c->prev);
		} else {
			buf_reset(&c->cur);
			buf_put(&c->cur, c->prev.p, (size_t)pre);
			buf_put(&c->cur, c->vp, (size_t)len);
			c->vp += len;
			struct buf t = c->prev;
			c->prev = c->cur;
			c->cur = t;
			p = (const uint8_t *)c->prev.p;
			n = (uint32_t)c->prev.len;
		}
		if (l->phys == PT_FLBA && n != c->width)
			return cerr(err, errlen, c, "fixed-length value of %u bytes", n);
		break;
	}
	case ENC_BSS:
		if (c->bss_i >= c->bss_n)
			goto short_data;
		for (uint32_t j = 0; j < c->width && j < sizeof tmp; j++)
			tmp[j] = c->vp[j * c->bss_n + c->bss_i];
		c->bss_i++;
		if (c->width > sizeof tmp) {
			/* wide FIXED_LEN_BYTE_ARRAY: gather into the scratch buffer */
			buf_reset(&c->cur);
			for (uint32_t j = 0; j < c->width; j++)
				buf_putc(&c->cur, (char)c->vp[j * c->bss_n + c->bss_i - 1]);
			p = (const uint8_t *)c->cur.p;
		} else {
			p = tmp;
		}
		break;
	default:
		return cerr(err, errlen, c, "encoding %d not supported", c->enc);
	}
	if (!plain_to_value(l, p, n, v))
		return cerr(err, errlen, c, "value does not fit its type");
copy:
	if ((v->type == V_STRING || v->type == V_BINARY) && v->n) {
		char *s = arena_alloc(a, v->n);
		memcpy(s, v->s, v->n);
		v->s = s;
	}
	return 0;
short_data:
	return cerr(err, errlen, c, "fewer values than levels in a page");
}

/* Consume the current entry: its value when defined at the leaf, else null. */
static int take(struct colrd *c, struct arena *a, struct value *v, char *err, size_t errlen)
{
	if (peek(c, err, errlen) < 0)
		return -1;
	if (c->eof)
		return cerr(err, errlen, c, "column ends before its row group");
	c->have = false;
	c->page_left--;
	if (c->cdef < c->l->max_def) {
		*v = value_null();
		return 0;
	}
	return decode_value(c, a, v, err, errlen);
}

/* ---- cursors: rows from levels ---- */

struct pq_cursor {
	struct pq_file *f;
	int *rgs;
	size_t nrgs, rgi;
	bool started;
	int64_t rows_left; /* in the current row group */
	const struct anode **sel;
	const char **sel_names;
	uint32_t *sel_lens;
	size_t nsel;
	struct colrd *rd; /* per leaf; only selected leaves are used */
	bool *active;
	struct value *stack; /* elements of lists being built, innermost last */
	size_t sp, cap;
	char *err;
	size_t errlen;
};

struct pq_cursor *pq_cursor_open(struct pq_file *f, const char *const *columns, size_t ncolumns,
				 const int *row_groups, size_t nrow_groups, char *err, size_t errlen)
{
	struct pq_cursor *c = xcalloc(1, sizeof *c);
	c->f = f;
	size_t nsel = columns ? ncolumns : (size_t)f->root->nkids;
	c->sel = xcalloc(nsel + 1, sizeof *c->sel);
	c->sel_names = xcalloc(nsel + 1, sizeof *c->sel_names);
	c->sel_lens = xcalloc(nsel + 1, sizeof *c->sel_lens);
	c->rd = xcalloc(f->nleaves + 1, sizeof *c->rd);
	c->active = xcalloc(f->nleaves + 1, sizeof *c->active);
	for (size_t i = 0; i < nsel; i++) {
		long k = (long)i;
		if (columns) {
			/* the column of that name ignoring case (indexed: wide files
			 * have thousands), unless another has it exactly, which a
			 * Parquet file (unlike a Delta table) may hold */
			k = type_field_index(f->schema, columns[i]);
			for (int j = 0; k >= 0 && j < f->root->nkids && strcmp(f->root->names[k], columns[i]); j++)
				if (!strcmp(f->root->names[j], columns[i]))
					k = j;
			if (k < 0) {
				errf(err, errlen, "no column '%s' in the file", columns[i]);
				pq_cursor_close(c);
				return NULL;
			}
		}
		c->sel[i] = f->root->kids[k];
		c->sel_names[i] = f->root->names[k];
		c->sel_lens[i] = f->root->name_lens[k];
		for (int li = c->sel[i]->leaf_lo; li < c->sel[i]->leaf_hi; li++)
			c->active[li] = true;
	}
	c->nsel = nsel;
	if (row_groups) {
		for (size_t i = 0; i < nrow_groups; i++)
			if (row_groups[i] < 0 || row_groups[i] >= f->nrgs) {
				errf(err, errlen, "no row group %d in the file", row_groups[i]);
				pq_cursor_close(c);
				return NULL;
			}
		c->nrgs = nrow_groups;
		c->rgs = xcalloc(nrow_groups + 1, sizeof *c->rgs);
		memcpy(c->rgs, row_groups, nrow_groups * sizeof *c->rgs);
	} else {
		c->nrgs = (size_t)f->nrgs;
		c->rgs = xcalloc(c->nrgs + 1, sizeof *c->rgs);
		for (int i = 0; i < f->nrgs; i++)
			c->rgs[i] = i;
	}
	return c;
}

void pq_cursor_close(struct pq_cursor *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->f->nleaves; i++)
		colrd_free(&c->rd[i]);
	free(c->rd);
	free(c->active);
	free(c->sel);
	free(c->sel_names);
	free(c->sel_lens);
	free(c->rgs);
	free(c->stack);
	free(c);
}

static void push(struct pq_cursor *c, const struct value *v)
{
	if (c->sp == c->cap) {
		c->cap = c->cap ? 2 * c->cap : 256;
		c->stack = xrealloc(c->stack, c->cap * sizeof *c->stack);
	}
	c->stack[c->sp++] = *v;
}

/* Consume one entry from every leaf under n, which is null or empty at a
 * level below `below`. */
static int skip_node(struct pq_cursor *c, const struct anode *n, int below, struct arena *a)
{
	for (int li = n->leaf_lo; li < n->leaf_hi; li++) {
		struct colrd *r = &c->rd[li];
		if (peek(r, c->err, c->errlen) < 0)
			return -1;
		if (r->eof)
			return cerr(c->err, c->errlen, r, "column ends before its row group");
		if (r->cdef >= below)
			return cerr(c->err, c->errlen, r, "definition levels disagree with column '%s'",
				    c->f->leaves[n->leaf_lo].path);
		struct value v;
		if (take(r, a, &v, c->err, c->errlen) < 0)
			return -1;
	}
	return 0;
}

static int build(struct pq_cursor *c, const struct anode *n, struct arena *a, struct value *out)
{
	struct colrd *first = &c->rd[n->leaf_lo];
	if (n->leaf_lo == n->leaf_hi) {
		*out = value_null();
		return 0;
	}
	if (n->optional || n->kind == A_LIST || n->kind == A_MAP) {
		if (peek(first, c->err, c->errlen) < 0)
			return -1;
		if (first->eof)
			return cerr(c->err, c->errlen, first, "column ends before its row group");
		if (n->optional && first->cdef < n->def) {
			*out = value_null();
			return skip_node(c, n, n->def, a);
		}
	}
	switch (n->kind) {
	case A_LEAF:
		return take(first, a, out, c->err, c->errlen);
	case A_STRUCT: {
		struct value *kv = arena_alloc(a, 2 * (size_t)n->nkids * sizeof *kv);
		for (int i = 0; i < n->nkids; i++) {
			kv[2 * i] = value_str(n->names[i], n->name_lens[i]);
			if (build(c, n->kids[i], a, &kv[2 * i + 1]) < 0)
				return -1;
		}
		out->type = V_OBJECT;
		out->n = (uint32_t)n->nkids;
		out->a = kv;
		return 0;
	}
	case A_LIST:
	case A_MAP: {
		bool map = n->kind == A_MAP;
		out->type = map ? V_MAP : V_ARRAY;
		out->n = 0;
		out->a = NULL;
		if (first->cdef < n->rdef)
			return skip_node(c, n, n->rdef, a); /* present but empty */
		size_t base = c->sp;
		for (;;) {
			struct value v[2];
			if (build(c, n->kids[0], a, &v[0]) < 0)
				return -1;
			if (map && n->nkids == 2) {
				if (build(c, n->kids[1], a, &v[1]) < 0)
					return -1;
			} else {
				v[1] = value_null();
			}
			push(c, &v[0]);
			if (map)
				push(c, &v[1]);
			if (peek(first, c->err, c->errlen) < 0)
				return -1;
			if (first->eof || !first->have || first->crep != n->rlevel)
				break;
		}
		size_t cnt = c->sp - base;
		if (cnt / (map ? 2 : 1) > UINT32_MAX)
			return cerr(c->err, c->errlen, first, "list too long");
		struct value *arr = arena_alloc(a, cnt * sizeof *arr);
		memcpy(arr, c->stack + base, cnt * sizeof *arr);
		c->sp = base;
		out->a = arr;
		out->n = (uint32_t)(map ? cnt / 2 : cnt);
		return 0;
	}
	}
	return -1;
}

/* Start row group c->rgs[c->rgi]. */
static void start_rg(struct pq_cursor *c)
{
	int rg = c->rgs[c->rgi];
	for (size_t li = 0; li < c->f->nleaves; li++)
		if (c->active[li])
			colrd_start(&c->rd[li], c->f, (int)li, rg);
	c->rows_left = c->f->rgs[rg].num_rows;
}

/* At the end of a row group every column must be used up. */
static int end_rg(struct pq_cursor *c)
{
	for (size_t li = 0; li < c->f->nleaves; li++) {
		if (!c->active[li])
			continue;
		struct colrd *r = &c->rd[li];
		if (peek(r, c->err, c->errlen) < 0)
			return -1;
		if (!r->eof)
			return cerr(c->err, c->errlen, r, "more values than the row group's %lld rows",
				    (long long)c->f->rgs[c->rgs[c->rgi]].num_rows);
	}
	return 0;
}

int pq_next(struct pq_cursor *c, struct arena *a, struct value *row, char *err, size_t errlen)
{
	c->err = err;
	c->errlen = errlen;
	if (!c->started) {
		c->started = true;
		c->rgi = 0;
		if (c->nrgs)
			start_rg(c);
	}
	while (c->rgi < c->nrgs && c->rows_left == 0) {
		if (end_rg(c) < 0)
			return -1;
		if (++c->rgi < c->nrgs)
			start_rg(c);
	}
	if (c->rgi >= c->nrgs)
		return 0;
	/* a row starts with repetition level 0 in every column */
	for (size_t li = 0; li < c->f->nleaves; li++) {
		if (!c->active[li])
			continue;
		struct colrd *r = &c->rd[li];
		if (peek(r, err, errlen) < 0)
			return -1;
		if (r->eof)
			return cerr(err, errlen, r, "column ends before its row group");
		if (r->crep != 0)
			return cerr(err, errlen, r, "repetition levels disagree between columns");
	}
	struct value *kv = arena_alloc(a, 2 * (c->nsel ? c->nsel : 1) * sizeof *kv);
	for (size_t i = 0; i < c->nsel; i++) {
		kv[2 * i] = value_str(c->sel_names[i], c->sel_lens[i]);
		if (build(c, c->sel[i], a, &kv[2 * i + 1]) < 0)
			return -1;
	}
	row->type = V_OBJECT;
	row->n = (uint32_t)c->nsel;
	row->a = kv;
	c->rows_left--;
	return 1;
}

/* ---- writing ---- */

void pq_write_opts_default(struct pq_write_opts *o)
{
	memset(o, 0, sizeof *o);
	o->codec = PQ_ZSTD;
	o->row_group_bytes = 128 << 20;
	o->page_bytes = 1 << 20;
	o->dict_limit_bytes = 1 << 20;
}

static int codec_number(enum pq_codec c)
{
	switch (c) {
	case PQ_UNCOMPRESSED: return CODEC_UNCOMPRESSED;
	case PQ_SNAPPY: return CODEC_SNAPPY;
	case PQ_GZIP: return CODEC_GZIP;
	case PQ_ZSTD: return CODEC_ZSTD;
	case PQ_LZ4_RAW: return CODEC_LZ4_RAW;
	case PQ_BROTLI: return CODEC_BROTLI;
	}
	return CODEC_ZSTD;
}

struct wstat {
	bool has;
	struct buf min, max;
	int64_t nulls;
};

struct cjob;

struct wleaf {
	char *path;       /* dotted Delta path, for file stats */
	char **parts;     /* path_in_schema */
	size_t nparts;
	bool in_repeated; /* inside a list or map */
	const struct type *t;
	struct pq_leaf rl; /* how the reader would convert it (stats) */
	int phys;
	int32_t type_len;
	int max_def, max_rep;
	/* the open page */
	struct buf reps, defs; /* uint32_t levels */
	struct buf vals;       /* PLAIN values; booleans one byte each */
	struct buf idx;        /* uint32_t dictionary indices */
	uint32_t entries;
	bool page_dict;        /* the open page holds indices */
	/* the dictionary of the current row group */
	bool dict_off;         /* fell back to PLAIN for this row group */
	struct buf dict, dict_pos; /* PLAIN entries; uint32_t start of each */
	uint32_t ndict;
	uint32_t dict_values; /* values looked up in it this row group */
	bool dict_probed;     /* its usefulness was judged (DICT_PROBE) */
	uint32_t *slots;
	size_t nslots;
	bool dict_used;
	/* the chunk: data pages, written after the dictionary page */
	struct buf chunk;
	int64_t chunk_uncomp, chunk_values;
	bool used_plain;
	struct wstat pst, cst, fst;
	struct cjob *dict_job; /* the dictionary page, compressed, at a row group's end */
};

struct wchunk {
	int64_t values, uncomp, comp, data_off, dict_off, file_off;
	bool plain, dict;
	struct buf min, max;
	bool has_minmax;
	int64_t nulls;
};

struct wrg {
	int64_t rows, bytes, comp;
	struct wchunk *cols;
};

struct wnode { /* one SchemaElement */
	const char *name;
	int phys, rep, conv, logical;
	int32_t type_len, scale, precision, nchildren;
	bool ts_utc;
	int int_bits;
};

struct pq_writer {
	char *path;
	FILE *fp;
	int64_t off;
	struct pq_write_opts o;
	int codec;
	struct type *schema;
	struct wleaf *leaves;
	size_t nleaves;
	struct wnode *nodes;
	size_t nnodes, capnodes;
	struct wrg *rgs;
	size_t nrgs;
	int64_t rows, rg_rows;
	struct buf scratch;
	/* pages being compressed, oldest first, and recycled jobs */
	struct cjob *jobs, *jobs_last, *free_jobs;
	int njobs, nfree;
	int64_t jobs_uncomp; /* Σ header (with a 1-byte compressed size) + body: at least what they add to chunk_uncomp */
	int64_t jobs_min;    /* Σ the same header: at least what they add to the chunks */
	int64_t jobs_max;    /* Σ the most they can add to the chunks */
	char job_err[200];   /* why a page could not be compressed */
	struct pend *pend;
	size_t npend, cappend;
	bool failed;
	size_t *name_len;     /* of each top-level field */
	bool names_distinct;  /* no two top-level fields share a name */
};

static struct wnode *wnode_add(struct pq_writer *w, const char *name, int rep)
{
	if (w->nnodes == w->capnodes) {
		w->capnodes = w->capnodes ? 2 * w->capnodes : 32;
		w->nodes = xrealloc(w->nodes, w->capnodes * sizeof *w->nodes);
	}
	struct wnode *n = &w->nodes[w->nnodes++];
	memset(n, 0, sizeof *n);
	n->name = name;
	n->rep = rep;
	n->phys = -1;
	n->conv = -1;
	return n;
}

static int dec_bytes(int precision)
{
	/* smallest n with 2^(8n-1) > 10^precision */
	int n = 1;
	while (n < 16 && (8 * n - 1) < (int)ceil(precision * 3.3219280948873622))
		n++;
	return n;
}

struct wbuild {
	struct pq_writer *w;
	const char *parts[128];
	size_t nparts;
	struct buf dpath;
};

static int add_type(struct wbuild *b, const char *name, const struct type *t, int rep, int def, int mrep,
		    bool in_rep, char *err, size_t errlen);

static void add_leaf(struct wbuild *b, const struct type *t, int def, int mrep, bool in_rep)
{
	struct pq_writer *w = b->w;
	w->leaves = xrealloc(w->leaves, (w->nleaves + 1) * sizeof *w->leaves);
	struct wleaf *l = &w->leaves[w->nleaves++];
	memset(l, 0, sizeof *l);
	l->path = xstrndup(b->dpath.len ? b->dpath.p : "", b->dpath.len);
	l->parts = xcalloc(b->nparts, sizeof *l->parts);
	for (size_t i = 0; i < b->nparts; i++)
		l->parts[i] = xstrdup(b->parts[i]);
	l->nparts = b->nparts;
	l->in_repeated = in_rep;
	l->t = t;
	l->max_def = def;
	l->max_rep = mrep;
	struct pq_leaf *rl = &l->rl;
	rl->max_def = def;
	switch (t->kind) {
	case T_BOOLEAN: l->phys = PT_BOOLEAN, rl->cv = CV_BOOL; break;
	case T_BYTE: case T_SHORT: case T_INT: l->phys = PT_INT32, rl->cv = CV_INT32; break;
	case T_DATE: l->phys = PT_INT32, rl->cv = CV_DATE; break;
	case T_VOID: l->phys = PT_INT32, rl->cv = CV_NULL; break;
	case T_LONG: l->phys = PT_INT64, rl->cv = CV_INT64; break;
	case T_TIMESTAMP: case T_TIMESTAMP_NTZ:
		l->phys = PT_INT64, rl->cv = CV_TS_MICROS, rl->ntz = t->kind == T_TIMESTAMP_NTZ;
		break;
	case T_FLOAT: l->phys = PT_FLOAT, rl->cv = CV_FLOAT; break;
	case T_DOUBLE: l->phys = PT_DOUBLE, rl->cv = CV_DOUBLE; break;
	case T_STRING: l->phys = PT_BYTE_ARRAY, rl->cv = CV_STRING; break;
	case T_BINARY: l->phys = PT_BYTE_ARRAY, rl->cv = CV_BINARY; break;
	case T_DECIMAL:
		rl->scale = t->scale;
		if (t->precision <= 9)
			l->phys = PT_INT32, rl->cv = CV_DEC32;
		else if (t->precision <= 18)
			l->phys = PT_INT64, rl->cv = CV_DEC64;
		else
			l->phys = PT_FLBA, l->type_len = dec_bytes(t->precision), rl->cv = CV_DECBYTES;
		break;
	default: break;
	}
	rl->phys = l->phys;
	rl->type_len = l->type_len;
}

static int add_type(struct wbuild *b, const char *name, const struct type *t, int rep, int def, int mrep,
		    bool in_rep, char *err, size_t errlen)
{
	struct pq_writer *w = b->w;
	if (b->nparts >= sizeof b->parts / sizeof *b->parts)
		return errf(err, errlen, "schema nested too deeply");
	b->parts[b->nparts++] = name;
	if (rep == REP_OPTIONAL)
		def++;
	size_t n = w->nnodes;
	struct wnode *node = wnode_add(w, name, rep);
	int rc = 0;
	switch (t->kind) {
	case T_STRUCT: {
		if (!t->nfields) {
			b->nparts--;
			return errf(err, errlen, "struct '%s' has no fields: Parquet cannot store it", name);
		}
		node->nchildren = (int32_t)t->nfields;
		size_t mark = b->dpath.len;
		for (size_t i = 0; i < t->nfields && !rc; i++) {
			b->dpath.len = mark;
			if (mark)
				buf_putc(&b->dpath, '.');
			buf_puts(&b->dpath, t->fields[i].name);
			rc = add_type(b, t->fields[i].name, t->fields[i].type,
				      t->fields[i].nullable ? REP_OPTIONAL : REP_REQUIRED, def, mrep, in_rep, err, errlen);
		}
		b->dpath.len = mark;
		break;
	}
	case T_ARRAY: {
		node->nchildren = 1;
		node->conv = CT_LIST;
		node->logical = LT_LIST;
		struct wnode *r = wnode_add(w, "list", REP_REPEATED);
		r->nchildren = 1;
		b->parts[b->nparts++] = "list";
		rc = add_type(b, "element", t->elem, t->contains_null ? REP_OPTIONAL : REP_REQUIRED, def + 1, mrep + 1,
			      true, err, errlen);
		b->nparts--;
		break;
	}
	case T_MAP: {
		node->nchildren = 1;
		node->conv = CT_MAP;
		node->logical = LT_MAP;
		struct wnode *r = wnode_add(w, "key_value", REP_REPEATED);
		r->nchildren = 2;
		b->parts[b->nparts++] = "key_value";
		rc = add_type(b, "key", t->key, REP_REQUIRED, def + 1, mrep + 1, true, err, errlen);
		if (!rc)
			rc = add_type(b, "value", t->val, t->contains_null ? REP_OPTIONAL : REP_REQUIRED, def + 1,
				      mrep + 1, true, err, errlen);
		b->nparts--;
		break;
	}
	default:
		add_leaf(b, t, def, mrep, in_rep);
		node = &w->nodes[n]; /* add_leaf does not move nodes, but be explicit */
		node->phys = w->leaves[w->nleaves - 1].phys;
		node->type_len = w->leaves[w->nleaves - 1].type_len;
		switch (t->kind) {
		case T_BYTE: node->conv = CT_INT_8, node->logical = LT_INTEGER, node->int_bits = 8; break;
		case T_SHORT: node->conv = CT_INT_16, node->logical = LT_INTEGER, node->int_bits = 16; break;
		case T_DATE: node->conv = CT_DATE, node->logical = LT_DATE; break;
		case T_STRING: node->conv = CT_UTF8, node->logical = LT_STRING; break;
		case T_TIMESTAMP: node->conv = CT_TIMESTAMP_MICROS, node->logical = LT_TIMESTAMP, node->ts_utc = true; break;
		case T_TIMESTAMP_NTZ: node->conv = CT_TIMESTAMP_MICROS, node->logical = LT_TIMESTAMP; break;
		case T_DECIMAL:
			node->conv = CT_DECIMAL, node->logical = LT_DECIMAL;
			node->scale = t->scale, node->precision = t->precision;
			if (t->precision < 1 || t->precision > 38 || t->scale < 0 || t->scale > t->precision)
				rc = errf(err, errlen, "column '%s': decimal(%d,%d) cannot be stored", name, t->precision,
					  t->scale);
			break;
		case T_VOID: node->logical = LT_UNKNOWN; break;
		default: break;
		}
	}
	b->nparts--;
	return rc;
}

static void page_start(struct pq_writer *w, struct wleaf *l);

struct pq_writer *pq_writer_open(const char *path, const struct type *schema, const struct pq_write_opts *o,
				 char *err, size_t errlen)
{
	if (schema->kind != T_STRUCT) {
		errf(err, errlen, "a file schema must be a struct");
		return NULL;
	}
	struct pq_writer *w = xcalloc(1, sizeof *w);
	if (o)
		w->o = *o;
	else
		pq_write_opts_default(&w->o);
	if (w->o.row_group_bytes <= 0)
		w->o.row_group_bytes = 128 << 20;
	if (w->o.page_bytes <= 0)
		w->o.page_bytes = 1 << 20;
	if (w->o.dict_limit_bytes <= 0)
		w->o.dict_limit_bytes = 1 << 20;
	w->codec = codec_number(w->o.codec);
	w->schema = type_clone(schema);
	struct wnode *root = wnode_add(w, "schema", REP_REQUIRED);
	root->nchildren = (int32_t)w->schema->nfields;
	struct wbuild b = {.w = w, .dpath = BUF_INIT};
	for (size_t i = 0; i < w->schema->nfields; i++) {
		const struct field *fd = &w->schema->fields[i];
		b.dpath.len = 0;
		buf_puts(&b.dpath, fd->name);
		if (add_type(&b, fd->name, fd->type, fd->nullable ? REP_OPTIONAL : REP_REQUIRED, 0, 0, false, err,
			     errlen) < 0) {
			buf_free(&b.dpath);
			w->fp = NULL;
			pq_writer_abort(w);
			return NULL;
		}
	}
	buf_free(&b.dpath);
	w->name_len = xcalloc(w->schema->nfields + 1, sizeof *w->name_len);
	w->names_distinct = true;
	for (size_t i = 0; i < w->schema->nfields; i++) {
		w->name_len[i] = strlen(w->schema->fields[i].name);
		for (size_t k = 0; k < i; k++)
			if (!strcmp(w->schema->fields[k].name, w->schema->fields[i].name))
				w->names_distinct = false;
	}
	for (size_t i = 0; i < w->nleaves; i++)
		page_start(w, &w->leaves[i]);
	w->path = xstrdup(path);
	w->fp = fopen(path, "wbe");
	if (!w->fp) {
		errf(err, errlen, "%s", strerror(errno));
		pq_writer_abort(w);
		return NULL;
	}
	setvbuf(w->fp, NULL, _IOFBF, 1 << 20);
	if (fwrite("PAR1", 1, 4, w->fp) != 4) {
		errf(err, errlen, "%s", strerror(errno));
		pq_writer_abort(w);
		return NULL;
	}
	w->off = 4;
	return w;
}

/* ---- values → PLAIN bytes ---- */

struct enc {
	uint8_t fixed[16];
	const uint8_t *p;  /* fixed, the value's own bytes, or NULL: in scratch */
	size_t n;
	size_t soff;       /* where in the writer's scratch, when p is NULL */
};

static bool int_of(const struct value *v, int64_t *out)
{
	switch (v->type) {
	case V_INT:
		*out = v->i;
		return true;
	case V_DECIMAL: {
		int128_t p = pow10_128(v->scale);
		if (v->d % p)
			return false;
		int128_t q = v->d / p;
		if (q < INT64_MIN || q > INT64_MAX)
			return false;
		*out = (int64_t)q;
		return true;
	}
	case V_FLOAT:
		if (v->f != floor(v->f) || !(fabs(v->f) < 9.2e18))
			return false;
		*out = (int64_t)v->f;
		return true;
	default:
		return false;
	}
}

static inline void put_le(uint8_t *p, uint64_t v, int n)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	if (n == 8) {
		memcpy(p, &v, 8);
		return;
	}
	if (n == 4) {
		uint32_t x = (uint32_t)v;
		memcpy(p, &x, 4);
		return;
	}
#endif
	for (int i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static int enc_value(struct pq_writer *w, const struct wleaf *l, const struct value *v, bool key, struct enc *e,
		     char *err, size_t errlen)
{
	const struct type *t = l->t;
	int64_t i;
	double d;
	e->p = e->fixed;
	switch (t->kind) {
	case T_BOOLEAN:
		if (v->type != V_BOOL)
			goto wrong;
		e->fixed[0] = v->b;
		e->n = 1;
		return 0;
	case T_BYTE:
	case T_SHORT:
	case T_INT:
	case T_LONG: {
		bool ok = int_of(v, &i);
		if (!ok && key && v->type == V_STRING) {
			char tmp[32], *end;
			if (v->n && v->n < sizeof tmp) {
				memcpy(tmp, v->s, v->n);
				tmp[v->n] = 0;
				errno = 0;
				i = strtoll(tmp, &end, 10);
				ok = !*end && !errno;
			}
		}
		if (!ok)
			goto wrong;
		int64_t lo = t->kind == T_BYTE ? INT8_MIN : t->kind == T_SHORT ? INT16_MIN : t->kind == T_INT ? INT32_MIN : INT64_MIN;
		int64_t hi = t->kind == T_BYTE ? INT8_MAX : t->kind == T_SHORT ? INT16_MAX : t->kind == T_INT ? INT32_MAX : INT64_MAX;
		if (i < lo || i > hi)
			return errf(err, errlen, "column '%s': %lld out of range for %s", l->path, (long long)i,
				    tkind_name(t->kind));
		if (t->kind == T_LONG) {
			put_le(e->fixed, (uint64_t)i, 8);
			e->n = 8;
		} else {
			put_le(e->fixed, (uint64_t)i, 4);
			e->n = 4;
		}
		return 0;
	}
	case T_FLOAT:
	case T_DOUBLE:
		if (v->type == V_STRING && v->n == 3 && !memcmp(v->s, "NaN", 3))
			d = NAN;
		else if (v->type == V_STRING && v->n == 8 && !memcmp(v->s, "Infinity", 8))
			d = INFINITY;
		else if (v->type == V_STRING && v->n == 9 && !memcmp(v->s, "-Infinity", 9))
			d = -INFINITY;
		else if (v->type == V_DECIMAL) {
			static const double p10[] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
						     1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
			if (v->d <= ((int128_t)1 << 53) && v->d >= -((int128_t)1 << 53) && v->scale <= 22) {
				/* both exact in a double: one division rounds correctly */
				d = (double)(int64_t)v->d / p10[v->scale];
			} else {
				/* through text: unscaled / 10^scale in doubles would round twice */
				char tmp[48];
				tmp[decimal_format(tmp, v->d, v->scale)] = 0;
				d = strtod(tmp, NULL);
			}
		} else if (!value_to_double(v, &d))
			goto wrong;
		if (t->kind == T_FLOAT) {
			float f = (float)d;
			memcpy(e->fixed, &f, 4);
			e->n = 4;
		} else {
			memcpy(e->fixed, &d, 8);
			e->n = 8;
		}
		return 0;
	case T_DECIMAL: {
		int128_t u;
		if (v->type == V_INT) {
			if (t->scale > 38)
				goto wrong;
			u = (int128_t)v->i * pow10_128(t->scale);
		} else if (v->type == V_DECIMAL) {
			u = v->d;
			if (v->scale < t->scale) {
				u *= pow10_128(t->scale - v->scale);
			} else if (v->scale > t->scale) {
				int128_t p = pow10_128(v->scale - t->scale);
				if (u % p)
					return errf(err, errlen, "column '%s': value has more than %d decimal places", l->path,
						    t->scale);
				u /= p;
			}
		} else {
			goto wrong;
		}
		int128_t lim = pow10_128(t->precision);
		if (u >= lim || u <= -lim)
			return errf(err, errlen, "column '%s': value does not fit decimal(%d,%d)", l->path, t->precision,
				    t->scale);
		if (l->phys == PT_INT32) {
			put_le(e->fixed, (uint64_t)(int64_t)u, 4);
			e->n = 4;
		} else if (l->phys == PT_INT64) {
			put_le(e->fixed, (uint64_t)(int64_t)u, 8);
			e->n = 8;
		} else {
			e->n = (size_t)l->type_len;
			unsigned __int128 x = (unsigned __int128)u;
			for (size_t k = 0; k < e->n; k++)
				e->fixed[e->n - 1 - k] = (uint8_t)(x >> (8 * k));
		}
		return 0;
	}
	case T_STRING:
		if (v->type != V_STRING)
			goto wrong;
		e->p = (const uint8_t *)v->s;
		e->n = v->n;
		return 0;
	case T_BINARY:
		if (v->type == V_BINARY) {
			e->p = (const uint8_t *)v->s;
			e->n = v->n;
			return 0;
		}
		if (v->type != V_STRING)
			goto wrong;
		buf_grow(&w->scratch, (size_t)v->n / 4 * 3 + 4);
		long n = base64_decode((unsigned char *)w->scratch.p + w->scratch.len, v->s, v->n);
		if (n < 0)
			return errf(err, errlen, "column '%s': binary value is not base64", l->path);
		e->p = NULL;
		e->soff = w->scratch.len;
		e->n = (size_t)n;
		w->scratch.len += (size_t)n;
		return 0;
	case T_DATE:
		if (v->type == V_DATE) {
			i = v->i;
		} else if (v->type == V_STRING) {
			if (!parse_iso_date(v->s, v->n, &i))
				return errf(err, errlen, "column '%s': not a date: '%.*s'", l->path, (int)(v->n > 40 ? 40 : v->n),
					    v->s);
		} else {
			goto wrong;
		}
		if (i < INT32_MIN || i > INT32_MAX)
			return errf(err, errlen, "column '%s': date out of range", l->path);
		put_le(e->fixed, (uint64_t)i, 4);
		e->n = 4;
		return 0;
	case T_TIMESTAMP:
	case T_TIMESTAMP_NTZ:
		if (v->type == V_TIMESTAMP || v->type == V_TIMESTAMP_NTZ) {
			i = v->i;
		} else if (v->type == V_STRING) {
			bool zone;
			if (!parse_iso_timestamp(v->s, v->n, &i, &zone))
				return errf(err, errlen, "column '%s': not a timestamp: '%.*s'", l->path,
					    (int)(v->n > 40 ? 40 : v->n), v->s);
		} else {
			goto wrong;
		}
		put_le(e->fixed, (uint64_t)i, 8);
		e->n = 8;
		return 0;
	case T_VOID:
		goto wrong;
	default:
		break;
	}
wrong:
	return errf(err, errlen, "column '%s': %s value for a %s column", l->path, vtype_name((enum vtype)v->type),
		    tkind_name(t->kind));
}

/* Walk a row against the schema: with `emit` false only check it, so a row
 * that does not fit is refused before anything is buffered. */
struct walk {
	struct pq_writer *w;
	size_t leaf;
	char *err;
	size_t errlen;
};

/* One leaf entry of the row being checked; the row is only emitted once all
 * of it fits the schema. */
struct pend {
	uint32_t leaf;
	uint16_t rep, def;
	bool has, fixed;
	struct enc e;
};

/* The next entry, for the current leaf; the caller fills in the value. */
static inline struct pend *pend_next(struct walk *wk, int rep, int def)
{
	struct pq_writer *w = wk->w;
	if (w->npend == w->cappend) {
		w->cappend = w->cappend ? 2 * w->cappend : 64;
		w->pend = xrealloc(w->pend, w->cappend * sizeof *w->pend);
	}
	struct pend *p = &w->pend[w->npend++];
	p->leaf = (uint32_t)wk->leaf;
	p->rep = (uint16_t)rep;
	p->def = (uint16_t)def;
	p->has = p->fixed = false;
	return p;
}

static int raw_cmp(const struct wleaf *l, const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
	switch (l->phys) {
	case PT_BOOLEAN: return (int)a[0] - (int)b[0];
	case PT_INT32: {
		int32_t x = (int32_t)le32(a), y = (int32_t)le32(b);
		return x < y ? -1 : x > y;
	}
	case PT_INT64: {
		int64_t x = (int64_t)le64(a), y = (int64_t)le64(b);
		return x < y ? -1 : x > y;
	}
	case PT_FLOAT: {
		float x, y;
		memcpy(&x, a, 4);
		memcpy(&y, b, 4);
		return x < y ? -1 : x > y;
	}
	case PT_DOUBLE: {
		double x, y;
		memcpy(&x, a, 8);
		memcpy(&y, b, 8);
		return x < y ? -1 : x > y;
	}
	case PT_FLBA: {
		/* big-endian two's complement decimals */
		if ((a[0] ^ b[0]) & 0x80)
			return (a[0] & 0x80) ? -1 : 1;
		return memcmp(a, b, an);
	}
	default: {
		size_t m = an < bn ? an : bn;
		int c = m ? memcmp(a, b, m) : 0;
		return c ? c : an < bn ? -1 : an > bn;
	}
	}
}

static void stat_add(const struct wleaf *l, struct wstat *s, const uint8_t *p, size_t n)
{
	if (s->has) {
		/* integers, the usual case, compared in place: every value of
		 * the leaf has the same width */
		if (l->phys == PT_INT64) {
			int64_t x = (int64_t)le64(p);
			if (x < (int64_t)le64((const uint8_t *)s->min.p))
				memcpy(s->min.p, p, 8);
			if (x > (int64_t)le64((const uint8_t *)s->max.p))
				memcpy(s->max.p, p, 8);
			return;
		}
		if (l->phys == PT_INT32) {
			int32_t x = (int32_t)le32(p);
			if (x < (int32_t)le32((const uint8_t *)s->min.p))
				memcpy(s->min.p, p, 4);
			if (x > (int32_t)le32((const uint8_t *)s->max.p))
				memcpy(s->max.p, p, 4);
			return;
		}
	}
	if (l->phys == PT_FLOAT || l->phys == PT_DOUBLE) {
		double d;
		if (l->phys == PT_FLOAT) {
			float f;
			memcpy(&f, p, 4);
			d = f;
		} else {
			memcpy(&d, p, 8);
		}
		if (isnan(d))
			return;
	}
	if (!s->has) {
		buf_reset(&s->min);
		buf_reset(&s->max);
		buf_put(&s->min, p, n);
		buf_put(&s->max, p, n);
		s->has = true;
		return;
	}
	if (raw_cmp(l, p, n, (const uint8_t *)s->min.p, s->min.len) < 0) {
		buf_reset(&s->min);
		buf_put(&s->min, p, n);
	}
	if (raw_cmp(l, p, n, (const uint8_t *)s->max.p, s->max.len) > 0) {
		buf_reset(&s->max);
		buf_put(&s->max, p, n);
	}
}

static void stat_merge(const struct wleaf *l, struct wstat *into, const struct wstat *s)
{
	into->nulls += s->nulls;
	if (s->has) {
		stat_add(l, into, (const uint8_t *)s->min.p, s->min.len);
		stat_add(l, into, (const uint8_t *)s->max.p, s->max.len);
	}
}

static void stat_reset(struct wstat *s)
{
	s->has = false;
	s->nulls = 0;
}

/* Values after which a dictionary that holds more than half of them is
 * given up for the row group. */
#define DICT_PROBE 32768

static inline bool same_bytes(const uint8_t *a, const uint8_t *b, size_t n)
{
	/* dictionary keys are mostly 4 or 8 bytes: avoid a libc call for them */
	if (n == 8) {
		uint64_t x, y;
		memcpy(&x, a, 8);
		memcpy(&y, b, 8);
		return x == y;
	}
	if (n == 4) {
		uint32_t x, y;
		memcpy(&x, a, 4);
		memcpy(&y, b, 4);
		return x == y;
	}
	return !memcmp(a, b, n);
}

static uint32_t dict_find_or_add(struct wleaf *l, const uint8_t *p, size_t n)
{
	if (l->ndict * 2 >= l->nslots) {
		size_t ns = l->nslots ? 2 * l->nslots : 1024;
		uint32_t *slots = xcalloc(ns, sizeof *slots);
		const uint32_t *pos = (const uint32_t *)l->dict_pos.p;
		for (uint32_t k = 0; k < l->ndict; k++) {
			const uint8_t *q = (const uint8_t *)l->dict.p + pos[k];
			size_t qn = l->phys == PT_BYTE_ARRAY ? le32(q) : (size_t)(k + 1 < l->ndict ? pos[k + 1] : l->dict.len) - pos[k];
			if (l->phys == PT_BYTE_ARRAY)
				q += 4;
			size_t h = hash_bytes(q, qn, 0) & (ns - 1);
			while (slots[h])
				h = (h + 1) & (ns - 1);
			slots[h] = k + 1;
		}
		free(l->slots);
		l->slots = slots;
		l->nslots = ns;
	}
	size_t h = hash_bytes(p, n, 0) & (l->nslots - 1);
	const uint32_t *pos = (const uint32_t *)l->dict_pos.p;
	while (l->slots[h]) {
		uint32_t k = l->slots[h] - 1;
		const uint8_t *q = (const uint8_t *)l->dict.p + pos[k];
		size_t qn;
		if (l->phys == PT_BYTE_ARRAY) {
			qn = le32(q);
			q += 4;
		} else {
			qn = n;
		}
		if (qn == n && same_bytes(p, q, n))
			return k;
		h = (h + 1) & (l->nslots - 1);
	}
	uint32_t k = l->ndict++;
	uint32_t at = (uint32_t)l->dict.len;
	buf_put(&l->dict_pos, &at, sizeof at);
	if (l->phys == PT_BYTE_ARRAY) {
		uint8_t len[4];
		put_le(len, n, 4);
		buf_put(&l->dict, len, 4);
	}
	buf_put(&l->dict, p, n);
	l->slots[h] = k + 1;
	return k;
}

static void emit(struct pq_writer *w, size_t li, int rep, int def, const struct enc *e)
{
	struct wleaf *l = &w->leaves[li];
	uint32_t r = (uint32_t)rep, d = (uint32_t)def;
	if (l->max_rep)
		buf_put(&l->reps, &r, 4);
	if (l->max_def)
		buf_put(&l->defs, &d, 4);
	l->entries++;
	if (!e) {
		l->pst.nulls++;
		return;
	}
	stat_add(l, &l->pst, e->p, e->n);
	if (l->phys == PT_BOOLEAN) {
		buf_putc(&l->vals, (char)e->p[0]);
	} else if (l->page_dict) {
		l->dict_values++;
		uint32_t k = dict_find_or_add(l, e->p, e->n);
		buf_put(&l->idx, &k, 4);
	} else {
		if (l->phys == PT_BYTE_ARRAY) {
			uint8_t len[4];
			put_le(len, e->n, 4);
			buf_put(&l->vals, len, 4);
		}
		if (e->n == 8) {
			/* the usual plain value: a copy of known size, in line */
			buf_grow(&l->vals, 8);
			memcpy(l->vals.p + l->vals.len, e->p, 8);
			l->vals.len += 8;
		} else {
			buf_put(&l->vals, e->p, e->n);
		}
	}
}

static int walk_nulls(struct walk *wk, const struct type *t, int rep, int def)
{
	/* every leaf under t gets a null entry at (rep, def) */
	switch (t->kind) {
	case T_STRUCT:
		for (size_t i = 0; i < t->nfields; i++)
			walk_nulls(wk, t->fields[i].type, rep, def);
		return 0;
	case T_ARRAY:
		return walk_nulls(wk, t->elem, rep, def);
	case T_MAP:
		walk_nulls(wk, t->key, rep, def);
		return walk_nulls(wk, t->val, rep, def);
	default:
		pend_next(wk, rep, def);
		wk->leaf++;
		return 0;
	}
}

/* A field by name; records usually carry their fields in schema order, so
 * the one at the field's position is tried first. */
static const struct value *field_of(const struct value *obj, const char *name, size_t hint)
{
	size_t len = strlen(name);
	if (hint < obj->n && obj->a[2 * hint].n == len && !memcmp(obj->a[2 * hint].s, name, len)) {
		/* the last of duplicate keys wins, as in value_get */
		size_t i = obj->n;
		while (--i > hint && !(obj->a[2 * i].n == len && !memcmp(obj->a[2 * i].s, name, len)))
			;
		return &obj->a[2 * i + 1];
	}
	const struct value *v = value_get(obj, name, len);
	if (v)
		return v;
	for (uint32_t i = obj->n; i-- > 0;) {
		const struct value *k = &obj->a[2 * i];
		if (strlen(name) == k->n && !strncasecmp(k->s, name, k->n))
			return &obj->a[2 * i + 1];
	}
	return NULL;
}

static int walk(struct walk *wk, const char *name, const struct type *t, bool nullable, const struct value *v,
		int rep, int def, int mrep, bool key)
{
	if (!v || v->type == V_NULL) {
		if (!nullable)
			return errf(wk->err, wk->errlen, "column '%s' is required but the value is %s", name,
				    v ? "null" : "missing");
		walk_nulls(wk, t, rep, def);
		return 0;
	}
	int d = def + (nullable ? 1 : 0);
	switch (t->kind) {
	case T_STRUCT:
		if (v->type != V_OBJECT)
			return errf(wk->err, wk->errlen, "column '%s': %s value for a struct", name,
				    vtype_name((enum vtype)v->type));
		for (size_t i = 0; i < t->nfields; i++) {
			const struct field *fd = &t->fields[i];
			if (walk(wk, fd->name, fd->type, fd->nullable, field_of(v, fd->name, i), rep, d, mrep, false) < 0)
				return -1;
		}
		return 0;
	case T_ARRAY:
		if (v->type != V_ARRAY)
			return errf(wk->err, wk->errlen, "column '%s': %s value for an array", name,
				    vtype_name((enum vtype)v->type));
		if (!v->n) {
			walk_nulls(wk, t->elem, rep, d);
			return 0;
		} else {
			size_t start = wk->leaf;
			for (uint32_t i = 0; i < v->n; i++) {
				wk->leaf = start;
				if (walk(wk, name, t->elem, t->contains_null, &v->a[i], i ? mrep + 1 : rep, d + 1, mrep + 1,
					 false) < 0)
					return -1;
			}
		}
		return 0;
	case T_MAP: {
		if (v->type != V_MAP && v->type != V_OBJECT)
			return errf(wk->err, wk->errlen, "column '%s': %s value for a map", name,
				    vtype_name((enum vtype)v->type));
		if (!v->n) {
			walk_nulls(wk, t->key, rep, d);
			walk_nulls(wk, t->val, rep, d);
			return 0;
		}
		size_t start = wk->leaf;
		for (uint32_t i = 0; i < v->n; i++) {
			wk->leaf = start;
			int r = i ? mrep + 1 : rep;
			if (v->a[2 * i].type == V_NULL)
				return errf(wk->err, wk->errlen, "column '%s': null map key", name);
			if (walk(wk, name, t->key, false, &v->a[2 * i], r, d + 1, mrep + 1, true) < 0 ||
			    walk(wk, name, t->val, t->contains_null, &v->a[2 * i + 1], r, d + 1, mrep + 1, false) < 0)
				return -1;
		}
		return 0;
	}
	default: {
		/* encoded in place: the entry is dropped with the row if it fails */
		struct pend *p = pend_next(wk, rep, d);
		p->e.soff = 0;
		if (enc_value(wk->w, &wk->w->leaves[wk->leaf], v, key, &p->e, wk->err, wk->errlen) < 0)
			return -1;
		p->has = true;
		p->fixed = p->e.p == p->e.fixed; /* re-pointed when emitted: the array may move */
		wk->leaf++;
		return 0;
	}
	}
}

static void write_stats(struct tc_writer *tw, int16_t id, const struct wstat *s)
{
	tc_w_struct_begin(tw, id);
	tc_w_i64(tw, 3, s->nulls);
	if (s->has) {
		tc_w_binary(tw, 5, s->max.p, s->max.len);
		tc_w_binary(tw, 6, s->min.p, s->min.len);
	}
	tc_w_struct_end(tw);
}

/* ---- compressing pages ----
 *
 * Compression is most of a writer's work after encoding.  With
 * pq_write_opts.threads > 1 a page is handed to a helper thread (one for the
 * process, shared by all writers) while the caller encodes the rows that
 * follow; a writer that must wait for a page compresses queued pages itself
 * meanwhile.  Finished pages join their column chunk in the order they were
 * made, so the file does not depend on timing, and whatever depends on
 * compressed sizes (the row group limit, pq_writer_bytes) is decided
 * exactly: from bounds when they settle it, else after waiting. */

/* Pages a writer may have in flight before it waits for the oldest. */
#define MAX_JOBS 4
/* how much a page header can outgrow hdr_min: its compressed size and CRC
 * are 1-byte varints there, 5 bytes at most once known */
#define HDR_GROWTH 8

struct cjob {
	struct cjob *next;      /* in the writer's list */
	struct cjob *qnext;     /* in the helper's queue */
	struct wleaf *leaf;
	bool dict;              /* a dictionary page (of leaf->dict) */
	int codec, level;
	uint32_t entries;       /* values, or dictionary entries */
	bool page_dict;         /* a data page of dictionary indices */
	struct wstat st;        /* a data page's statistics */
	struct buf body;        /* a data page, uncompressed */
	const struct buf *in;   /* what is compressed: body, or the leaf's dictionary */
	struct buf hdr, comp;   /* the result */
	size_t hdr_min;         /* the header's size with a 1-byte compressed size and CRC */
	int done;               /* atomic: hdr and comp are ready */
	int rc;
	char err[160];
};

static struct {
	pthread_mutex_t mu;
	pthread_cond_t work, done;
	struct cjob *head, *tail;
	pthread_once_t once;
	bool running;
} helper = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, PTHREAD_COND_INITIALIZER, NULL, NULL,
	    PTHREAD_ONCE_INIT, false};

/* The page header; crc is the CRC-32 of the page's bytes as written (after
 * compression), which readers that check it (parquet-mr, weir) use to find
 * a damaged page instead of decoding garbage. */
static void page_header(struct buf *hdr, const struct cjob *j, size_t comp, uint32_t crc)
{
	buf_reset(hdr);
	struct tc_writer tw;
	tc_writer_init(&tw, hdr);
	tc_w_struct_begin(&tw, 0);
	tc_w_i32(&tw, 1, j->dict ? PAGE_DICT : PAGE_DATA);
	tc_w_i32(&tw, 2, (int32_t)j->in->len);
	tc_w_i32(&tw, 3, (int32_t)comp);
	tc_w_i32(&tw, 4, (int32_t)crc);
	if (j->dict) {
		tc_w_struct_begin(&tw, 7);
		tc_w_i32(&tw, 1, (int32_t)j->entries);
		tc_w_i32(&tw, 2, ENC_PLAIN);
	} else {
		tc_w_struct_begin(&tw, 5);
		tc_w_i32(&tw, 1, (int32_t)j->entries);
		tc_w_i32(&tw, 2, j->page_dict ? ENC_RLE_DICT : ENC_PLAIN);
		tc_w_i32(&tw, 3, ENC_RLE);
		tc_w_i32(&tw, 4, ENC_RLE);
		write_stats(&tw, 5, &j->st);
	}
	tc_w_struct_end(&tw);
	tc_w_struct_end(&tw);
}

/* Runs on any thread: touches nothing but the job (and, for a dictionary
 * page, the leaf's dictionary, which stays put until the job is done). */
static void run_job(struct cjob *j)
{
	buf_reset(&j->comp);
	j->rc = codec_compress(j->codec, j->level, (const uint8_t *)j->in->p, j->in->len, &j->comp, j->err,
			       sizeof j->err);
	if (!j->rc)
		page_header(&j->hdr, j, j->comp.len, (uint32_t)crc32(0, (const Bytef *)j->comp.p, (uInt)j->comp.len));
	__atomic_store_n(&j->done, 1, __ATOMIC_RELEASE);
}

static struct cjob *helper_pop(void)
{
	struct cjob *j = helper.head;
	if (j) {
		helper.head = j->qnext;
		if (!helper.head)
			helper.tail = NULL;
	}
	return j;
}

static void *helper_main(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&helper.mu);
	for (;;) {
		struct cjob *j = helper_pop();
		if (!j) {
			pthread_cond_wait(&helper.work, &helper.mu);
			continue;
		}
		pthread_mutex_unlock(&helper.mu);
		run_job(j);
		pthread_mutex_lock(&helper.mu);
		pthread_cond_broadcast(&helper.done);
	}
	return NULL;
}

static void helper_start(void)
{
	/* signals stay with the threads the program made */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pthread_t t;
	pthread_attr_t at;
	pthread_attr_init(&at);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	helper.running = pthread_create(&t, &at, helper_main, NULL) == 0;
	pthread_attr_destroy(&at);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

static bool job_done(const struct cjob *j)
{
	return __atomic_load_n(&j->done, __ATOMIC_ACQUIRE);
}

/* Wait for a queued job, compressing queued pages meanwhile. */
static void job_wait(struct cjob *j)
{
	if (job_done(j))
		return;
	pthread_mutex_lock(&helper.mu);
	while (!job_done(j)) {
		struct cjob *k = helper_pop();
		if (k) {
			pthread_mutex_unlock(&helper.mu);
			run_job(k);
			pthread_mutex_lock(&helper.mu);
			pthread_cond_broadcast(&helper.done);
		} else {
			pthread_cond_wait(&helper.done, &helper.mu);
		}
	}
	pthread_mutex_unlock(&helper.mu);
}

static struct cjob *job_new(struct pq_writer *w, struct wleaf *l, bool dict)
{
	struct cjob *j = w->free_jobs;
	if (j)
		w->free_jobs = j->next, w->nfree--;
	else
		j = xcalloc(1, sizeof *j);
	j->next = j->qnext = NULL;
	j->leaf = l;
	j->dict = dict;
	j->codec = w->codec;
	j->level = w->o.level;
	j->done = 0;
	j->rc = 0;
	buf_reset(&j->body);
	j->in = dict ? &l->dict : &j->body;
	return j;
}

static void job_free(struct cjob *j)
{
	buf_free(&j->body), buf_free(&j->hdr), buf_free(&j->comp);
	buf_free(&j->st.min), buf_free(&j->st.max);
	free(j);
}

/* Jobs are kept for reuse, with their buffers, as many as can be in flight:
 * the dictionary pages of a wide row group are not kept. */
static void job_recycle(struct pq_writer *w, struct cjob *j)
{
	if (w->nfree > MAX_JOBS) {
		job_free(j);
		return;
	}
	j->next = w->free_jobs;
	w->free_jobs = j;
	w->nfree++;
}

/* The oldest job is done: a data page joins its chunk; a dictionary page
 * waits in the job for flush_row_group. */
static int job_retire(struct pq_writer *w, char *err, size_t errlen)
{
	struct cjob *j = w->jobs;
	w->jobs = j->next;
	if (!w->jobs)
		w->jobs_last = NULL;
	w->njobs--;
	size_t bound = codec_bound(w->codec, j->in->len);
	w->jobs_uncomp -= (int64_t)(j->hdr_min + j->in->len);
	w->jobs_min -= (int64_t)j->hdr_min;
	w->jobs_max -= (int64_t)(j->hdr_min + HDR_GROWTH + bound);
	int rc = 0;
	if (j->rc) {
		if (!w->job_err[0])
			snprintf(w->job_err, sizeof w->job_err, "%s", j->err);
		w->failed = true;
		rc = errf(err, errlen, "%s", j->err);
	} else if (!j->dict) {
		struct wleaf *l = j->leaf;
		buf_put(&l->chunk, j->hdr.p, j->hdr.len);
		buf_put(&l->chunk, j->comp.p, j->comp.len);
		l->chunk_uncomp += (int64_t)(j->hdr.len + j->in->len);
	}
	if (j->dict && !j->rc)
		j->leaf->dict_job = j;
	else
		job_recycle(w, j);
	return rc;
}

/* Every job of the writer done and retired. */
static int jobs_drain(struct pq_writer *w, char *err, size_t errlen)
{
	int rc = 0;
	char later[8]; /* the first error is the one reported */
	while (w->jobs) {
		job_wait(w->jobs);
		if (job_retire(w, rc ? later : err, rc ? sizeof later : errlen) < 0)
			rc = -1;
	}
	return rc;
}

static int job_submit(struct pq_writer *w, struct cjob *j, char *err, size_t errlen)
{
	page_header(&j->hdr, j, 0, 0);
	j->hdr_min = j->hdr.len;
	w->jobs_uncomp += (int64_t)(j->hdr_min + j->in->len);
	w->jobs_min += (int64_t)j->hdr_min;
	w->jobs_max += (int64_t)(j->hdr_min + HDR_GROWTH + codec_bound(w->codec, j->in->len));
	if (w->jobs_last)
		w->jobs_last->next = j;
	else
		w->jobs = j;
	w->jobs_last = j;
	w->njobs++;
	if (w->o.threads > 1)
		pthread_once(&helper.once, helper_start);
	if (w->o.threads > 1 && helper.running) {
		pthread_mutex_lock(&helper.mu);
		if (helper.tail)
			helper.tail->qnext = j;
		else
			helper.head = j;
		helper.tail = j;
		pthread_cond_signal(&helper.work);
		pthread_mutex_unlock(&helper.mu);
	} else {
		run_job(j);
	}
	/* pages done join their chunks at once; a full queue waits for its oldest */
	int rc = 0;
	while (rc == 0 && w->jobs && (job_done(w->jobs) || w->njobs > MAX_JOBS)) {
		job_wait(w->jobs);
		rc = job_retire(w, err, errlen);
	}
	return rc;
}

static void page_start(struct pq_writer *w, struct wleaf *l)
{
	buf_reset(&l->reps);
	buf_reset(&l->defs);
	buf_reset(&l->vals);
	buf_reset(&l->idx);
	l->entries = 0;
	l->page_dict = !l->dict_off && !w->o.no_dictionary && l->phys != PT_BOOLEAN;
	stat_reset(&l->pst);
}

static void put_levels(struct buf *body, const struct buf *lv, int max)
{
	size_t at = body->len;
	buf_put(body, "\0\0\0\0", 4);
	rle_encode(body, (const uint32_t *)lv->p, lv->len / 4, bit_width((uint64_t)max));
	put_le((uint8_t *)body->p + at, body->len - at - 4, 4);
}

static int flush_page(struct pq_writer *w, struct wleaf *l, char *err, size_t errlen)
{
	if (!l->entries)
		return 0;
	struct cjob *j = job_new(w, l, false);
	struct buf *body = &j->body;
	if (l->max_rep)
		put_levels(body, &l->reps, l->max_rep);
	if (l->max_def)
		put_levels(body, &l->defs, l->max_def);
	if (l->page_dict) {
		int bw = l->ndict > 1 ? bit_width(l->ndict - 1) : l->ndict ? 1 : 0;
		buf_putc(body, (char)bw);
		rle_encode(body, (const uint32_t *)l->idx.p, l->idx.len / 4, bw);
		l->dict_used = true;
	} else if (l->phys == PT_BOOLEAN) {
		size_t n = l->vals.len, at = body->len;
		buf_grow(body, (n + 7) / 8);
		memset(body->p + at, 0, (n + 7) / 8);
		for (size_t i = 0; i < n; i++)
			if (l->vals.p[i])
				body->p[at + i / 8] |= (char)(1 << (i % 8));
		body->len += (n + 7) / 8;
		l->used_plain = true;
	} else {
		buf_put(body, l->vals.p, l->vals.len);
		l->used_plain = true;
	}
	j->entries = l->entries;
	j->page_dict = l->page_dict;
	j->st.has = l->pst.has;
	j->st.nulls = l->pst.nulls;
	buf_reset(&j->st.min);
	buf_reset(&j->st.max);
	if (l->pst.has) {
		buf_put(&j->st.min, l->pst.min.p, l->pst.min.len);
		buf_put(&j->st.max, l->pst.max.p, l->pst.max.len);
	}
	l->chunk_values += l->entries;
	stat_merge(l, &l->cst, &l->pst);
	page_start(w, l);
	return job_submit(w, j, err, errlen);
}

static int out_write(struct pq_writer *w, const void *p, size_t n, char *err, size_t errlen)
{
	if (n && fwrite(p, 1, n, w->fp) != n) {
		w->failed = true;
		return errf(err, errlen, "%s", strerror(errno));
	}
	w->off += (int64_t)n;
	return 0;
}

static int flush_row_group(struct pq_writer *w, char *err, size_t errlen)
{
	if (!w->rg_rows)
		return 0;
	/* the last pages and the dictionaries are compressed together */
	for (size_t i = 0; i < w->nleaves; i++) {
		struct wleaf *l = &w->leaves[i];
		if (flush_page(w, l, err, errlen) < 0)
			return -1;
	}
	for (size_t i = 0; i < w->nleaves; i++) {
		struct wleaf *l = &w->leaves[i];
		if (l->dict_used) {
			struct cjob *j = job_new(w, l, true);
			j->entries = l->ndict;
			if (job_submit(w, j, err, errlen) < 0)
				return -1;
		}
	}
	if (jobs_drain(w, err, errlen) < 0)
		return -1;
	w->rgs = xrealloc(w->rgs, (w->nrgs + 1) * sizeof *w->rgs);
	struct wrg *rg = &w->rgs[w->nrgs++];
	memset(rg, 0, sizeof *rg);
	rg->rows = w->rg_rows;
	rg->cols = xcalloc(w->nleaves + 1, sizeof *rg->cols);
	for (size_t i = 0; i < w->nleaves; i++) {
		struct wleaf *l = &w->leaves[i];
		struct wchunk *c = &rg->cols[i];
		c->file_off = w->off;
		c->dict_off = -1;
		int64_t start = w->off;
		struct cjob *dj = l->dict_job;
		if (dj) {
			c->dict_off = w->off;
			c->uncomp += (int64_t)(dj->hdr.len + l->dict.len);
			bool failed = out_write(w, dj->hdr.p, dj->hdr.len, err, errlen) < 0 ||
				      out_write(w, dj->comp.p, dj->comp.len, err, errlen) < 0;
			l->dict_job = NULL;
			job_recycle(w, dj);
			if (failed)
				return -1;
		}
		c->data_off = w->off;
		if (out_write(w, l->chunk.p, l->chunk.len, err, errlen) < 0)
			return -1;
		c->uncomp += l->chunk_uncomp;
		c->comp = w->off - start;
		c->values = l->chunk_values;
		c->plain = l->used_plain;
		c->dict = l->dict_used;
		c->has_minmax = l->cst.has;
		c->nulls = l->cst.nulls;
		buf_put(&c->min, l->cst.min.p, l->cst.min.len);
		buf_put(&c->max, l->cst.max.p, l->cst.max.len);
		stat_merge(l, &l->fst, &l->cst);
		rg->bytes += c->uncomp;
		rg->comp += c->comp;
		/* a new dictionary per row group */
		buf_reset(&l->chunk);
		l->chunk_uncomp = l->chunk_values = 0;
		l->used_plain = l->dict_used = false;
		stat_reset(&l->cst);
		buf_reset(&l->dict);
		buf_reset(&l->dict_pos);
		l->ndict = l->dict_values = 0;
		l->dict_probed = false;
		if (l->slots)
			memset(l->slots, 0, l->nslots * sizeof *l->slots);
		l->dict_off = false;
		page_start(w, l);
	}
	w->rg_rows = 0;
	return 0;
}

static int64_t buffered_bytes(const struct pq_writer *w)
{
	int64_t n = 0;
	for (size_t i = 0; i < w->nleaves; i++) {
		const struct wleaf *l = &w->leaves[i];
		n += l->chunk_uncomp + (int64_t)(l->vals.len + l->idx.len / 2 + (l->reps.len + l->defs.len) / 16 +
						 l->dict.len);
	}
	return n;
}

static int failed_err(const struct pq_writer *w, char *err, size_t errlen)
{
	return errf(err, errlen, "%s", w->job_err[0] ? w->job_err : "an earlier write failed");
}

int pq_write_row(struct pq_writer *w, const struct value *row, char *err, size_t errlen)
{
	if (w->failed)
		return failed_err(w, err, errlen);
	if (!row || row->type != V_OBJECT)
		return errf(err, errlen, "a row must be an object");
	struct walk wk = {.w = w, .err = err, .errlen = errlen};
	w->npend = 0;
	buf_reset(&w->scratch);
	/* A row with exactly the schema's fields in its order (what lake-write
	 * hands over) has each at its position: with distinct names no later
	 * duplicate can take it, so field_of's search is not needed. */
	size_t nf = w->schema->nfields;
	bool in_order = w->names_distinct && row->n == nf;
	for (size_t i = 0; in_order && i < nf; i++) {
		const struct value *k = &row->a[2 * i];
		const char *name = w->schema->fields[i].name;
		in_order = k->n == w->name_len[i];
		/* column names are short: compared in line */
		for (uint32_t j = 0; in_order && j < k->n; j++)
			in_order = k->s[j] == name[j];
	}
	for (size_t i = 0; i < nf; i++) {
		const struct field *fd = &w->schema->fields[i];
		const struct value *v = in_order ? &row->a[2 * i + 1] : field_of(row, fd->name, i);
		if (walk(&wk, fd->name, fd->type, fd->nullable, v, 0, 0, 0, false) < 0)
			return -1;
	}
	for (size_t i = 0; i < w->npend; i++) {
		struct pend *p = &w->pend[i];
		if (p->has) {
			if (p->fixed)
				p->e.p = p->e.fixed;
			else if (!p->e.p)
				p->e.p = (const uint8_t *)w->scratch.p + p->e.soff;
			emit(w, p->leaf, p->rep, p->def, &p->e);
		} else {
			emit(w, p->leaf, p->rep, p->def, NULL);
		}
	}
	w->rows++;
	w->rg_rows++;
	for (size_t i = 0; i < w->nleaves; i++) {
		struct wleaf *l = &w->leaves[i];
		bool probe = !l->dict_probed && l->dict_values >= DICT_PROBE;
		if (probe)
			l->dict_probed = true;
		if (l->page_dict && ((int64_t)l->dict.len > w->o.dict_limit_bytes ||
				     (probe && l->ndict > l->dict_values / 2))) {
			/* the dictionary has grown too big, or after a sample it is
			 * clear that most values are distinct and it only costs time:
			 * finish this page with it, the rest of the row group goes PLAIN */
			l->dict_off = true;
			if (flush_page(w, l, err, errlen) < 0)
				return w->failed = true, -1;
		} else if ((int64_t)(l->vals.len + l->idx.len / 2) >= w->o.page_bytes ||
			   l->entries >= 1u << 20) {
			if (flush_page(w, l, err, errlen) < 0)
				return w->failed = true, -1;
		}
	}
	/* pages in flight add their bodies and headers of 1 to 4 bytes more
	 * than with a 1-byte compressed size: wait for them only when that
	 * decides it */
	int64_t lo = buffered_bytes(w) + w->jobs_uncomp;
	bool full = lo >= w->o.row_group_bytes;
	if (!full && lo + 4 * w->njobs >= w->o.row_group_bytes) {
		if (jobs_drain(w, err, errlen) < 0)
			return w->failed = true, -1;
		full = buffered_bytes(w) >= w->o.row_group_bytes;
	}
	if (full && flush_row_group(w, err, errlen) < 0)
		return w->failed = true, -1;
	return 0;
}

/* pq_writer_bytes without the pages in flight */
static int64_t settled_bytes(const struct pq_writer *w)
{
	int64_t n = w->off;
	for (size_t i = 0; i < w->nleaves; i++) {
		const struct wleaf *l = &w->leaves[i];
		n += (int64_t)(l->chunk.len + l->vals.len + l->idx.len / 4 + l->dict.len / 2);
	}
	return n;
}

int64_t pq_writer_bytes(struct pq_writer *w)
{
	char err[8];
	if (jobs_drain(w, err, sizeof err) < 0)
		w->failed = true;
	return settled_bytes(w);
}

bool pq_writer_reached(struct pq_writer *w, int64_t bytes)
{
	int64_t n = settled_bytes(w);
	if (n + w->jobs_max < bytes)
		return false;
	if (n + w->jobs_min >= bytes)
		return true;
	return pq_writer_bytes(w) >= bytes || w->failed;
}

static void write_footer(struct pq_writer *w, struct buf *b)
{
	struct tc_writer tw;
	tc_writer_init(&tw, b);
	tc_w_struct_begin(&tw, 0);
	tc_w_i32(&tw, 1, 1);
	tc_w_list(&tw, 2, TC_STRUCT, (uint32_t)w->nnodes);
	for (size_t i = 0; i < w->nnodes; i++) {
		const struct wnode *n = &w->nodes[i];
		tc_w_struct_begin(&tw, 0);
		if (n->phys >= 0)
			tc_w_i32(&tw, 1, n->phys);
		if (n->phys == PT_FLBA)
			tc_w_i32(&tw, 2, n->type_len);
		if (i)
			tc_w_i32(&tw, 3, n->rep);
		tc_w_binary(&tw, 4, n->name, strlen(n->name));
		if (n->phys < 0)
			tc_w_i32(&tw, 5, n->nchildren);
		if (n->conv >= 0)
			tc_w_i32(&tw, 6, n->conv);
		if (n->logical == LT_DECIMAL) {
			tc_w_i32(&tw, 7, n->scale);
			tc_w_i32(&tw, 8, n->precision);
		}
		if (n->logical) {
			tc_w_struct_begin(&tw, 10);
			tc_w_struct_begin(&tw, (int16_t)n->logical);
			if (n->logical == LT_DECIMAL) {
				tc_w_i32(&tw, 1, n->scale);
				tc_w_i32(&tw, 2, n->precision);
			} else if (n->logical == LT_TIMESTAMP) {
				tc_w_bool(&tw, 1, n->ts_utc);
				tc_w_struct_begin(&tw, 2);
				tc_w_empty(&tw, 2); /* MICROS */
				tc_w_struct_end(&tw);
			} else if (n->logical == LT_INTEGER) {
				tc_w_i8(&tw, 1, (int8_t)n->int_bits);
				tc_w_bool(&tw, 2, true);
			}
			tc_w_struct_end(&tw);
			tc_w_struct_end(&tw);
		}
		tc_w_struct_end(&tw);
	}
	tc_w_i64(&tw, 3, w->rows);
	tc_w_list(&tw, 4, TC_STRUCT, (uint32_t)w->nrgs);
	for (size_t g = 0; g < w->nrgs; g++) {
		const struct wrg *rg = &w->rgs[g];
		tc_w_struct_begin(&tw, 0);
		tc_w_list(&tw, 1, TC_STRUCT, (uint32_t)w->nleaves);
		for (size_t i = 0; i < w->nleaves; i++) {
			const struct wchunk *c = &rg->cols[i];
			const struct wleaf *l = &w->leaves[i];
			tc_w_struct_begin(&tw, 0);
			tc_w_i64(&tw, 2, c->file_off);
			tc_w_struct_begin(&tw, 3);
			tc_w_i32(&tw, 1, l->phys);
			int encs[3], ne = 0;
			encs[ne++] = ENC_RLE;
			if (c->plain || !c->dict)
				encs[ne++] = ENC_PLAIN;
			if (c->dict)
				encs[ne++] = ENC_RLE_DICT;
			tc_w_list(&tw, 2, TC_I32, (uint32_t)ne);
			for (int k = 0; k < ne; k++)
				tc_w_elem_i32(&tw, encs[k]);
			tc_w_list(&tw, 3, TC_BINARY, (uint32_t)l->nparts);
			for (size_t k = 0; k < l->nparts; k++)
				tc_w_elem_binary(&tw, l->parts[k], strlen(l->parts[k]));
			tc_w_i32(&tw, 4, w->codec);
			tc_w_i64(&tw, 5, c->values);
			tc_w_i64(&tw, 6, c->uncomp);
			tc_w_i64(&tw, 7, c->comp);
			tc_w_i64(&tw, 9, c->data_off);
			if (c->dict_off >= 0)
				tc_w_i64(&tw, 11, c->dict_off);
			struct wstat st = {.has = c->has_minmax, .min = c->min, .max = c->max, .nulls = c->nulls};
			write_stats(&tw, 12, &st);
			tc_w_struct_end(&tw);
			tc_w_struct_end(&tw);
		}
		tc_w_i64(&tw, 2, rg->bytes);
		tc_w_i64(&tw, 3, rg->rows);
		tc_w_i64(&tw, 5, rg->cols[0].file_off);
		tc_w_i64(&tw, 6, rg->comp);
		tc_w_struct_end(&tw);
	}
	static const char created_by[] = "weir version " WEIR_VERSION;
	tc_w_binary(&tw, 6, created_by, sizeof created_by - 1);
	tc_w_list(&tw, 7, TC_STRUCT, (uint32_t)w->nleaves);
	for (size_t i = 0; i < w->nleaves; i++) {
		tc_w_struct_begin(&tw, 0);
		tc_w_empty(&tw, 1); /* TYPE_ORDER */
		tc_w_struct_end(&tw);
	}
	tc_w_struct_end(&tw);
}

static void file_stats(struct pq_writer *w, struct pq_file_stats *st)
{
	memset(st, 0, sizeof *st);
	st->num_rows = w->rows;
	st->file_bytes = w->off;
	st->cols = xcalloc(w->nleaves + 1, sizeof *st->cols);
	for (size_t i = 0; i < w->nleaves; i++) {
		struct wleaf *l = &w->leaves[i];
		if (l->in_repeated)
			continue;
		struct pq_col_stats *c = &st->cols[st->ncols++];
		c->path = xstrdup(l->path);
		c->kind = l->t->kind;
		c->null_count = l->fst.nulls;
		c->min = c->max = value_null();
		if (l->fst.has && l->t->kind != T_VOID &&
		    plain_to_value(&l->rl, (const uint8_t *)l->fst.min.p, (uint32_t)l->fst.min.len, &c->min) &&
		    plain_to_value(&l->rl, (const uint8_t *)l->fst.max.p, (uint32_t)l->fst.max.len, &c->max)) {
			c->has_minmax = true;
			if (c->min.type == V_STRING || c->min.type == V_BINARY) {
				c->min.s = xstrndup(c->min.n ? c->min.s : "", c->min.n);
				c->max.s = xstrndup(c->max.n ? c->max.s : "", c->max.n);
			}
		}
	}
}

void pq_file_stats_free(struct pq_file_stats *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->ncols; i++) {
		struct pq_col_stats *c = &s->cols[i];
		if (c->has_minmax && (c->min.type == V_STRING || c->min.type == V_BINARY)) {
			free((char *)c->min.s);
			free((char *)c->max.s);
		}
		free(c->path);
	}
	free(s->cols);
	memset(s, 0, sizeof *s);
}

static void writer_free(struct pq_writer *w)
{
	/* the helper may still be compressing pages of an abandoned file */
	while (w->jobs) {
		struct cjob *j = w->jobs;
		job_wait(j);
		w->jobs = j->next;
		job_free(j);
	}
	while (w->free_jobs) {
		struct cjob *j = w->free_jobs;
		w->free_jobs = j->next;
		job_free(j);
	}
	for (size_t i = 0; i < w->nleaves; i++) {
		struct wleaf *l = &w->leaves[i];
		if (l->dict_job)
			job_free(l->dict_job);
		free(l->path);
		for (size_t k = 0; k < l->nparts; k++)
			free(l->parts[k]);
		free(l->parts);
		buf_free(&l->reps), buf_free(&l->defs), buf_free(&l->vals), buf_free(&l->idx);
		buf_free(&l->dict), buf_free(&l->dict_pos), buf_free(&l->chunk);
		free(l->slots);
		struct wstat *ss[] = {&l->pst, &l->cst, &l->fst};
		for (int k = 0; k < 3; k++)
			buf_free(&ss[k]->min), buf_free(&ss[k]->max);
	}
	free(w->leaves);
	for (size_t g = 0; g < w->nrgs; g++) {
		for (size_t i = 0; i < w->nleaves; i++)
			buf_free(&w->rgs[g].cols[i].min), buf_free(&w->rgs[g].cols[i].max);
		free(w->rgs[g].cols);
	}
	free(w->rgs);
	free(w->nodes);
	type_free(w->schema);
	buf_free(&w->scratch);
	free(w->pend);
	free(w->path);
	free(w->name_len);
	free(w);
}

int pq_writer_close(struct pq_writer *w, struct pq_file_stats *stats, char *err, size_t errlen)
{
	int rc = 0;
	if (w->failed) {
		rc = failed_err(w, err, errlen);
	} else if (flush_row_group(w, err, errlen) < 0) {
		rc = -1;
	} else {
		struct buf footer = BUF_INIT;
		write_footer(w, &footer);
		uint8_t tail[8];
		put_le(tail, footer.len, 4);
		memcpy(tail + 4, "PAR1", 4);
		if (out_write(w, footer.p, footer.len, err, errlen) < 0 || out_write(w, tail, 8, err, errlen) < 0)
			rc = -1;
		buf_free(&footer);
		if (!rc && (fflush(w->fp) != 0 || fsync(fileno(w->fp)) != 0))
			rc = errf(err, errlen, "%s", strerror(errno));
	}
	if (fclose(w->fp) != 0 && !rc)
		rc = errf(err, errlen, "%s", strerror(errno));
	w->fp = NULL;
	if (!rc && stats)
		file_stats(w, stats);
	if (rc)
		unlink(w->path);
	writer_free(w);
	return rc;
}

void pq_writer_abort(struct pq_writer *w)
{
	if (!w)
		return;
	if (w->fp) {
		fclose(w->fp);
		unlink(w->path);
	}
	writer_free(w);
}
