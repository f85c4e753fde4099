/* lake-cat.c - weir-lake-cat: look inside Delta Lake tables and Parquet
 * files, as records.
 *
 * The Parquet modes exist so the Parquet library (lib/parquet.c) can be
 * exercised and checked against other engines from the shell: --parquet
 * reads a file's rows (NDJSON or framed), its schema or its footer, and
 * --write-parquet writes records from stdin into one file, which is how the
 * tests prove that what we write DuckDB reads back.  Each mode is one static
 * function; main only picks the mode. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "diag.h"
#include "json.h"
#include "opt.h"
#include "parquet.h"
#include "record.h"
#include "schema.h"

static const char help[] =
	"usage: weir-lake-cat --parquet FILE [--columns LIST] [--row-groups LIST] [--framed]\n"
	"       weir-lake-cat --parquet FILE --schema [--json]\n"
	"       weir-lake-cat --parquet FILE --meta\n"
	"       weir-lake-cat --write-parquet FILE --schema SCHEMA [--codec NAME]\n"
	"              [--row-group-size SIZE] [--page-size SIZE] [--no-dictionary]\n"
	"\n"
	"Read Delta Lake tables and Parquet files as records.\n"
	"\n"
	"Parquet files:\n"
	"  -p, --parquet FILE        print the rows of a Parquet file as records\n"
	"  -c, --columns LIST        only these top-level columns, in this order (a,b,c)\n"
	"      --row-groups LIST     only these row groups, numbered from 0 (0,2)\n"
	"  -s, --schema              print the file's schema as DDL instead of rows\n"
	"      --json                with --schema: Delta's JSON schema instead of DDL\n"
	"      --meta                print the footer (row groups, columns, encodings,\n"
	"                            codecs, sizes, statistics) as one JSON object\n"
	"      --framed              write framed records instead of NDJSON\n"
	"\n"
	"Writing a Parquet file (records on stdin, NDJSON or framed):\n"
	"  -w, --write-parquet FILE  write the records to FILE\n"
	"  -s, --schema SCHEMA       the file's schema, DDL or Delta JSON (required)\n"
	"      --codec NAME          zstd (default), snappy, gzip, lz4_raw, brotli, none\n"
	"      --row-group-size SIZE target uncompressed row group size (default 128M)\n"
	"      --page-size SIZE      target page size (default 1M)\n"
	"      --no-dictionary       PLAIN values only\n"
	"\n"
	"      --help                show this help\n"
	"      --version             show the version\n";

enum { OPT_JSON = OPT_TOOL_FIRST, OPT_META, OPT_FRAMED, OPT_CODEC, OPT_RG_SIZE, OPT_PAGE_SIZE, OPT_NO_DICT,
       OPT_ROW_GROUPS };

struct opts {
	const char *parquet, *write_parquet;
	const char *columns, *row_groups;
	bool schema, json, meta, framed, no_dict;
	const char *schema_text;
	const char *codec;
	int64_t rg_size, page_size;
};

/* Comma-separated list into a NULL-terminated array (the strings point into
 * a copy of s). */
static char **split_list(const char *s, size_t *n)
{
	char *copy = xstrdup(s);
	size_t cap = 1;
	for (const char *p = s; *p; p++)
		cap += *p == ',';
	char **v = xcalloc(cap + 1, sizeof *v);
	*n = 0;
	for (char *tok = strtok(copy, ","); tok; tok = strtok(NULL, ","))
		v[(*n)++] = tok;
	if (!*n)
		free(copy);
	return v;
}

static void free_list(char **v)
{
	if (v && v[0])
		free(v[0]);
	free(v);
}

