/* kconf.h - Kafka client configuration as every weir tool takes it
 * (ARCHITECTURE §6): properties pass through to librdkafka unchanged from
 * $WEIR_KAFKA_CONFIG, then -F files, then -X key=value, later ones winning.
 * Secrets are never printed, not even in -X dump. */
#ifndef WEIR_KCONF_H
#define WEIR_KCONF_H

#include <stdbool.h>
#include <stddef.h>

struct kconf {
	char **keys, **vals;
	size_t n;
};

/* Set or replace a property. */
void kconf_set(struct kconf *c, const char *key, const char *val);
const char *kconf_get(const struct kconf *c, const char *key);
/* "key=value"; returns false (message in err) when there is no '='. */
bool kconf_set_arg(struct kconf *c, const char *arg, char *err, size_t errlen);
/* A Java-style properties file: key=value or key: value lines, # and !
 * comments, \ escapes.  Returns false with err set on an unreadable file. */
bool kconf_load_file(struct kconf *c, const char *path, char *err, size_t errlen);
/* $WEIR_KAFKA_CONFIG names a file to load first, when set. */
bool kconf_load_env(struct kconf *c, char *err, size_t errlen);
bool kconf_is_secret(const char *key);
/* The value as it may be shown: "[redacted]" for secrets. */
const char *kconf_shown(const char *key, const char *val);
void kconf_free(struct kconf *c);

#endif
