/* Fast strict JSON for the verification hot path: a validator that builds no tree, and a
 * "view" of one object's top-level members made in a single allocation.
 *
 * Acceptance is exactly json.c's (jansson with the strictness rules of jot__json_parse):
 * the validator below either proves a document valid under the same rules, or answers "not
 * sure" — for anything it does not handle itself (real numbers, escaped member names,
 * objects of more than FAST_MEMBERS members) and for every invalid document — and then
 * jot__json_parse() decides and gives the error code. So the fast path can only make valid
 * documents faster; it can never accept what the strict parser refuses (fuzz/fuzz_jview.c
 * checks exactly that on every input). */
#include "internal.h"

#include <string.h>

/* Members per object the fast validator checks for duplicates by itself (pairwise), and
 * elements of top-level arrays it records; beyond either, jansson decides. */
#define FAST_MEMBERS 64u
#define FAST_ELEMS 256u

/* What the fast validator keeps of a top-level value (a member's, or an element of a
 * top-level array), so that the view is built without reading the document again. */
typedef struct vrec {
    jot_jtype_t type;
    bool escaped;       /* STRING: holds a backslash escape */
    const uint8_t *raw; /* the value's JSON text */
    size_t raw_len;
    int64_t i; /* INT */
} vrec_t;

typedef struct vmember {
    const uint8_t *name; /* never escaped on the fast path */
    size_t name_len;
    vrec_t v;
    uint32_t first, count; /* ARRAY: its elements among the recorded ones */
} vmember_t;

typedef struct vscan {
    const uint8_t *p, *end;
    unsigned depth, max_depth;
    size_t n_members, n_elems;
    vmember_t *members; /* [FAST_MEMBERS] */
    vrec_t *elems;      /* [FAST_ELEMS] */
} vscan_t;

/* Where a value sits: what of it the view keeps (and so what to count). */
enum { IN_NESTED, IN_TOP_MEMBER, IN_TOP_ARRAY };

static void skip_ws(const uint8_t **pp, const uint8_t *end)
{
    const uint8_t *p = *pp;
    while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
        p++;
    *pp = p;
}

