/* schema.h - Delta Lake data types (ARCHITECTURE §5): the one type tree that
 * weir-parse checks records against, the framed encoding announces, and the
 * Parquet and Delta modules map onto files.
 *
 * Two text forms: Spark-DDL-like ("user_id BIGINT NOT NULL, tags
 * MAP<STRING,STRING>") for people, and Delta's schemaString JSON for tables
 * and schema frames. */
#ifndef WEIR_SCHEMA_H
#define WEIR_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "value.h"

enum tkind {
	T_BOOLEAN, T_BYTE, T_SHORT, T_INT, T_LONG, T_FLOAT, T_DOUBLE, T_DECIMAL,
	T_STRING, T_BINARY, T_DATE, T_TIMESTAMP, T_TIMESTAMP_NTZ,
	T_STRUCT, T_ARRAY, T_MAP, T_VOID,
};

struct field;

struct type {
	enum tkind kind;
	int precision, scale;     /* T_DECIMAL */
	bool contains_null;       /* T_ARRAY containsNull, T_MAP valueContainsNull */
	struct type *elem;        /* T_ARRAY */
	struct type *key, *val;   /* T_MAP */
	struct field *fields;     /* T_STRUCT */
	size_t nfields;
	/* T_STRUCT of many fields: field + 1 by name ignoring ASCII case (the
	 * first of each), kept by type_add_field, so that finding each of a wide
	 * table's columns by name does not cost the square of their number */
	uint32_t *by_name;
	size_t by_name_mask;
};

struct field {
	char *name;
	struct type *type;
	bool nullable;
	char *metadata; /* the field's Delta metadata object as JSON text, "{}" when none */
};

/* Parse errors are written to err (room errlen) as "what: near 'text'". */
struct type *schema_parse_ddl(const char *s, char *err, size_t errlen);
struct type *schema_parse_delta(const char *json, size_t n, char *err, size_t errlen);
/* Either form: JSON when the text starts with '{'. */
struct type *schema_parse(const char *s, char *err, size_t errlen);

void schema_write_delta(struct buf *b, const struct type *t);
void schema_write_ddl(struct buf *b, const struct type *t);

struct type *type_new(enum tkind kind);
struct type *type_clone(const struct type *t);
void type_free(struct type *t);
bool type_equal(const struct type *a, const struct type *b);
/* Append a field to a struct type (takes ownership of ft). */
struct field *type_add_field(struct type *st, const char *name, struct type *ft, bool nullable);
/* Case-insensitive field lookup, as Delta names are; -1 when absent. */
long type_field_index(const struct type *st, const char *name);
/* The same for a name of len bytes that need not end in a NUL (a record
 * member's key). */
long type_field_index_n(const struct type *st, const char *name, size_t len);
/* Schema merging, as Delta's mergeSchema does it: the struct members `in`
 * has and t lacks, at any depth (struct members, array elements, map
 * values), added to t in place as nullable, at the end of their struct;
 * *added counts them.  Members match by name ignoring case.  Where both
 * have a member, with strict its types must be the same but for what is
 * added below it (else false, and err names the member by its dotted path
 * under `name`); nullability is not compared, records are judged by it.
 * Without strict t's type stands, for a cast to judge the values by. */
bool type_merge(struct type *t, const struct type *in, bool strict, size_t *added, const char *name, char *err,
		size_t errlen);

const char *tkind_name(enum tkind k); /* Delta's name: "long", "timestamp_ntz", ... */
bool tkind_is_primitive(enum tkind k);

#endif
