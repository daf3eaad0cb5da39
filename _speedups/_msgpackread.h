/* msgpack to Python objects for the compiled msgpack parser, in one pass with its own bounds:
 * every length is checked against the bytes that remain before it is read, the nesting is at
 * most MAX_DEPTH (100) deep, counted as scan() counts it, and nothing may trail.  Nothing is
 * allocated ahead of the bytes that could justify it: every item takes a byte at least, so the
 * counts of all the containers of a message together cannot exceed its length; the reader keeps
 * that budget and refuses a count beyond what is left of it before sizing anything, so a header
 * that announces millions of items in a short message costs nothing, and all the lists and
 * dicts of one message are sized for at most as many items as it has bytes.  On any error,
 * extension or doubt it
 * gives up and the caller runs scan() and msgpack's unpackb, which word the error.
 *
 * It reads what msgpack.unpackb(raw=False, use_list=True, strict_map_key=True) reads, into
 * the same objects, with one difference in speed only: map keys that are short ASCII strings
 * come from a small cache, already hashed (as orjson does), instead of being decoded, hashed
 * and interned each time.  An extension (any ext or fixext) is left to msgpack itself: the
 * reader returns NotImplemented and the caller falls back to unpackb with its ext_hook.
 */
#ifndef SIOCLIENT_MSGPACKREAD_H
#define SIOCLIENT_MSGPACKREAD_H

#include <Python.h>
#include <string.h>
#include <stdint.h>

#include "_packet.h"

#define SIO_KEYS 512 /* a power of two */
#define SIO_KEY_BITS 9
#define SIO_KEY_MAX 32
#define SIO_MAX_DEPTH 100 /* _msgpack_py.MAX_DEPTH */

/* A cached key: its first 16 bytes (zero padded) and length, compared as two words and a
 * number, the rest of a longer key (up to SIO_KEY_MAX) byte by byte. */
typedef struct {
    uint64_t w0, w1;
    Py_ssize_t n;
    PyObject *s;
} sio_keyent;

static sio_keyent sio_keys[SIO_KEYS];

/* The first 16 bytes of the key at ``p`` (``n`` bytes long, ``avail`` readable from ``p``),
 * zero padded. */
static inline void sio_key_words(const unsigned char *p, Py_ssize_t n, Py_ssize_t avail,
                                 uint64_t *w0, uint64_t *w1) {
    unsigned char tmp[16];
#if PY_LITTLE_ENDIAN
    if (avail >= 16) { /* two loads, the bytes past the key masked off */
        uint64_t a, b;
        memcpy(&a, p, 8);
        memcpy(&b, p + 8, 8);
        if (n < 8) {
            a = n == 0 ? 0 : a & (~(uint64_t)0 >> (64 - 8 * n));
            b = 0;
        } else if (n < 16) {
            b = n == 8 ? 0 : b & (~(uint64_t)0 >> (128 - 8 * n));
        }
        *w0 = a;
        *w1 = b;
        return;
    }
#endif
    memset(tmp, 0, sizeof(tmp));
    memcpy(tmp, p, (size_t)(n < 16 ? n : 16));
    memcpy(w0, tmp, 8);
    memcpy(w1, tmp + 8, 8);
}

/* The str key of ``n`` bytes at ``p`` (``avail`` bytes readable from ``p``, at least ``n``). */
static PyObject *sio_key(const unsigned char *p, Py_ssize_t n, Py_ssize_t avail) {
    uint64_t w0, w1;
    sio_keyent *e;
    PyObject *s;
    if (n > SIO_KEY_MAX) return PyUnicode_DecodeUTF8((const char *)p, n, "strict");
    sio_key_words(p, n, avail, &w0, &w1);
    e = &sio_keys[(((w0 ^ (w1 * 0xc2b2ae3d27d4eb4fULL) ^ (uint64_t)n) * 0x9e3779b97f4a7c15ULL)
                   >> (64 - SIO_KEY_BITS))];
    if (e->s != NULL && e->w0 == w0 && e->w1 == w1 && e->n == n
        && (n <= 16 || memcmp(PyUnicode_1BYTE_DATA(e->s) + 16, p + 16, (size_t)(n - 16)) == 0)) {
        Py_INCREF(e->s);
        return e->s;
    }
    s = PyUnicode_DecodeUTF8((const char *)p, n, "strict");
    if (s == NULL) return NULL;
    if (PyUnicode_IS_ASCII(s)) { /* its bytes are then its UTF-8: comparable above */
        if (PyObject_Hash(s) == -1) {
            Py_DECREF(s);
            return NULL;
        }
        Py_INCREF(s);
        Py_XSETREF(e->s, s);
        e->w0 = w0;
        e->w1 = w1;
        e->n = n;
    }
    return s;
}