static int cat_parquet(const struct opts *o)
{
	char err[512];
	struct pq_file *f = pq_open(o->parquet, err, sizeof err);
	if (!f)
		die(EXIT_TROUBLE, "cannot read '%s': %s", o->parquet, err);
	if (o->meta || o->schema) {
		struct buf b = BUF_INIT;
		if (o->meta)
			pq_meta_json(f, &b);
		else if (o->json)
			schema_write_delta(&b, pq_schema(f));
		else
			schema_write_ddl(&b, pq_schema(f));
		buf_putc(&b, '\n');
		fwrite(b.p, 1, b.len, stdout);
		buf_free(&b);
		pq_close(f);
		return finish_stdout(EXIT_OK);
	}
	size_t ncols = 0, nrgs = 0;
	char **cols = o->columns ? split_list(o->columns, &ncols) : NULL;
	int *rgs = NULL;
	if (o->row_groups) {
		char **v = split_list(o->row_groups, &nrgs);
		rgs = xcalloc(nrgs + 1, sizeof *rgs);
		for (size_t i = 0; i < nrgs; i++)
			rgs[i] = (int)parse_int(v[i], "row group", 0, INT32_MAX);
		free_list(v);
	}
	struct pq_cursor *c = pq_cursor_open(f, (const char *const *)cols, ncols, rgs, nrgs, err, sizeof err);
	if (!c)
		die(EXIT_TROUBLE, "cannot read '%s': %s", o->parquet, err);
	struct rec_writer *w = rec_writer_open(STDOUT_FILENO, rec_want_framed(o->framed));
	if (rec_writer_framed(w)) {
		/* the schema of the projection, in its order */
		const struct type *full = pq_schema(f);
		struct type *t = type_new(T_STRUCT);
		for (size_t i = 0; i < (cols ? ncols : full->nfields); i++) {
			long k = cols ? type_field_index(full, cols[i]) : (long)i;
			type_add_field(t, full->fields[k].name, type_clone(full->fields[k].type), full->fields[k].nullable);
		}
		rec_writer_schema(w, t);
		type_free(t);
	}
	struct arena a = {0};
	struct value row;
	int rc, status = EXIT_OK;
	while ((rc = pq_next(c, &a, &row, err, sizeof err)) > 0) {
		rec_write(w, &row);
		arena_reset(&a);
	}
	rec_writer_close(w);
	if (rc < 0) {
		warnx("cannot read '%s': %s", o->parquet, err);
		status = EXIT_TROUBLE;
	}
	arena_free(&a);
	pq_cursor_close(c);
	pq_close(f);
	free_list(cols);
	free(rgs);
	return finish_stdout(status);
}

static enum pq_codec codec_by_name(const char *s)
{
	static const struct {
		const char *name;
		enum pq_codec c;
	} names[] = {{"zstd", PQ_ZSTD}, {"snappy", PQ_SNAPPY}, {"gzip", PQ_GZIP}, {"lz4_raw", PQ_LZ4_RAW},
		     {"lz4", PQ_LZ4_RAW}, {"brotli", PQ_BROTLI}, {"none", PQ_UNCOMPRESSED},
		     {"uncompressed", PQ_UNCOMPRESSED}};
	for (size_t i = 0; i < sizeof names / sizeof *names; i++)
		if (!strcasecmp(s, names[i].name))
			return names[i].c;
	usage_error(help, "unknown codec '%s'", s);
}

static int write_parquet(const struct opts *o)
{
	char err[512];
	struct type *schema = schema_parse(o->schema_text, err, sizeof err);
	if (!schema)
		die(EXIT_TROUBLE, "bad schema: %s", err);
	struct pq_write_opts wo;
	pq_write_opts_default(&wo);
	if (o->codec)
		wo.codec = codec_by_name(o->codec);
	if (o->rg_size)
		wo.row_group_bytes = o->rg_size;
	if (o->page_size)
		wo.page_bytes = o->page_size;
	wo.no_dictionary = o->no_dict;
	struct pq_writer *w = pq_writer_open(o->write_parquet, schema, &wo, err, sizeof err);
	if (!w)
		die(EXIT_TROUBLE, "cannot write '%s': %s", o->write_parquet, err);
	struct rec_reader *r = rec_reader_open(STDIN_FILENO, "stdin");
	struct record rec;
	enum rec_kind k;
	while ((k = rec_read(r, &rec)) != REC_EOF) {
		if (k == REC_CONTROL)
			continue; /* a file has no place for them */
		if (k == REC_BAD) {
			pq_writer_abort(w);
			die(EXIT_TROUBLE, "stdin: record %llu: %s", (unsigned long long)rec.pos, rec.err);
		}
		if (pq_write_row(w, &rec.v, err, sizeof err) < 0) {
			pq_writer_abort(w);
			die(EXIT_TROUBLE, "stdin: record %llu: %s", (unsigned long long)rec.pos, err);
		}
	}
	rec_reader_close(r);
	if (pq_writer_close(w, NULL, err, sizeof err) < 0)
		die(EXIT_TROUBLE, "cannot write '%s': %s", o->write_parquet, err);
	type_free(schema);
	return finish_stdout(EXIT_OK);
}