static int hexval(uint8_t c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (uint8_t)(c | 0x20);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* Four hex digits at p (p + 4 <= end checked by the caller). */
static bool hex4(const uint8_t *p, uint32_t *out)
{
    uint32_t u = 0;
    for (int i = 0; i < 4; i++) {
        int h = hexval(p[i]);
        if (h < 0)
            return false;
        u = u << 4 | (uint32_t)h;
    }
    *out = u;
    return true;
}

/* Length of the well-formed UTF-8 sequence (RFC 3629: no overlong forms, no surrogates,
 * nothing above U+10FFFF) starting with a byte >= 0x80 at p; 0 if ill-formed. */
size_t jot__utf8_seq(const uint8_t *p, const uint8_t *end)
{
    uint8_t c = p[0];
    size_t n;
    uint8_t lo = 0x80, hi = 0xbf; /* allowed range of the second byte */
    if (c >= 0xc2 && c <= 0xdf) {
        n = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        if (c == 0xe0)
            lo = 0xa0;
        else if (c == 0xed)
            hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        if (c == 0xf0)
            lo = 0x90;
        else if (c == 0xf4)
            hi = 0x8f;
    } else {
        return 0;
    }
    if ((size_t)(end - p) < n || p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if ((p[i] & 0xc0) != 0x80)
            return 0;
    return n;
}

static uint64_t load64(const uint8_t *p)
{
    uint64_t x;
    memcpy(&x, p, sizeof x);
    return x;
}

#define ONES UINT64_C(0x0101010101010101)
#define HIGHS UINT64_C(0x8080808080808080)

/* Offset of the first of the 8 bytes at p that is '"', '\\', below 0x20 or above 0x7f;
 * 8 if none is. Each test is the "some byte is zero / below n" bit trick on a 64-bit word:
 * a borrow only ever runs towards higher bytes, so the lowest flagged byte is exact. */
static size_t plain_run8(const uint8_t *p)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    uint64_t x = load64(p);
    uint64_t q = x ^ (ONES * '"'), b = x ^ (ONES * '\\');
    uint64_t special = (x & HIGHS) | ((x - ONES * 0x20) & ~x & HIGHS) | ((q - ONES) & ~q & HIGHS) |
                       ((b - ONES) & ~b & HIGHS);
    return special ? (size_t)__builtin_ctzll(special) / 8 : 8;
#else
    size_t i = 0;
    while (i < 8 && p[i] >= 0x20 && p[i] < 0x80 && p[i] != '"' && p[i] != '\\')
        i++;
    return i;
#endif
}

/* A string at s->p (the opening quote). *escaped: it contains a backslash escape. */
static bool v_string(vscan_t *s, bool *escaped)
{
    const uint8_t *p = s->p + 1, *end = s->end;
    bool esc = false;
    while (p < end) {
        /* plain bytes (no quote, backslash, control byte or non-ASCII) eight at a time */
        if (end - p >= 8) {
            size_t run = plain_run8(p);
            p += run;
            if (run == 8)
                continue;
        }
        uint8_t c = *p;
        if (c == '"') {
            s->p = p + 1;
            *escaped = esc;
            return true;
        }
        if (c < 0x20)
            return false;
        if (c < 0x80 && c != '\\') {
            p++;
            continue;
        }
        if (c >= 0x80) {
            size_t n = jot__utf8_seq(p, end);
            if (!n)
                return false;
            p += n;
            continue;
        }
        esc = true;
        if (end - p < 2)
            return false;
        switch (p[1]) {
        case '"':
        case '\\':
        case '/':
        case 'b':
        case 'f':
        case 'n':
        case 'r':
        case 't':
            p += 2;
            continue;
        case 'u':
            break;
        default:
            return false;
        }
        uint32_t u, l;
        if (end - p < 6 || !hex4(p + 2, &u))
            return false;
        p += 6;
        /* \u0000 is refused (no NUL in strings); a surrogate must be a high one followed by
         * an escaped low one */
        if (u == 0 || (u >= 0xdc00 && u <= 0xdfff))
            return false;
        if (u >= 0xd800 && u <= 0xdbff) {
            if (end - p < 6 || p[0] != '\\' || p[1] != 'u' || !hex4(p + 2, &l) || l < 0xdc00 ||
                l > 0xdfff)
                return false;
            p += 6;
        }
    }
    return false;
}

static bool is_digit(uint8_t c)
{
    return c >= '0' && c <= '9';
}

/* An integer that fits int64 (jansson's json_int_t). Fractions and exponents (reals) are
 * left to jansson, whose range rules for doubles are its own. */
static bool v_number(vscan_t *s, vrec_t *rec)
{
    const uint8_t *p = s->p, *end = s->end;
    bool neg = *p == '-';
    if (neg)
        p++;
    if (p >= end || !is_digit(*p))
        return false;
    const uint8_t *d = p;
    if (*p == '0')
        p++;
    else
        while (p < end && is_digit(*p))
            p++;
    if (p < end && (*p == '.' || *p == 'e' || *p == 'E'))
        return false;
    size_t nd = (size_t)(p - d);
    if (nd > 19 ||
        (nd == 19 && memcmp(d, neg ? "9223372036854775808" : "9223372036854775807", 19) > 0))
        return false;
    if (rec) {
        /* accumulated negatively to reach INT64_MIN */
        int64_t x = 0;
        for (const uint8_t *q = d; q < p; q++)
            x = x * 10 - (int64_t)(*q - '0');
        rec->type = JOT_J_INT;
        rec->i = neg ? x : -x;
    }
    s->p = p;
    return true;
}

static bool v_literal(vscan_t *s, const char *word, size_t n)
{
    if ((size_t)(s->end - s->p) < n || memcmp(s->p, word, n) != 0)
        return false;
    s->p += n;
    return true;
}

static bool v_value(vscan_t *s, vrec_t *rec);

static bool v_array(vscan_t *s, vmember_t *top)
{
    if (++s->depth > s->max_depth)
        return false;
    if (top)
        top->first = (uint32_t)s->n_elems;
    s->p++; /* '[' */
    skip_ws(&s->p, s->end);
    bool empty = s->p < s->end && *s->p == ']';
    while (!empty) {
        skip_ws(&s->p, s->end);
        vrec_t *rec = NULL;
        if (top) {
            if (s->n_elems == FAST_ELEMS)
                return false;
            rec = &s->elems[s->n_elems++];
        }
        if (!v_value(s, rec))
            return false;
        skip_ws(&s->p, s->end);
        if (s->p >= s->end)
            return false;
        if (*s->p == ']')
            break;
        if (*s->p != ',')
            return false;
        s->p++;
    }
    s->p++; /* ']' */
    s->depth--;
    if (top)
        top->count = (uint32_t)(s->n_elems - top->first);
    return true;
}

static bool v_object(vscan_t *s)
{
    if (++s->depth > s->max_depth)
        return false;
    bool top = s->depth == 1;
    struct {
        const uint8_t *name;
        size_t len;
    } seen[FAST_MEMBERS];
    size_t n = 0;
    s->p++; /* '{' */
    skip_ws(&s->p, s->end);
    bool empty = s->p < s->end && *s->p == '}';
    while (!empty) {
        skip_ws(&s->p, s->end);
        if (s->p >= s->end || *s->p != '"' || n == FAST_MEMBERS)
            return false;
        const uint8_t *name = s->p + 1;
        bool escaped;
        if (!v_string(s, &escaped) || escaped)
            return false; /* an escaped name may equal another spelled differently */
        size_t len = (size_t)(s->p - 1 - name);
        for (size_t i = 0; i < n; i++)
            if (seen[i].len == len && (len == 0 || seen[i].name[0] == name[0]) &&
                memcmp(seen[i].name, name, len) == 0)
                return false; /* duplicate */
        seen[n].name = name;
        seen[n++].len = len;
        vmember_t *m = NULL;
        if (top) {
            m = &s->members[s->n_members++];
            m->name = name;
            m->name_len = len;
        }
        skip_ws(&s->p, s->end);
        if (s->p >= s->end || *s->p != ':')
            return false;
        s->p++;
        skip_ws(&s->p, s->end);
        if (m && s->p < s->end && *s->p == '[') {
            m->v.type = JOT_J_ARRAY;
            m->v.raw = s->p;
            if (!v_array(s, m))
                return false;
            m->v.raw_len = (size_t)(s->p - m->v.raw);
        } else if (!v_value(s, m ? &m->v : NULL)) {
            return false;
        }
        skip_ws(&s->p, s->end);
        if (s->p >= s->end)
            return false;
        if (*s->p == '}')
            break;
        if (*s->p != ',')
            return false;
        s->p++;
    }
    s->p++; /* '}' */
    s->depth--;
    return true;
}

static bool v_value(vscan_t *s, vrec_t *rec)
{
    if (s->p >= s->end)
        return false;
    const uint8_t *start = s->p;
    bool escaped = false, ok;
    jot_jtype_t type;
    switch (*s->p) {
    case '{':
        type = JOT_J_OBJECT;
        ok = v_object(s);
        break;
    case '[':
        type = JOT_J_ARRAY;
        ok = v_array(s, NULL);
        break;
    case '"':
        type = JOT_J_STRING;
        ok = v_string(s, &escaped);
        break;
    case 't':
        type = JOT_J_TRUE;
        ok = v_literal(s, "true", 4);
        break;
    case 'f':
        type = JOT_J_FALSE;
        ok = v_literal(s, "false", 5);
        break;
    case 'n':
        type = JOT_J_NULL;
        ok = v_literal(s, "null", 4);
        break;
    default:
        type = JOT_J_INT;
        ok = v_number(s, rec);
        break;
    }
    if (ok && rec) {
        rec->type = type;
        rec->escaped = escaped;
        rec->raw = start;
        rec->raw_len = (size_t)(s->p - start);
    }
    return ok;
}

/* The fast validator; on success *out has the sizes the view needs. */
/* The fast validator, recording the top level into s->members and s->elems. */
static bool scan_object(const char *text, size_t len, vscan_t *s)
{
    if (!text)
        return false;
    s->p = (const uint8_t *)text;
    s->end = s->p + len;
    skip_ws(&s->p, s->end);
    if (s->p >= s->end || *s->p != '{' || !v_object(s))
        return false;
    skip_ws(&s->p, s->end);
    return s->p == s->end;
}

bool jot__jscan_object(const char *text, size_t len, unsigned max_depth)
{
    vmember_t members[FAST_MEMBERS];
    vrec_t elems[FAST_ELEMS];
    vscan_t s = {NULL, NULL, 0, max_depth, 0, 0, members, elems};
    return scan_object(text, len, &s);
}

/* ---- the view: a walk over a document known to be valid ----------------------------- */

typedef struct walk {
    const uint8_t *p, *end;
    jot_jview_t *v; /* NULL while counting */
    size_t n_members, n_elems, arena;
    char *arena_at;
} walk_t;

/* Past the string at w->p (opening quote). Returns the content span. */
static void w_skip_string(walk_t *w, const uint8_t **content, size_t *len)
{
    const uint8_t *p = w->p + 1;
    *content = p;
    while (p < w->end && *p != '"')
        p += *p == '\\' && p + 1 < w->end ? 2 : 1;
    *len = (size_t)(p - *content);
    w->p = p < w->end ? p + 1 : p;
}

static size_t put_utf8(char *o, uint32_t u)
{
    if (u < 0x80) {
        o[0] = (char)u;
        return 1;
    }
    if (u < 0x800) {
        o[0] = (char)(0xc0 | u >> 6);
        o[1] = (char)(0x80 | (u & 0x3f));
        return 2;
    }
    if (u < 0x10000) {
        o[0] = (char)(0xe0 | u >> 12);
        o[1] = (char)(0x80 | ((u >> 6) & 0x3f));
        o[2] = (char)(0x80 | (u & 0x3f));
        return 3;
    }
    o[0] = (char)(0xf0 | u >> 18);
    o[1] = (char)(0x80 | ((u >> 12) & 0x3f));
    o[2] = (char)(0x80 | ((u >> 6) & 0x3f));
    o[3] = (char)(0x80 | (u & 0x3f));
    return 4;
}

/* Unescape the \p n content bytes of a valid JSON string into \p o (room for n + 1: the
 * unescaped text is never longer than the escaped one) and NUL-terminate. Returns the
 * unescaped length. */
static size_t unescape(char *o, const uint8_t *c, size_t n)
{
    char *start = o;
    for (size_t i = 0; i < n;) {
        if (c[i] != '\\') {
            *o++ = (char)c[i++];
            continue;
        }
        uint8_t e = i + 1 < n ? c[i + 1] : 0;
        i += 2;
        switch (e) {
        case 'b':
            *o++ = '\b';
            break;
        case 'f':
            *o++ = '\f';
            break;
        case 'n':
            *o++ = '\n';
            break;
        case 'r':
            *o++ = '\r';
            break;
        case 't':
            *o++ = '\t';
            break;
        case 'u': {
            uint32_t u = 0, l = 0;
            if (i + 4 <= n && hex4(c + i, &u))
                i += 4;
            if (u >= 0xd800 && u <= 0xdbff && i + 6 <= n && c[i] == '\\' && hex4(c + i + 2, &l)) {
                i += 6;
                u = 0x10000 + ((u - 0xd800) << 10) + (l - 0xdc00);
            }
            o += put_utf8(o, u);
            break;
        }
        default:
            *o++ = (char)e;
            break; /* " \ / */
        }
    }
    *o = '\0';
    return (size_t)(o - start);
}

/* The string at w->p, unescaped into the arena (when filling). */
static void w_string(walk_t *w, const char **out, size_t *out_len)
{
    const uint8_t *c;
    size_t n;
    w_skip_string(w, &c, &n);
    w->arena += n + 1;
    if (!w->v)
        return;
    *out = w->arena_at;
    *out_len = unescape(w->arena_at, c, n);
    w->arena_at += *out_len + 1;
}

/* Past a nested array or object at w->p. */
static void w_skip_nested(walk_t *w)
{
    size_t depth = 0;
    while (w->p < w->end) {
        uint8_t c = *w->p;
        if (c == '"') {
            const uint8_t *x;
            size_t n;
            w_skip_string(w, &x, &n);
            continue;
        }
        w->p++;
        if (c == '{' || c == '[')
            depth++;
        else if ((c == '}' || c == ']') && --depth == 0)
            return;
    }
}

static jot_err_t w_number(walk_t *w, jot_jval_t *val)
{
    const uint8_t *start = w->p;
    bool real = false;
    while (w->p < w->end && (is_digit(*w->p) || *w->p == '-' || *w->p == '+' || *w->p == '.' ||
                             *w->p == 'e' || *w->p == 'E')) {
        real |= *w->p == '.' || *w->p == 'e' || *w->p == 'E';
        w->p++;
    }
    if (!w->v)
        return JOT_OK;
    if (!real) {
        /* fits int64: checked by the validator; accumulate negatively to reach INT64_MIN */
        bool neg = *start == '-';
        int64_t x = 0;
        for (const uint8_t *q = start + neg; q < w->p; q++)
            x = x * 10 - (int64_t)(*q - '0');
        val->type = JOT_J_INT;
        val->i = neg ? x : -x;
        return JOT_OK;
    }
    /* a real: jansson's conversion, so that both paths read the same double */
    jot__json_oom_clear();
    json_error_t err;
    json_t *j = json_loadb((const char *)start, (size_t)(w->p - start), JSON_DECODE_ANY, &err);
    if (!j)
        return jot__json_oom() ? JOT_E_NOMEM : JOT_E_JSON;
    val->type = JOT_J_REAL;
    val->d = json_number_value(j);
    json_decref(j);
    return JOT_OK;
}

/* One value; nested containers are typed and skipped. */
static jot_err_t w_value(walk_t *w, jot_jval_t *val)
{
    jot_jval_t tmp;
    if (!val)
        val = &tmp;
    memset(val, 0, sizeof *val);
    if (w->p >= w->end)
        return JOT_E_JSON;
    switch (*w->p) {
    case '"':
        val->type = JOT_J_STRING;
        w_string(w, &val->str, &val->len);
        return JOT_OK;
    case '{':
    case '[':
        val->type = *w->p == '{' ? JOT_J_OBJECT : JOT_J_ARRAY;
        w_skip_nested(w);
        return JOT_OK;
    case 't':
        val->type = JOT_J_TRUE;
        w->p += 4;
        return JOT_OK;
    case 'f':
        val->type = JOT_J_FALSE;
        w->p += 5;
        return JOT_OK;
    case 'n':
        val->type = JOT_J_NULL;
        w->p += 4;
        return JOT_OK;
    default:
        return w_number(w, val);
    }
}

/* A top-level array: its elements become view elements. */
static jot_err_t w_array(walk_t *w, jot_jmember_t *m)
{
    w->p++; /* '[' */
    if (m)
        m->first = (uint32_t)w->n_elems;
    for (;;) {
        skip_ws(&w->p, w->end);
        if (w->p >= w->end)
            return JOT_E_JSON;
        if (*w->p == ']') {
            w->p++;
            break;
        }
        if (*w->p == ',') {
            w->p++;
            continue;
        }
        jot_err_t rc = w_value(w, w->v ? &w->v->elems[w->n_elems] : NULL);
        if (rc != JOT_OK)
            return rc;
        w->n_elems++;
    }
    if (m)
        m->count = (uint32_t)(w->n_elems - m->first);
    return JOT_OK;
}

static jot_err_t w_object(walk_t *w)
{
    skip_ws(&w->p, w->end);
    if (w->p >= w->end || *w->p != '{')
        return JOT_E_JSON;
    w->p++;
    for (;;) {
        skip_ws(&w->p, w->end);
        if (w->p >= w->end)
            return JOT_E_JSON;
        if (*w->p == '}')
            return JOT_OK;
        if (*w->p == ',') {
            w->p++;
            continue;
        }
        jot_jmember_t *m = w->v ? &w->v->members[w->n_members] : NULL;
        const char *name = NULL;
        size_t name_len = 0;
        w_string(w, &name, &name_len);
        skip_ws(&w->p, w->end);
        w->p++; /* ':' */
        skip_ws(&w->p, w->end);
        const uint8_t *raw = w->p;
        jot_err_t rc;
        if (w->p < w->end && *w->p == '[') {
            rc = w_array(w, m);
            if (m)
                m->v.type = JOT_J_ARRAY;
        } else {
            rc = w_value(w, m ? &m->v : NULL);
        }
        if (rc != JOT_OK)
            return rc;
        if (m) {
            m->name = name;
            m->name_len = name_len;
            m->raw = (const char *)raw;
            m->raw_len = (size_t)(w->p - raw);
        }
        w->n_members++;
    }
}

/* One block: the view, its members, the array elements, then the unescaped strings. */
static jot_jview_t *view_alloc(const char *text, size_t len, size_t n_members, size_t n_elems,
                               size_t arena, char **arena_at)
{
    size_t head =
        sizeof(jot_jview_t) + n_members * sizeof(jot_jmember_t) + n_elems * sizeof(jot_jval_t);
    jot_jview_t *v = jot__malloc(head + arena);
    if (!v)
        return NULL;
    memset(v, 0, head);
    v->text = text;
    v->text_len = len;
    v->members = (jot_jmember_t *)(v + 1);
    v->elems = (jot_jval_t *)(v->members + n_members);
    v->n = n_members;
    v->n_elems = n_elems;
    *arena_at = (char *)v + head;
    return v;
}

/* A recorded value into a view value; strings go to the arena. */
static void from_rec(const vrec_t *r, jot_jval_t *v, char **at)
{
    v->type = r->type;
    v->i = r->i;
    if (r->type != JOT_J_STRING)
        return;
    const uint8_t *c = r->raw + 1;
    size_t n = r->raw_len - 2;
    v->str = *at;
    if (r->escaped) {
        v->len = unescape(*at, c, n);
    } else {
        memcpy(*at, c, n);
        (*at)[n] = '\0';
        v->len = n;
    }
    *at += v->len + 1;
}

/* The view of what the fast validator recorded. */
static jot_err_t view_from_scan(const char *text, size_t len, const vscan_t *s, jot_jview_t **out)
{
    size_t arena = 0;
    for (size_t i = 0; i < s->n_members; i++) {
        arena += s->members[i].name_len + 1;
        if (s->members[i].v.type == JOT_J_STRING)
            arena += s->members[i].v.raw_len - 1;
    }
    for (size_t i = 0; i < s->n_elems; i++)
        if (s->elems[i].type == JOT_J_STRING)
            arena += s->elems[i].raw_len - 1;
    char *at;
    jot_jview_t *v = view_alloc(text, len, s->n_members, s->n_elems, arena, &at);
    if (!v)
        return JOT_E_NOMEM;
    for (size_t i = 0; i < s->n_members; i++) {
        const vmember_t *r = &s->members[i];
        jot_jmember_t *m = &v->members[i];
        memcpy(at, r->name, r->name_len);
        at[r->name_len] = '\0';
        m->name = at;
        m->name_len = r->name_len;
        at += r->name_len + 1;
        from_rec(&r->v, &m->v, &at);
        m->raw = (const char *)r->v.raw;
        m->raw_len = r->v.raw_len;
        m->first = r->first;
        m->count = r->count;
    }
    for (size_t i = 0; i < s->n_elems; i++)
        from_rec(&s->elems[i], &v->elems[i], &at);
    *out = v;
    return JOT_OK;
}

/* The slow path: a document the fast validator did not prove valid. */
static jot_err_t view_from_jansson(const char *text, size_t len, size_t max_len, unsigned max_depth,
                                   size_t max_members, jot_jview_t **out)
{
    /* the strict parser decides, and names the error */
    json_t *j;
    jot_err_t rc = jot__json_parse(text, len, max_len, max_depth, true, &j);
    if (rc != JOT_OK)
        return rc;
    json_decref(j);
    walk_t w = {(const uint8_t *)text, (const uint8_t *)text + len, NULL, 0, 0, 0, NULL};
    if ((rc = w_object(&w)) != JOT_OK) /* count */
        return rc;
    if (w.n_members > max_members)
        return JOT_E_TOOBIG;
    char *at;
    jot_jview_t *v = view_alloc(text, len, w.n_members, w.n_elems, w.arena, &at);
    if (!v)
        return JOT_E_NOMEM;
    walk_t f = {(const uint8_t *)text, (const uint8_t *)text + len, v, 0, 0, 0, at};
    if ((rc = w_object(&f)) != JOT_OK) { /* fill */
        jot_free(v);
        return rc;
    }
    *out = v;
    return JOT_OK;
}

jot_err_t jot__jview_parse(const char *text, size_t len, size_t max_len, unsigned max_depth,
                           size_t max_members, jot_jview_t **out)
{
    if ((!text && len) || !out)
        return JOT_E_INVAL;
    if (len > max_len)
        return JOT_E_TOOBIG;
    vmember_t members[FAST_MEMBERS];
    vrec_t elems[FAST_ELEMS];
    vscan_t s = {NULL, NULL, 0, max_depth, 0, 0, members, elems};
    if (!scan_object(text, len, &s))
        return view_from_jansson(text, len, max_len, max_depth, max_members, out);
    if (s.n_members > max_members)
        return JOT_E_TOOBIG;
    return view_from_scan(text, len, &s, out);
}

const jot_jmember_t *jot__jview_get(const jot_jview_t *v, const char *name)
{
    if (!v || !name)
        return NULL;
    size_t n = strlen(name);
    for (size_t i = 0; i < v->n; i++) {
        const jot_jmember_t *m = &v->members[i];
        if (m->name_len == n && memcmp(m->name, name, n) == 0)
            return m;
    }
    return NULL;
}

const char *jot__jview_string(const jot_jview_t *v, const char *name)
{
    const jot_jmember_t *m = jot__jview_get(v, name);
    return m && m->v.type == JOT_J_STRING ? m->v.str : NULL;
}