static uint64_t sio_be(const unsigned char *p, int n) {
    uint64_t v = 0;
    int i;
    for (i = 0; i < n; i++) v = (v << 8) | p[i];
    return v;
}

/* NotImplemented (a new reference) for an extension, NULL with an exception on error. */
static PyObject *sio_read(const unsigned char *p, Py_ssize_t *at, Py_ssize_t end, int depth,
                          Py_ssize_t *budget);

#define SIO_NEED(k)                                                                  \
    do {                                                                             \
        if ((Py_ssize_t)(k) > end - pos) {                                           \
            PyErr_SetString(PyExc_ValueError, "truncated msgpack message");          \
            return NULL;                                                             \
        }                                                                            \
    } while (0)

static PyObject *sio_read_array(const unsigned char *p, Py_ssize_t *at, Py_ssize_t end,
                                Py_ssize_t n, int depth, Py_ssize_t *budget) {
    PyObject *list, *item;
    Py_ssize_t i;
    if (n > end - *at) {
        PyErr_SetString(PyExc_ValueError, "msgpack array longer than the message");
        return NULL;
    }
    if (depth + 1 > SIO_MAX_DEPTH) {
        PyErr_SetString(PyExc_ValueError, "msgpack data nested too deep");
        return NULL;
    }
    if (n > *budget) {
        PyErr_SetString(PyExc_ValueError, "msgpack containers announce more items than the message holds");
        return NULL;
    }
    *budget -= n;
    list = PyList_New(n);
    if (list == NULL) return NULL;
    /* out of the collector's sight while it fills: a collection that the items' allocations
     * start then does not walk it (a list with empty slots is safe to free untracked) */
    PyObject_GC_UnTrack(list);
    for (i = 0; i < n; i++) {
        item = sio_read(p, at, end, depth + 1, budget);
        if (item == NULL || item == Py_NotImplemented) {
            Py_DECREF(list);
            return item;
        }
        PyList_SET_ITEM(list, i, item);
    }
    PyObject_GC_Track(list);
    return list;
}

static PyObject *sio_read_map(const unsigned char *p, Py_ssize_t *at, Py_ssize_t end,
                              Py_ssize_t n, int depth, Py_ssize_t *budget) {
    PyObject *dict, *key, *value;
    Py_ssize_t i, pos;
    unsigned char b;
    Py_ssize_t len;
    if (n > (end - *at) / 2) {
        PyErr_SetString(PyExc_ValueError, "msgpack map longer than the message");
        return NULL;
    }
    if (depth + 1 > SIO_MAX_DEPTH) {
        PyErr_SetString(PyExc_ValueError, "msgpack data nested too deep");
        return NULL;
    }
    if (2 * n > *budget) {
        PyErr_SetString(PyExc_ValueError, "msgpack containers announce more items than the message holds");
        return NULL;
    }
    *budget -= 2 * n;
    dict = _PyDict_NewPresized(n);
    if (dict == NULL) return NULL;
    for (i = 0; i < n; i++) {
        pos = *at;
        if (pos >= end) {
            PyErr_SetString(PyExc_ValueError, "truncated msgpack message");
            Py_DECREF(dict);
            return NULL;
        }
        b = p[pos];
        len = -1;
        if (b >= 0xa0 && b <= 0xbf) {
            len = b & 0x1f;
            pos += 1;
        } else if (b == 0xd9 && end - pos >= 2) {
            len = p[pos + 1];
            pos += 2;
        }
        if (len >= 0) {  /* a str key: the cache */
            if (len > end - pos) {
                PyErr_SetString(PyExc_ValueError, "truncated msgpack message");
                Py_DECREF(dict);
                return NULL;
            }
            key = sio_key(p + pos, len, end - pos);
            *at = pos + len;
        } else {
            key = sio_read(p, at, end, depth + 1, budget);
            if (key == Py_NotImplemented) {
                Py_DECREF(dict);
                return key;
            }
        }
        if (key == NULL) {
            Py_DECREF(dict);
            return NULL;
        }
        value = sio_read(p, at, end, depth + 1, budget);
        if (value == NULL || value == Py_NotImplemented) {
            Py_DECREF(key);
            Py_DECREF(dict);
            return value;
        }
        /* checked once the value is read, as msgpack does */
        if (!PyUnicode_CheckExact(key) && !PyBytes_CheckExact(key)) {
            PyErr_Format(PyExc_ValueError,
                         "%.100s is not allowed for map key when strict_map_key=True",
                         Py_TYPE(key)->tp_name);
            Py_DECREF(key);
            Py_DECREF(value);
            Py_DECREF(dict);
            return NULL;
        }
        if (PyDict_SetItem(dict, key, value) < 0) {
            Py_DECREF(key);
            Py_DECREF(value);
            Py_DECREF(dict);
            return NULL;
        }
        Py_DECREF(key);
        Py_DECREF(value);
    }
    return dict;
}

