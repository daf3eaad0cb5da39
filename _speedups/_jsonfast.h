/* JSON of small packets written and read by hand, orjson for everything else.
 *
 * Why by hand: on a small event (an event name and a dict of a few short strings and ints)
 * the call into orjson, its own buffer, the bytes object it returns and the join of that text
 * to the packet header cost more than the JSON itself: about half of what a packet costs the
 * parser.  The writer here writes the header and the JSON straight into the one str the
 * message is; the reader builds the values straight from the message, with no slice of it.
 *
 * Both handle only the shapes they can write or read exactly as orjson does, and give
 * NotImplemented (no exception set) for anything else, so that the caller takes the orjson
 * path, which decides: the result never depends on which of the two did the work.
 *
 * Handled: null, true, false, integers of at most 18 digits (no fraction, no exponent, not
 * "-0"), strings of printable ASCII with no escape, arrays (lists and tuples on the way out)
 * and objects with such string keys (exact dicts on the way out), bytes (on the way out, as
 * attachments with their placeholders: placeholders read back as the dicts they are), nested
 * at most
 * SIOCLIENT_JF_MAX_DEPTH levels; JSON whitespace between tokens on the way in.  Both leave
 * big data to orjson: the writer gives up beyond SIOCLIENT_JF_BUF bytes or at a container of
 * more than SIOCLIENT_JF_MAX_ITEMS items (so that big data costs no wasted pass worth speaking
 * of), the reader takes ASCII text of at most SIOCLIENT_JF_BUF characters.  Floats, escapes, non-ASCII text, big
 * integers, subclasses and anything unusual go to orjson.
 */
#ifndef SIOCLIENT_JSONFAST_H
#define SIOCLIENT_JSONFAST_H

#include <Python.h>
#include <string.h>

#define SIOCLIENT_JF_MAX_DEPTH 32
#define SIOCLIENT_JF_BUF 2048
/* the header of a text message: type, attachment count, namespace, ack id */
#define SIOCLIENT_JF_HEAD 256
#define SIOCLIENT_JF_MAX_DIGITS 18
/* a container with more items than this goes to orjson at once: it would hardly fit in the
 * buffer, and on big data orjson is at least as fast as this */
#define SIOCLIENT_JF_MAX_ITEMS 64

/* ------------------------------------------------------------------------------------------
 * writing */

typedef struct {
    unsigned char *w;
    unsigned char *end;
    PyObject *buffers; /* the binary attachments met so far (a list), or NULL */
} sioclient_jf_writer;

/* 1 written, 0 not handled (no exception), -1 error (exception set) */
static int sioclient_jf_write(sioclient_jf_writer *out, PyObject *o, int depth);

static int sioclient_jf_put(sioclient_jf_writer *out, const void *p, Py_ssize_t n) {
    if (n > out->end - out->w) return 0;
    memcpy(out->w, p, (size_t)n);
    out->w += n;
    return 1;
}

/* 1 for the bytes a JSON string holds as they are: printable ASCII but '"' and '\\' */
static const unsigned char sioclient_jf_plain[256] = {
#define SIOCLIENT_JF_R16(v) v, v, v, v, v, v, v, v, v, v, v, v, v, v, v, v
    SIOCLIENT_JF_R16(0), SIOCLIENT_JF_R16(0),                         /* 0x00-0x1f */
    1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,                   /* 0x20-0x2f: '"' */
    SIOCLIENT_JF_R16(1), SIOCLIENT_JF_R16(1),                         /* 0x30-0x4f */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1,                   /* 0x50-0x5f: '\\' */
    SIOCLIENT_JF_R16(1), SIOCLIENT_JF_R16(1),                         /* 0x60-0x7f */
    SIOCLIENT_JF_R16(0), SIOCLIENT_JF_R16(0), SIOCLIENT_JF_R16(0), SIOCLIENT_JF_R16(0),
    SIOCLIENT_JF_R16(0), SIOCLIENT_JF_R16(0), SIOCLIENT_JF_R16(0), SIOCLIENT_JF_R16(0),
#undef SIOCLIENT_JF_R16
};

/* the bytes and length of an ASCII str; 0 for any other (left to the general path) */
static int sioclient_jf_ascii(PyObject *s, const unsigned char **data, Py_ssize_t *len) {
#if PY_VERSION_HEX < 0x030C0000
    if (PyUnicode_READY(s) < 0) {
        PyErr_Clear();
        return 0;
    }
#endif
    if (!PyUnicode_IS_ASCII(s)) return 0;
    *data = PyUnicode_1BYTE_DATA(s);
    *len = PyUnicode_GET_LENGTH(s);
    return 1;
}

