/* Compact JSON output for signing: the same bytes as jansson's JSON_COMPACT dump
 * (jot__json_dump), written in one pass into a buffer that starts on the caller's stack.
 * jansson's dump measures, then writes, through a growing heap buffer; signing a token does
 * this for every token, so it has its own writer. fuzz/fuzz_json.c checks that both give
 * identical bytes for every document. */
#include "internal.h"

#include <stdio.h>
#include <string.h>

static void put_char(jot_jbuf_t *b, char c)
{
    (void)jotx_buf_add(b, &c, 1);
}

bool jot__jbuf_string(jot_jbuf_t *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    put_char(b, '"');
    const uint8_t *u = (const uint8_t *)s;
    size_t run = 0; /* bytes copied as they are, flushed in one piece */
    for (size_t i = 0; i < n;) {
        uint8_t c = u[i];
        if (c >= 0x80) {
            size_t k = jot__utf8_seq(u + i, u + n);
            if (!k)
                return false;
            i += k;
            run += k;
            continue;
        }
        if (c >= 0x20 && c != '"' && c != '\\') {
            i++;
            run++;
            continue;
        }
        jot__jbuf_put(b, s + i - run, run);
        run = 0;
        char esc[6] = {'\\', 0, 0, 0, 0, 0};
        size_t len = 2;
        switch (c) {
        case '"':
            esc[1] = '"';
            break;
        case '\\':
            esc[1] = '\\';
            break;
        case '\b':
            esc[1] = 'b';
            break;
        case '\f':
            esc[1] = 'f';
            break;
        case '\n':
            esc[1] = 'n';
            break;
        case '\r':
            esc[1] = 'r';
            break;
        case '\t':
            esc[1] = 't';
            break;
        default:
            if (c == 0)
                return false; /* strings never hold NUL */
            memcpy(esc + 1, "u00", 3);
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            len = 6;
            break;
        }
        jot__jbuf_put(b, esc, len);
        i++;
    }
    jot__jbuf_put(b, s + n - run, run);
    put_char(b, '"');
    return true;
}

static void put_int(jot_jbuf_t *b, int64_t v)
{
    char tmp[24];
    size_t i = sizeof tmp;
    uint64_t m = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    do {
        tmp[--i] = (char)('0' + m % 10);
        m /= 10;
    } while (m);
    if (v < 0)
        tmp[--i] = '-';
    jot__jbuf_put(b, tmp + i, sizeof tmp - i);
}

bool jot__jbuf_json(jot_jbuf_t *b, const json_t *j, unsigned depth)
{
    if (depth > JOT_MAX_JSON_DEPTH * 2)
        return false;
    switch (json_typeof(j)) {
    case JSON_OBJECT: {
        put_char(b, '{');
        const char *k;
        json_t *v;
        bool first = true;
        json_object_foreach((json_t *)j, k, v)
        {
            if (!first)
                put_char(b, ',');
            first = false;
            if (!jot__jbuf_string(b, k, strlen(k)))
                return false;
            put_char(b, ':');
            if (!jot__jbuf_json(b, v, depth + 1))
                return false;
        }
        put_char(b, '}');
        return true;
    }
    case JSON_ARRAY:
        put_char(b, '[');
        for (size_t i = 0; i < json_array_size(j); i++) {
            if (i)
                put_char(b, ',');
            if (!jot__jbuf_json(b, json_array_get(j, i), depth + 1))
                return false;
        }
        put_char(b, ']');
        return true;
    case JSON_STRING:
        return jot__jbuf_string(b, json_string_value(j), json_string_length(j));
    case JSON_INTEGER:
        put_int(b, (int64_t)json_integer_value(j));
        return true;
    case JSON_REAL: {
        /* jansson's own formatting of doubles, so the bytes stay identical */
        char tmp[64];
        size_t n = json_dumpb(j, tmp, sizeof tmp, JSON_COMPACT | JSON_ENCODE_ANY);
        if (n == 0 || n > sizeof tmp)
            return false;
        jot__jbuf_put(b, tmp, n);
        return true;
    }
    case JSON_TRUE:
        jot__jbuf_put(b, "true", 4);
        return true;
    case JSON_FALSE:
        jot__jbuf_put(b, "false", 5);
        return true;
    case JSON_NULL:
        jot__jbuf_put(b, "null", 4);
        return true;
    }
    return false;
}