static PyObject *sio_read(const unsigned char *p, Py_ssize_t *at, Py_ssize_t end, int depth,
                          Py_ssize_t *budget) {
    Py_ssize_t pos = *at;
    Py_ssize_t n;
    unsigned char b;
    uint64_t u;
    SIO_NEED(1);
    b = p[pos++];
    if (b < 0x80) {
        *at = pos;
        return PyLong_FromLong(b);
    }
    if (b >= 0xe0) {
        *at = pos;
        return PyLong_FromLong((long)b - 256);
    }
    if (b < 0x90) {
        *at = pos;
        return sio_read_map(p, at, end, b & 0x0f, depth, budget);
    }
    if (b < 0xa0) {
        *at = pos;
        return sio_read_array(p, at, end, b & 0x0f, depth, budget);
    }
    if (b < 0xc0) {
        n = b & 0x1f;
        goto str;
    }
    switch (b) {
    case 0xc0:
        *at = pos;
        Py_RETURN_NONE;
    case 0xc2:
        *at = pos;
        Py_RETURN_FALSE;
    case 0xc3:
        *at = pos;
        Py_RETURN_TRUE;
    case 0xc4:
    case 0xc5:
    case 0xc6: {
        int w = 1 << (b - 0xc4);
        SIO_NEED(w);
        n = (Py_ssize_t)sio_be(p + pos, w);
        pos += w;
        SIO_NEED(n);
        *at = pos + n;
        return PyBytes_FromStringAndSize((const char *)p + pos, n);
    }
    case 0xca: {
        uint32_t bits;
        float f;
        SIO_NEED(4);
        bits = (uint32_t)sio_be(p + pos, 4);
        memcpy(&f, &bits, 4);
        *at = pos + 4;
        return PyFloat_FromDouble((double)f);
    }
    case 0xcb: {
        double d;
        SIO_NEED(8);
        u = sio_be(p + pos, 8);
        memcpy(&d, &u, 8);
        *at = pos + 8;
        return PyFloat_FromDouble(d);
    }
    case 0xcc:
    case 0xcd:
    case 0xce:
    case 0xcf: {
        int w = 1 << (b - 0xcc);
        SIO_NEED(w);
        u = sio_be(p + pos, w);
        *at = pos + w;
        return PyLong_FromUnsignedLongLong(u);
    }
    case 0xd0:
    case 0xd1:
    case 0xd2:
    case 0xd3: {
        int w = 1 << (b - 0xd0);
        long long s;
        SIO_NEED(w);
        u = sio_be(p + pos, w);
        if (w < 8 && (u >> (8 * w - 1)))
            s = (long long)u - ((long long)1 << (8 * w));
        else
            s = (long long)u;
        *at = pos + w;
        return PyLong_FromLongLong(s);
    }
    case 0xd9:
    case 0xda:
    case 0xdb: {
        int w = 1 << (b - 0xd9);
        SIO_NEED(w);
        n = (Py_ssize_t)sio_be(p + pos, w);
        pos += w;
        goto str;
    }
    case 0xdc:
    case 0xdd: {
        int w = b == 0xdc ? 2 : 4;
        SIO_NEED(w);
        n = (Py_ssize_t)sio_be(p + pos, w);
        *at = pos + w;
        return sio_read_array(p, at, end, n, depth, budget);
    }
    case 0xde:
    case 0xdf: {
        int w = b == 0xde ? 2 : 4;
        SIO_NEED(w);
        n = (Py_ssize_t)sio_be(p + pos, w);
        *at = pos + w;
        return sio_read_map(p, at, end, n, depth, budget);
    }
    case 0xc7:
    case 0xc8:
    case 0xc9:
    case 0xd4:
    case 0xd5:
    case 0xd6:
    case 0xd7:
    case 0xd8:
        Py_INCREF(Py_NotImplemented);
        return Py_NotImplemented;
    default:
        PyErr_SetString(PyExc_ValueError, "invalid msgpack byte");
        return NULL;
    }
str:
    SIO_NEED(n);
    *at = pos + n;
    if (n > 1 && n <= 64) {  /* short ASCII: one allocation and a copy (0 and 1: singletons) */
        unsigned char high = 0;
        Py_ssize_t k;
        for (k = 0; k < n; k++) high |= p[pos + k];
        if (high < 0x80) {
            PyObject *s = PyUnicode_New(n, 127);
            if (s != NULL) memcpy(PyUnicode_1BYTE_DATA(s), p + pos, (size_t)n);
            return s;
        }
    }
    return PyUnicode_DecodeUTF8((const char *)p + pos, n, "strict");
}

