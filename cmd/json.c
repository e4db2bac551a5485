/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A small streaming JSON writer: the caller opens and closes objects and
 * arrays and adds members; the writer places commas, indentation and
 * quotes. Strings are escaped per RFC 8259; bytes that are not valid UTF-8
 * (a process name or a label may hold anything) become U+FFFD so that the
 * output is always a valid document.
 */
#include <err.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "tierctl.h"

#define JSON_MAX_DEPTH	16

struct json_writer {
	FILE	*fp;
	int	 depth;
	bool	 first[JSON_MAX_DEPTH];	/* nothing written yet at this level */
	bool	 top_done;
};

struct json_writer *
json_new(FILE *fp)
{
	struct json_writer	*w;

	if ((w = calloc(1, sizeof(*w))) == NULL)
		err(1, "json_new");
	w->fp = fp;
	return w;
}

int
json_free(struct json_writer *w)
{
	int	rc;

	fputc('\n', w->fp);
	rc = fflush(w->fp) == 0 && !ferror(w->fp) ? 0 : -1;
	free(w);
	return rc;
}

static void
json_indent(struct json_writer *w)
{
	int	i;

	fputc('\n', w->fp);
	for (i = 0; i < w->depth; i++)
		fputs("  ", w->fp);
}

size_t
json_utf8_len(const unsigned char *s)
{
	size_t		n, i;
	uint32_t	cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, cp = s[0] & 0x07;
	else
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	/* Overlong forms, surrogates and values past U+10FFFF. */
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return n;
}

static void
json_quote(struct json_writer *w, const char *str)
{
	const unsigned char	*s = (const unsigned char *)str;
	size_t			 n;

	fputc('"', w->fp);
	while (*s != '\0') {
		switch (*s) {
		case '"':	fputs("\\\"", w->fp); s++; continue;
		case '\\':	fputs("\\\\", w->fp); s++; continue;
		case '\b':	fputs("\\b", w->fp); s++; continue;
		case '\f':	fputs("\\f", w->fp); s++; continue;
		case '\n':	fputs("\\n", w->fp); s++; continue;
		case '\r':	fputs("\\r", w->fp); s++; continue;
		case '\t':	fputs("\\t", w->fp); s++; continue;
		}
		if (*s < 0x20) {
			fprintf(w->fp, "\\u%04x", *s);
			s++;
		} else if ((n = json_utf8_len(s)) == 0) {
			fputs("\\ufffd", w->fp);
			s++;
		} else {
			fwrite(s, 1, n, w->fp);
			s += n;
		}
	}
	fputc('"', w->fp);
}

/* Writes the separator and key that precede any value. */
static void
json_member(struct json_writer *w, const char *key)
{
	if (w->depth == 0) {
		if (w->top_done)
			errx(1, "json: a second top-level value");
		w->top_done = true;
		return;
	}
	if (!w->first[w->depth])
		fputc(',', w->fp);
	w->first[w->depth] = false;
	json_indent(w);
	if (key != NULL) {
		json_quote(w, key);
		fputs(": ", w->fp);
	}
}

static void
json_open(struct json_writer *w, const char *key, char c)
{
	json_member(w, key);
	if (w->depth + 1 >= JSON_MAX_DEPTH)
		errx(1, "json: nesting too deep");
	fputc(c, w->fp);
	w->first[++w->depth] = true;
}

static void
json_close(struct json_writer *w, char c)
{
	if (w->depth == 0)
		errx(1, "json: close without open");
	if (!w->first[w->depth--])
		json_indent(w);
	fputc(c, w->fp);
}

void
json_object_begin(struct json_writer *w, const char *key)
{
	json_open(w, key, '{');
}

void
json_object_end(struct json_writer *w)
{
	json_close(w, '}');
}

void
json_array_begin(struct json_writer *w, const char *key)
{
	json_open(w, key, '[');
}

void
json_array_end(struct json_writer *w)
{
	json_close(w, ']');
}

void
json_string(struct json_writer *w, const char *key, const char *s)
{
	json_member(w, key);
	json_quote(w, s != NULL ? s : "");
}

void
json_uint(struct json_writer *w, const char *key, uint64_t v)
{
	json_member(w, key);
	fprintf(w->fp, "%" PRIu64, v);
}

void
json_int(struct json_writer *w, const char *key, int64_t v)
{
	json_member(w, key);
	fprintf(w->fp, "%" PRId64, v);
}

void
json_bool(struct json_writer *w, const char *key, bool v)
{
	json_member(w, key);
	fputs(v ? "true" : "false", w->fp);
}

void
json_null(struct json_writer *w, const char *key)
{
	json_member(w, key);
	fputs("null", w->fp);
}