/* an exact str that travels as it is between quotes (printable ASCII, no '"' or '\\') */
static int sioclient_jf_plain_str(PyObject *s, const unsigned char **data, Py_ssize_t *len) {
    const unsigned char *p;
    Py_ssize_t n, i;
    if (!sioclient_jf_ascii(s, &p, &n)) return 0;
    for (i = 0; i < n; i++) {
        if (!sioclient_jf_plain[p[i]]) return 0;
    }
    *data = p;
    *len = n;
    return 1;
}

/* the check and the copy in one pass: most strings are a few bytes long */
static int sioclient_jf_write_str(sioclient_jf_writer *out, PyObject *s) {
    const unsigned char *p;
    unsigned char *w;
    Py_ssize_t n, i;
    if (!sioclient_jf_ascii(s, &p, &n)) return 0;
    if (n + 2 > out->end - out->w) return 0;
    w = out->w;
    *w++ = '"';
    for (i = 0; i < n; i++) {
        unsigned char c = p[i];
        if (!sioclient_jf_plain[c]) return 0;
        w[i] = c;
    }
    w += n;
    *w++ = '"';
    out->w = w;
    return 1;
}

static int sioclient_jf_write_int(sioclient_jf_writer *out, long long v) {
    char digits[24];
    char *d = digits + sizeof(digits);
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    do {
        *--d = (char)('0' + (int)(u % 10));
        u /= 10;
    } while (u != 0);
    if (v < 0) *--d = '-';
    return sioclient_jf_put(out, d, (Py_ssize_t)(digits + sizeof(digits) - d));
}

static int sioclient_jf_write(sioclient_jf_writer *out, PyObject *o, int depth) {
    int r;
    if (o == Py_None) return sioclient_jf_put(out, "null", 4);
    if (o == Py_True) return sioclient_jf_put(out, "true", 4);
    if (o == Py_False) return sioclient_jf_put(out, "false", 5);
    if (PyUnicode_CheckExact(o)) return sioclient_jf_write_str(out, o);
    if (PyLong_CheckExact(o)) {
        int overflow;
        long long v = PyLong_AsLongLongAndOverflow(o, &overflow);
        if (v == -1 && PyErr_Occurred()) return -1;
        if (overflow != 0) return 0; /* orjson's 64-bit range, and beyond it the slow path */
        return sioclient_jf_write_int(out, v);
    }
    if (depth >= SIOCLIENT_JF_MAX_DEPTH) return 0;
    if (PyList_CheckExact(o) || PyTuple_CheckExact(o)) {
        Py_ssize_t i, n = PySequence_Fast_GET_SIZE(o);
        PyObject **items = PySequence_Fast_ITEMS(o);
        if (n > SIOCLIENT_JF_MAX_ITEMS || out->w >= out->end) return 0;
        *out->w++ = '[';
        for (i = 0; i < n; i++) {
            if (i > 0) {
                if (out->w >= out->end) return 0;
                *out->w++ = ',';
            }
            /* a list's items array may only change through Python code, which none of this
             * runs; its size is read once and the loop reads no further than it */
            r = sioclient_jf_write(out, items[i], depth + 1);
            if (r <= 0) return r;
        }
        if (out->w >= out->end) return 0;
        *out->w++ = ']';
        return 1;
    }
    if (PyDict_CheckExact(o)) {
        Py_ssize_t pos = 0;
        PyObject *key, *value;
        int first = 1;
        if (PyDict_GET_SIZE(o) > SIOCLIENT_JF_MAX_ITEMS || out->w >= out->end) return 0;
        *out->w++ = '{';
        while (PyDict_Next(o, &pos, &key, &value)) {
            if (!first) {
                if (out->w >= out->end) return 0;
                *out->w++ = ',';
            }
            first = 0;
            if (!PyUnicode_CheckExact(key)) return 0;
            r = sioclient_jf_write_str(out, key);
            if (r <= 0) return r;
            if (out->w >= out->end) return 0;
            *out->w++ = ':';
            r = sioclient_jf_write(out, value, depth + 1);
            if (r <= 0) return r;
        }
        if (out->w >= out->end) return 0;
        *out->w++ = '}';
        return 1;
    }
    if (PyBytes_CheckExact(o)) {
        /* an attachment: its placeholder, numbered in the order met (depth first, list order,
         * dict order: the order of orjson's default hook, and socket.io-parser's) */
        static const char placeholder[] = "{\"_placeholder\":true,\"num\":";
        Py_ssize_t num;
        if (out->buffers == NULL) {
            out->buffers = PyList_New(0);
            if (out->buffers == NULL) return -1;
        }
        num = PyList_GET_SIZE(out->buffers);
        if (PyList_Append(out->buffers, o) < 0) return -1;
        if (!sioclient_jf_put(out, placeholder, (Py_ssize_t)sizeof(placeholder) - 1)) return 0;
        if (!sioclient_jf_write_int(out, (long long)num)) return 0;
        return sioclient_jf_put(out, "}", 1);
    }
    return 0; /* floats, other buffers, subclasses, anything else: orjson */
}