int main(int argc, char **argv)
{
	diag_init("weir-lake-cat");
	/* --schema is a flag when reading and takes the schema when writing */
	bool writing = false;
	for (int i = 1; i < argc && strcmp(argv[i], "--"); i++)
		if (!strcmp(argv[i], "-w") || !strncmp(argv[i], "--write-parquet", 15) || !strncmp(argv[i], "--write", 7))
			writing = true;
	struct option longopts[] = {
		{"parquet", required_argument, NULL, 'p'},
		{"columns", required_argument, NULL, 'c'},
		{"row-groups", required_argument, NULL, OPT_ROW_GROUPS},
		{"schema", writing ? required_argument : no_argument, NULL, 's'},
		{"json", no_argument, NULL, OPT_JSON},
		{"meta", no_argument, NULL, OPT_META},
		{"framed", no_argument, NULL, OPT_FRAMED},
		{"write-parquet", required_argument, NULL, 'w'},
		{"codec", required_argument, NULL, OPT_CODEC},
		{"row-group-size", required_argument, NULL, OPT_RG_SIZE},
		{"page-size", required_argument, NULL, OPT_PAGE_SIZE},
		{"no-dictionary", no_argument, NULL, OPT_NO_DICT},
		{"help", no_argument, NULL, OPT_HELP},
		{"version", no_argument, NULL, OPT_VERSION},
		{0},
	};
	struct opts o = {0};
	int c;
	while ((c = getopt_long(argc, argv, writing ? "p:c:s:w:" : "p:c:sw:", longopts, NULL)) != -1) {
		switch (c) {
		case 'p': o.parquet = optarg; break;
		case 'c': o.columns = optarg; break;
		case OPT_ROW_GROUPS: o.row_groups = optarg; break;
		case 's':
			o.schema = true;
			o.schema_text = optarg;
			break;
		case OPT_JSON: o.json = true; break;
		case OPT_META: o.meta = true; break;
		case OPT_FRAMED: o.framed = true; break;
		case 'w': o.write_parquet = optarg; break;
		case OPT_CODEC: o.codec = optarg; break;
		case OPT_RG_SIZE: o.rg_size = parse_size(optarg, "row group size"); break;
		case OPT_PAGE_SIZE: o.page_size = parse_size(optarg, "page size"); break;
		case OPT_NO_DICT: o.no_dict = true; break;
		default: opt_common(c, help);
		}
	}
	if (optind < argc)
		usage_error(help, "unexpected argument '%s'", argv[optind]);
	if (o.write_parquet) {
		if (o.parquet || o.columns || o.row_groups || o.meta || o.json)
			usage_error(help, "--write-parquet takes only --schema and writing options");
		if (!o.schema_text)
			usage_error(help, "--write-parquet needs --schema");
		return write_parquet(&o);
	}
	if (o.parquet) {
		if (o.codec || o.rg_size || o.page_size || o.no_dict)
			usage_error(help, "writing options need --write-parquet");
		if ((o.meta && o.schema) || ((o.meta || o.schema) && (o.columns || o.row_groups || o.framed)))
			usage_error(help, "--schema and --meta print the file's metadata, not rows");
		if (o.json && !o.schema)
			usage_error(help, "--json goes with --schema");
		return cat_parquet(&o);
	}
	usage_error(help, "nothing to read: give --parquet FILE");
}
