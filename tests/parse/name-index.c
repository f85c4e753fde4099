/* name-index.c - the indexes of names against plain scans.  member_names
 * (lib/value.h): objects of 0 to 300 members (both sides of the size from
 * which they are indexed) whose names repeat and differ in case, every
 * member asked whether a later one shadows it, every name of the pool (and
 * ones no member has) looked up for the member a column of that name takes.
 * type_field_index_n (lib/schema.h): structs of 0 to 300 fields built by
 * type_add_field, and their clones, every name looked up.  Built and run by
 * tests/lake-write.bats; prints each mismatch and exits 1 if any. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "schema.h"
#include "value.h"

/* The names members get: sets of one name in several cases, and names
 * longer than eight bytes, so hashing sees words and tails. */
static const char *const pool[] = {
	"a", "A", "id", "ID", "Id", "name", "NAME", "user_identifier", "User_Identifier", "x1", "x2", "x3", "",
	"payload", "PayLoad", "k", "K", "ts", "tS", "long_column_name_number_9",
};
#define NPOOL (sizeof pool / sizeof *pool)
/* looked up only: no member has them */
static const char *const absent[] = {"b", "identifier", "payloads", "long_column_name_number_8"};

static long want_find(const struct value *obj, const char *name, size_t len)
{
	for (uint32_t m = obj->n; m-- > 0;)
		if (obj->a[2 * m].n == len && !memcmp(obj->a[2 * m].s, name, len))
			return m;
	for (uint32_t m = 0; m < obj->n; m++)
		if (obj->a[2 * m].n == len && !strncasecmp(obj->a[2 * m].s, name, len))
			return m;
	return -1;
}

static bool want_shadowed(const struct value *obj, uint32_t i)
{
	for (uint32_t j = i + 1; j < obj->n; j++)
		if (obj->a[2 * j].n == obj->a[2 * i].n && !memcmp(obj->a[2 * j].s, obj->a[2 * i].s, obj->a[2 * i].n))
			return true;
	return false;
}

static long want_field(const struct type *st, const char *name)
{
	for (size_t i = 0; i < st->nfields; i++)
		if (!strcasecmp(st->fields[i].name, name))
			return (long)i;
	return -1;
}

static int failures;

static void check_field(const struct type *st, const char *name, const char *what)
{
	long got = type_field_index(st, name), want = want_field(st, name);
	if (got != want && failures++ < 20)
		printf("%s of %zu fields: field \"%s\" = %ld, want %ld\n", what, st->nfields, name, got, want);
}

static void check_find(const struct member_names *ix, const char *name, int round)
{
	long got = member_names_find(ix, name, strlen(name)), want = want_find(ix->obj, name, strlen(name));
	if (got != want && failures++ < 20)
		printf("round %d (%u members): find \"%s\" = %ld, want %ld\n", round, ix->obj->n, name, got, want);
}

int main(void)
{
	uint64_t state = 88172645463325252ull;
	struct arena a = {0};
	struct value items[2 * 300];
	for (int round = 0; round < 1000; round++) {
		state ^= state << 13, state ^= state >> 7, state ^= state << 17;
		uint32_t n = (uint32_t)(state % 301);
		/* a narrow pool makes most names repeat, a wide one few */
		uint64_t spread = round % 2 ? NPOOL : 1 + state / 301 % NPOOL;
		for (uint32_t m = 0; m < n; m++) {
			state ^= state << 13, state ^= state >> 7, state ^= state << 17;
			const char *name = pool[state % spread];
			items[2 * m] = value_str(name, strlen(name));
			items[2 * m + 1] = value_int(m);
		}
		struct value obj = {.type = V_OBJECT, .n = n, .a = items};
		struct member_names ix;
		arena_reset(&a);
		member_names_init(&ix, &a, &obj);
		for (uint32_t m = 0; m < n; m++)
			if (member_names_shadowed(&ix, m) != want_shadowed(&obj, m) && failures++ < 20)
				printf("round %d (%u members): member %u shadowed = %d\n", round, n, m,
				       member_names_shadowed(&ix, m));
		for (size_t i = 0; i < NPOOL; i++)
			check_find(&ix, pool[i], round);
		for (size_t i = 0; i < sizeof absent / sizeof *absent; i++)
			check_find(&ix, absent[i], round);

		/* a struct of these names, each one added, looked up and cloned */
		struct type *st = type_new(T_STRUCT);
		for (uint32_t m = 0; m < n; m++) {
			char name[40];
			snprintf(name, sizeof name, "%s%u", items[2 * m].s, m % 7);
			type_add_field(st, name, type_new(T_LONG), true);
			check_field(st, name, "struct");
		}
		struct type *clone = type_clone(st);
		for (uint32_t m = 0; m < n; m++) {
			check_field(st, st->fields[m].name, "struct");
			check_field(clone, st->fields[m].name, "clone");
		}
		for (size_t i = 0; i < sizeof absent / sizeof *absent; i++)
			check_field(clone, absent[i], "clone");
		type_free(st);
		type_free(clone);
	}
	arena_free(&a);
	if (failures)
		printf("%d mismatches\n", failures);
	return failures != 0;
}