/* One whole message; NotImplemented when it holds an extension. */
static PyObject *sioclient_msgpack_read(PyObject *buf) {
    const unsigned char *p = (const unsigned char *)PyBytes_AS_STRING(buf);
    Py_ssize_t end = PyBytes_GET_SIZE(buf);
    Py_ssize_t at = 0;
    Py_ssize_t budget = end; /* every item takes a byte at least: the counts of all containers
                                together cannot exceed the message's length */
    PyObject *out = sio_read(p, &at, end, 0, &budget);
    if (out != NULL && out != Py_NotImplemented && at != end) {
        Py_DECREF(out);
        PyErr_SetString(PyExc_ValueError, "trailing bytes after the msgpack message");
        return NULL;
    }
    return out;
}

/* The packet map read straight into a Packet, without the dict: the common packet only (an
 * EVENT or ACK, or a BINARY_* one on revision 4, with an exact int type, a str namespace, a
 * list payload, non-empty for an event, and an exact int id or none), whose top-level keys are
 * among type, data, id and nsp, in any order, a key given twice counting once, the last time,
 * as in the dict.  Every value is read as sio_read reads it, with the same bounds and depth.
 * ``[packet]``, or NotImplemented for anything else, valid or not: the caller then reads the
 * message as before (unpack, then map_to_packet), which takes the packet or words the error. */
static PyObject *sioclient_msgpack_read_packet(PyObject *buf, int protocol) {
    const unsigned char *p = (const unsigned char *)PyBytes_AS_STRING(buf);
    Py_ssize_t end = PyBytes_GET_SIZE(buf);
    Py_ssize_t at = 1, budget = end, n, i, len;
    PyObject *slot[4] = {NULL, NULL, NULL, NULL}; /* type, data, id, nsp */
    PyObject *value, *packet, *out = NULL;
    long ptype;
    int k;
    if (!sioclient_packet_layout.ready || end < 1 || (p[0] & 0xf0) != 0x80) goto other;
    n = p[0] & 0x0f;
    if (2 * n > end - at) goto other;
    budget -= 2 * n;
    for (i = 0; i < n; i++) {
        if (at >= end || (p[at] & 0xe0) != 0xa0) goto other; /* a fixstr key */
        len = p[at] & 0x1f;
        at += 1;
        if (len > end - at) goto other;
        k = -1;
        if (len == 4 && memcmp(p + at, "type", 4) == 0) k = 0;
        else if (len == 4 && memcmp(p + at, "data", 4) == 0) k = 1;
        else if (len == 2 && p[at] == 'i' && p[at + 1] == 'd') k = 2;
        else if (len == 3 && memcmp(p + at, "nsp", 3) == 0) k = 3;
        if (k < 0) goto other;
        at += len;
        value = sio_read(p, &at, end, 1, &budget);
        if (value == NULL) {
            PyErr_Clear();
            goto other;
        }
        if (value == Py_NotImplemented) {
            Py_DECREF(value);
            goto other;
        }
        Py_XSETREF(slot[k], value);
    }
    if (at != end || slot[0] == NULL || slot[1] == NULL || slot[3] == NULL) goto other;
    if (!PyLong_CheckExact(slot[0]) || !PyUnicode_CheckExact(slot[3])
        || !PyList_CheckExact(slot[1]) || (slot[2] != NULL && !PyLong_CheckExact(slot[2]))) {
        goto other;
    }
    ptype = PyLong_AsLong(slot[0]);
    if (ptype == -1 && PyErr_Occurred()) {
        PyErr_Clear();
        goto other;
    }
    if (!(ptype == 2 || ptype == 3 || (protocol == 4 && (ptype == 5 || ptype == 6)))) goto other;
    if ((ptype == 2 || ptype == 5) && PyList_GET_SIZE(slot[1]) == 0) goto other;
    value = PyLong_FromLong(0); /* no attachments */
    if (value == NULL) goto done;
    packet = sioclient_packet_make(slot[0], slot[3], slot[1], slot[2] ? slot[2] : Py_None, value);
    Py_DECREF(value);
    if (packet == NULL) goto done;
    out = PyList_New(1);
    if (out == NULL) {
        Py_DECREF(packet);
        goto done;
    }
    PyList_SET_ITEM(out, 0, packet);
    goto done;
other:
    Py_INCREF(Py_NotImplemented);
    out = Py_NotImplemented;
done:
    for (k = 0; k < 4; k++) Py_XDECREF(slot[k]);
    return out;
}

#undef SIO_NEED
#endif
