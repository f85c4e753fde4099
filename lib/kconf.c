/* kconf.c - see kconf.h */
#include "kconf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "diag.h"

void kconf_set(struct kconf *c, const char *key, const char *val)
{
	for (size_t i = 0; i < c->n; i++)
		if (!strcmp(c->keys[i], key)) {
			free(c->vals[i]);
			c->vals[i] = xstrdup(val);
			return;
		}
	c->keys = xrealloc(c->keys, (c->n + 1) * sizeof *c->keys);
	c->vals = xrealloc(c->vals, (c->n + 1) * sizeof *c->vals);
	c->keys[c->n] = xstrdup(key);
	c->vals[c->n] = xstrdup(val);
	c->n++;
}

const char *kconf_get(const struct kconf *c, const char *key)
{
	for (size_t i = 0; i < c->n; i++)
		if (!strcmp(c->keys[i], key))
			return c->vals[i];
	return NULL;
}

bool kconf_set_arg(struct kconf *c, const char *arg, char *err, size_t errlen)
{
	const char *eq = strchr(arg, '=');
	if (!eq || eq == arg) {
		snprintf(err, errlen, "expected key=value: '%s'", arg);
		return false;
	}
	char *key = xstrndup(arg, (size_t)(eq - arg));
	kconf_set(c, key, eq + 1);
	free(key);
	return true;
}

static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
		s[--n] = 0;
	return s;
}

/* Java properties escapes: \: \= \\ \t \n */
static void unescape(char *s)
{
	char *o = s;
	for (; *s; s++) {
		if (*s == '\\' && s[1]) {
			s++;
			*o++ = *s == 't' ? '\t' : *s == 'n' ? '\n' : *s;
		} else {
			*o++ = *s;
		}
	}
	*o = 0;
}

bool kconf_load_file(struct kconf *c, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		snprintf(err, errlen, "cannot open config file '%s': %s", path, strerror(errno));
		return false;
	}
	char *line = NULL;
	size_t cap = 0;
	long lineno = 0;
	bool ok = true;
	while (getline(&line, &cap, f) > 0) {
		lineno++;
		char *s = trim(line);
		if (!*s || *s == '#' || *s == '!')
			continue;
		/* the first unescaped '=' or ':' separates key and value */
		char *sep = NULL;
		for (char *p = s; *p; p++) {
			if (*p == '\\' && p[1]) {
				p++;
				continue;
			}
			if (*p == '=' || *p == ':') {
				sep = p;
				break;
			}
		}
		if (!sep) {
			snprintf(err, errlen, "config file '%s' line %ld: expected key=value", path, lineno);
			ok = false;
			break;
		}
		*sep = 0;
		char *key = trim(s), *val = trim(sep + 1);
		unescape(key);
		unescape(val);
		kconf_set(c, key, val);
	}
	free(line);
	if (ferror(f) && ok) {
		snprintf(err, errlen, "read error on config file '%s'", path);
		ok = false;
	}
	fclose(f);
	return ok;
}

bool kconf_load_env(struct kconf *c, char *err, size_t errlen)
{
	const char *p = getenv("WEIR_KAFKA_CONFIG");
	if (!p || !*p)
		return true;
	return kconf_load_file(c, p, err, errlen);
}

bool kconf_is_secret(const char *key)
{
	return strstr(key, "password") || strstr(key, "secret") || !strncmp(key, "sasl.oauthbearer.", 17) ||
	       strstr(key, "sasl.jaas.config") || strstr(key, ".key.pem") || strstr(key, "private");
}

const char *kconf_shown(const char *key, const char *val)
{
	return kconf_is_secret(key) ? "[redacted]" : val;
}

void kconf_free(struct kconf *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free(c->keys[i]);
		free(c->vals[i]);
	}
	free(c->keys);
	free(c->vals);
	c->keys = c->vals = NULL;
	c->n = 0;
}