/* The messages of an EVENT or ACK packet: its text message (type digit, then for binary data
 * the attachment count and '-', "<nsp>," when nsp is not None, the ack id when pid is not
 * None, then data as JSON with a placeholder for each buffer) and the buffers after it;
 * NotImplemented when any part is not one this writer handles (or a namespace or id the
 * encoder must refuse: it says why). */
static PyObject *sioclient_jf_packet(int ptype, PyObject *nsp, PyObject *pid, PyObject *data) {
    unsigned char buf[SIOCLIENT_JF_BUF];
    unsigned char head[SIOCLIENT_JF_HEAD];
    sioclient_jf_writer out, hout;
    PyObject *text, *messages = NULL;
    Py_ssize_t nbuf = 0, hlen, dlen, i;
    int r;
    out.w = buf;
    out.end = buf + sizeof(buf);
    out.buffers = NULL;
    r = sioclient_jf_write(&out, data, 0);
    if (r <= 0) goto done; /* not handled, or an error */
    if (out.buffers != NULL) nbuf = PyList_GET_SIZE(out.buffers);
    hout.w = head;
    hout.end = head + sizeof(head);
    hout.buffers = NULL;
    *hout.w++ = (unsigned char)('0' + (nbuf > 0 ? ptype + 3 : ptype)); /* BINARY_EVENT/ACK */
    if (nbuf > 0) {
        if (!sioclient_jf_write_int(&hout, (long long)nbuf)) goto not_handled;
        if (!sioclient_jf_put(&hout, "-", 1)) goto not_handled;
    }
    if (nsp != Py_None) {
        const unsigned char *p;
        Py_ssize_t n;
        if (!PyUnicode_CheckExact(nsp) || !sioclient_jf_plain_str(nsp, &p, &n)) goto not_handled;
        if (!(n == 1 && p[0] == '/')) {
            if (memchr(p, ',', (size_t)n) != NULL) goto not_handled;
            if (!sioclient_jf_put(&hout, p, n) || !sioclient_jf_put(&hout, ",", 1))
                goto not_handled;
        }
    }
    if (pid != Py_None) {
        int overflow;
        long long v;
        if (!PyLong_CheckExact(pid)) goto not_handled;
        v = PyLong_AsLongLongAndOverflow(pid, &overflow);
        if (v == -1 && PyErr_Occurred()) goto done;
        if (overflow != 0 || v < 0) goto not_handled;
        if (!sioclient_jf_write_int(&hout, v)) goto not_handled;
    }
    hlen = hout.w - head;
    dlen = out.w - buf;
    text = PyUnicode_New(hlen + dlen, 127);
    if (text == NULL) goto done;
    memcpy(PyUnicode_1BYTE_DATA(text), head, (size_t)hlen);
    memcpy(PyUnicode_1BYTE_DATA(text) + hlen, buf, (size_t)dlen);
    messages = PyList_New(1 + nbuf);
    if (messages == NULL) {
        Py_DECREF(text);
        goto done;
    }
    PyList_SET_ITEM(messages, 0, text);
    for (i = 0; i < nbuf; i++) {
        PyObject *b = PyList_GET_ITEM(out.buffers, i);
        Py_INCREF(b);
        PyList_SET_ITEM(messages, 1 + i, b);
    }
    goto done;
not_handled:
    r = 0;
done:
    Py_XDECREF(out.buffers);
    if (messages != NULL) return messages;
    if (r < 0 || PyErr_Occurred()) return NULL;
    Py_INCREF(Py_NotImplemented);
    return Py_NotImplemented;
}

/* ------------------------------------------------------------------------------------------
 * reading */

typedef struct {
    const unsigned char *p;
    const unsigned char *end;
    int bail; /* set (no exception) when the text holds what this reader leaves to orjson */
} sioclient_jf_reader;

/* Dict keys, event names and namespaces repeat from message to message: the str of a recent
 * one is used again (as orjson does for keys), which saves its allocation and its hash. */
#define SIOCLIENT_JF_KEYS 256
#define SIOCLIENT_JF_KEY_MAX 32
static PyObject *sioclient_jf_keys[SIOCLIENT_JF_KEYS];

static PyObject *sioclient_jf_read(sioclient_jf_reader *in, int depth);

static inline void sioclient_jf_ws(sioclient_jf_reader *in) {
    while (in->p < in->end) {
        unsigned char c = *in->p;
        if (c != ' ' && c != '\n' && c != '\r' && c != '\t') break;
        in->p++;
    }
}

static PyObject *sioclient_jf_bail(sioclient_jf_reader *in) {
    in->bail = 1;
    return NULL;
}

/* The ASCII str of the n bytes at start, the cached one when it was seen lately. */
static PyObject *sioclient_jf_cached(const unsigned char *start, Py_ssize_t n) {
    size_t h = 2166136261u;
    Py_ssize_t i;
    PyObject **slot;
    PyObject *s;
    if (n > SIOCLIENT_JF_KEY_MAX) {
        s = PyUnicode_New(n, 127);
        if (s != NULL) memcpy(PyUnicode_1BYTE_DATA(s), start, (size_t)n);
        return s;
    }
    /* the slot from the length and three of the bytes: cheap, and a collision only costs a
     * new str (the bytes are compared in full) */
    if (n > 0) h ^= ((size_t)start[0] << 10) ^ ((size_t)start[n >> 1] << 5) ^ start[n - 1];
    h = (h ^ (size_t)n) * 16777619u;
    slot = &sioclient_jf_keys[(h ^ (h >> 13)) % SIOCLIENT_JF_KEYS];
    s = *slot;
    if (s != NULL && PyUnicode_GET_LENGTH(s) == n) {
        const unsigned char *c = PyUnicode_1BYTE_DATA(s);
        for (i = 0; i < n && c[i] == start[i]; i++) {
        }
        if (i == n) {
            Py_INCREF(s);
            return s;
        }
    }
    s = PyUnicode_New(n, 127);
    if (s == NULL) return NULL;
    memcpy(PyUnicode_1BYTE_DATA(s), start, (size_t)n);
    Py_XSETREF(*slot, s);
    Py_INCREF(s);
    return s;
}

/* in->p at the opening quote */
static PyObject *sioclient_jf_read_str(sioclient_jf_reader *in, int key) {
    const unsigned char *start = ++in->p;
    const unsigned char *q = start;
    Py_ssize_t n;
    PyObject *s;
    while (q < in->end && sioclient_jf_plain[*q]) q++;
    /* an escape, a control character (invalid), or the end of the text (the reader takes
     * ASCII text only, so nothing else stops the loop) */
    if (q >= in->end || *q != '"') return sioclient_jf_bail(in);
    n = q - start;
    in->p = q + 1;
    if (key) return sioclient_jf_cached(start, n);
    s = PyUnicode_New(n, 127);
    if (s == NULL) return NULL;
    memcpy(PyUnicode_1BYTE_DATA(s), start, (size_t)n);
    return s;
}

/* text[start:end], a namespace: the cached str when the text is ASCII (a connection speaks
 * to a few namespaces, over and over), else the slice */
static PyObject *sioclient_jf_slice(PyObject *text, Py_ssize_t start, Py_ssize_t end) {
    if (PyUnicode_IS_ASCII(text) && 0 <= start && start <= end
        && end <= PyUnicode_GET_LENGTH(text))
        return sioclient_jf_cached(PyUnicode_1BYTE_DATA(text) + start, end - start);
    return PyUnicode_Substring(text, start, end);
}

static PyObject *sioclient_jf_read_number(sioclient_jf_reader *in) {
    const unsigned char *p = in->p;
    const unsigned char *digits;
    int neg = 0;
    long long v = 0;
    if (*p == '-') {
        neg = 1;
        p++;
    }
    digits = p;
    while (p < in->end && *p >= '0' && *p <= '9') {
        v = v * 10 + (*p - '0');
        p++;
        if (p - digits > SIOCLIENT_JF_MAX_DIGITS) return sioclient_jf_bail(in);
    }
    if (p == digits) return sioclient_jf_bail(in);
    /* a leading zero: "0" alone only, and "-0" is left to orjson */
    if (*digits == '0' && (p - digits > 1 || neg)) return sioclient_jf_bail(in);
    if (p < in->end && (*p == '.' || *p == 'e' || *p == 'E')) return sioclient_jf_bail(in);
    in->p = p;
    return PyLong_FromLongLong(neg ? -v : v);
}

static PyObject *sioclient_jf_read_literal(sioclient_jf_reader *in, const char *word,
                                           Py_ssize_t n, PyObject *value) {
    if (in->end - in->p < n || memcmp(in->p, word, (size_t)n) != 0) return sioclient_jf_bail(in);
    in->p += n;
    Py_INCREF(value);
    return value;
}

static PyObject *sioclient_jf_read(sioclient_jf_reader *in, int depth) {
    unsigned char c;
    PyObject *out, *item, *key;
    if (in->p >= in->end) return sioclient_jf_bail(in);
    c = *in->p;
    if (c == '"') return sioclient_jf_read_str(in, 0);
    if (c == '-' || (c >= '0' && c <= '9')) return sioclient_jf_read_number(in);
    if (c == 't') return sioclient_jf_read_literal(in, "true", 4, Py_True);
    if (c == 'f') return sioclient_jf_read_literal(in, "false", 5, Py_False);
    if (c == 'n') return sioclient_jf_read_literal(in, "null", 4, Py_None);
    if (depth >= SIOCLIENT_JF_MAX_DEPTH) return sioclient_jf_bail(in);
    if (c == '[') {
        in->p++;
        out = PyList_New(0);
        if (out == NULL) return NULL;
        sioclient_jf_ws(in);
        if (in->p < in->end && *in->p == ']') {
            in->p++;
            return out;
        }
        for (;;) {
            sioclient_jf_ws(in);
            /* the first item of the outer array is an event's name: it repeats from message
             * to message, like a key */
            if (depth == 0 && PyList_GET_SIZE(out) == 0 && in->p < in->end && *in->p == '"')
                item = sioclient_jf_read_str(in, 1);
            else
                item = sioclient_jf_read(in, depth + 1);
            if (item == NULL) goto fail;
            if (PyList_Append(out, item) < 0) {
                Py_DECREF(item);
                goto fail;
            }
            Py_DECREF(item);
            sioclient_jf_ws(in);
            if (in->p >= in->end) goto bail;
            c = *in->p++;
            if (c == ']') return out;
            if (c != ',') goto bail;
        }
    }
    if (c == '{') {
        in->p++;
        out = PyDict_New();
        if (out == NULL) return NULL;
        sioclient_jf_ws(in);
        if (in->p < in->end && *in->p == '}') {
            in->p++;
            return out;
        }
        for (;;) {
            int r;
            sioclient_jf_ws(in);
            if (in->p >= in->end || *in->p != '"') goto bail;
            key = sioclient_jf_read_str(in, 1);
            if (key == NULL) goto fail;
            sioclient_jf_ws(in);
            if (in->p >= in->end || *in->p != ':') {
                Py_DECREF(key);
                goto bail;
            }
            in->p++;
            sioclient_jf_ws(in);
            item = sioclient_jf_read(in, depth + 1);
            if (item == NULL) {
                Py_DECREF(key);
                goto fail;
            }
            r = PyDict_SetItem(out, key, item); /* a repeated key: the last value wins */
            Py_DECREF(key);
            Py_DECREF(item);
            if (r < 0) goto fail;
            sioclient_jf_ws(in);
            if (in->p >= in->end) goto bail;
            c = *in->p++;
            if (c == '}') return out;
            if (c != ',') goto bail;
        }
    }
    return sioclient_jf_bail(in);
bail:
    in->bail = 1;
fail:
    Py_DECREF(out);
    return NULL;
}

/* The value of the JSON text text[start:]; NotImplemented (no exception) when the text holds
 * anything this reader leaves to orjson, invalid JSON included. */
static PyObject *sioclient_jf_loads(PyObject *text, Py_ssize_t start) {
    sioclient_jf_reader in;
    PyObject *value;
    Py_ssize_t n;
#if PY_VERSION_HEX < 0x030C0000
    if (PyUnicode_READY(text) < 0) return NULL;
#endif
    n = PyUnicode_GET_LENGTH(text);
    /* big text goes to orjson, as fast as this on it */
    if (!PyUnicode_IS_ASCII(text) || start < 0 || start >= n || n - start > SIOCLIENT_JF_BUF)
        goto not_handled;
    in.p = PyUnicode_1BYTE_DATA(text) + start;
    in.end = PyUnicode_1BYTE_DATA(text) + n;
    in.bail = 0;
    sioclient_jf_ws(&in);
    value = sioclient_jf_read(&in, 0);
    if (value == NULL) {
        if (in.bail) goto not_handled;
        return NULL;
    }
    sioclient_jf_ws(&in);
    if (in.p != in.end) {
        Py_DECREF(value);
        goto not_handled;
    }
    return value;
not_handled:
    Py_INCREF(Py_NotImplemented);
    return Py_NotImplemented;
}

#endif
