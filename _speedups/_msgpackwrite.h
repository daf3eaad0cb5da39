/* A packet written as msgpack in one pass, for the compiled msgpack parser.
 *
 * It writes what _msgpack_py's general path writes (packet_map() with notepack's
 * normalisation, then msgpack's Packer(use_bin_type=True, use_single_float=False)) for the
 * values that need no normalisation: None, bool, int within 64 bits, a float that is not a
 * whole number, str, bytes, list, tuple, and dict whose keys are str not starting with a digit,
 * all of their exact types, nested at most MAX_DEPTH deep.  Anything else (a whole float, an
 * index-like or non-str key, a subclass, bytearray, datetime, a string that is not valid
 * UTF-8...) returns NotImplemented before a byte is kept, and the general path decides.
 */
#ifndef SIOCLIENT_MSGPACKWRITE_H
#define SIOCLIENT_MSGPACKWRITE_H

#include <Python.h>
#include <math.h>
#include <string.h>
#include <stdint.h>

typedef struct {
    unsigned char *data;
    Py_ssize_t len, cap;
    unsigned char local[512];
} sio_out;

#define SIO_PACK_DEPTH 100 /* _msgpack_py.MAX_DEPTH: deeper data takes the general path */

static int sio_reserve(sio_out *o, Py_ssize_t n) {
    Py_ssize_t want = o->len + n;
    unsigned char *grown;
    if (want <= o->cap) return 0;
    while (o->cap < want) o->cap *= 2;
    if (o->data == o->local) {
        grown = (unsigned char *)PyMem_Malloc((size_t)o->cap);
        if (grown != NULL) memcpy(grown, o->local, (size_t)o->len);
    } else {
        grown = (unsigned char *)PyMem_Realloc(o->data, (size_t)o->cap);
    }
    if (grown == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    o->data = grown;
    return 0;
}

static void sio_be_put(unsigned char *p, uint64_t v, int n) {
    int i;
    for (i = n - 1; i >= 0; i--) {
        p[i] = (unsigned char)(v & 0xff);
        v >>= 8;
    }
}

/* a header: the code byte, then ``width`` bytes of ``value`` */
static int sio_head(sio_out *o, unsigned char code, uint64_t value, int width) {
    if (sio_reserve(o, 1 + width) < 0) return -1;
    o->data[o->len] = code;
    sio_be_put(o->data + o->len + 1, value, width);
    o->len += 1 + width;
    return 0;
}

static int sio_sized(sio_out *o, Py_ssize_t n, unsigned char fix, Py_ssize_t fixmax,
                     unsigned char c8, unsigned char c16, unsigned char c32) {
    if (n <= fixmax) return sio_head(o, (unsigned char)(fix | n), 0, 0);
    if (c8 && n < 256) return sio_head(o, c8, (uint64_t)n, 1);
    if (n < 65536) return sio_head(o, c16, (uint64_t)n, 2);
    return sio_head(o, c32, (uint64_t)n, 4);
}

static int sio_raw(sio_out *o, const char *p, Py_ssize_t n) {
    if (sio_reserve(o, n) < 0) return -1;
    memcpy(o->data + o->len, p, (size_t)n);
    o->len += n;
    return 0;
}

/* 0 written, 1 not for this path (nothing to undo: the caller drops the buffer), -1 error */
static int sio_pack(sio_out *o, PyObject *v, int depth);

static int sio_pack_str(sio_out *o, PyObject *v) {
    Py_ssize_t n;
    const char *p = PyUnicode_AsUTF8AndSize(v, &n);
    if (p == NULL) {  /* a lone surrogate: the general path words the error */
        PyErr_Clear();
        return 1;
    }
    if (n > 0xffffffffLL) return 1;
    if (sio_sized(o, n, 0xa0, 31, 0xd9, 0xda, 0xdb) < 0) return -1;
    return sio_raw(o, p, n);
}

static int sio_pack(sio_out *o, PyObject *v, int depth) {
    PyTypeObject *t = Py_TYPE(v);
    Py_ssize_t i, n;
    int r;
    if (v == Py_None) return sio_head(o, 0xc0, 0, 0);
    if (v == Py_True) return sio_head(o, 0xc3, 0, 0);
    if (v == Py_False) return sio_head(o, 0xc2, 0, 0);
    if (t == &PyLong_Type) {
        int overflow;
        long long d = PyLong_AsLongLongAndOverflow(v, &overflow);
        if (overflow != 0) {
            unsigned long long u;
            if (overflow < 0) return 1;
            u = PyLong_AsUnsignedLongLong(v);
            if (u == (unsigned long long)-1 && PyErr_Occurred()) {
                PyErr_Clear();
                return 1;
            }
            return sio_head(o, 0xcf, u, 8);
        }
        if (d == -1 && PyErr_Occurred()) return -1;
        if (d < -(1LL << 5)) {
            if (d < -(1LL << 15)) {
                if (d < -(1LL << 31)) return sio_head(o, 0xd3, (uint64_t)d, 8);
                return sio_head(o, 0xd2, (uint64_t)d & 0xffffffffu, 4);
            }
            if (d < -(1 << 7)) return sio_head(o, 0xd1, (uint64_t)d & 0xffff, 2);
            return sio_head(o, 0xd0, (uint64_t)d & 0xff, 1);
        }
        if (d < (1 << 7)) return sio_head(o, (unsigned char)(d & 0xff), 0, 0);
        if (d < (1LL << 16)) {
            if (d < (1 << 8)) return sio_head(o, 0xcc, (uint64_t)d, 1);
            return sio_head(o, 0xcd, (uint64_t)d, 2);
        }
        if (d < (1LL << 32)) return sio_head(o, 0xce, (uint64_t)d, 4);
        return sio_head(o, 0xcf, (uint64_t)d, 8);
    }
    if (t == &PyFloat_Type) {
        double d = PyFloat_AS_DOUBLE(v);
        uint64_t bits;
        if (isfinite(d) && d == floor(d)) return 1;  /* a whole float: notepack writes an int */
        memcpy(&bits, &d, 8);
        return sio_head(o, 0xcb, bits, 8);
    }
    if (t == &PyUnicode_Type) return sio_pack_str(o, v);
    if (t == &PyBytes_Type) {
        n = PyBytes_GET_SIZE(v);
        if (n > 0xffffffffLL) return 1;
        if (n < 256) r = sio_head(o, 0xc4, (uint64_t)n, 1);
        else if (n < 65536) r = sio_head(o, 0xc5, (uint64_t)n, 2);
        else r = sio_head(o, 0xc6, (uint64_t)n, 4);
        if (r < 0) return -1;
        return sio_raw(o, PyBytes_AS_STRING(v), n);
    }
    if (t == &PyList_Type || t == &PyTuple_Type) {
        if (depth >= SIO_PACK_DEPTH) return 1;
        n = PySequence_Fast_GET_SIZE(v);
        if (n > 0xffffffffLL) return 1;
        if (sio_sized(o, n, 0x90, 15, 0, 0xdc, 0xdd) < 0) return -1;
        for (i = 0; i < n; i++) {
            /* a list may change size in a callback-free walk only through us: it cannot */
            r = sio_pack(o, PySequence_Fast_GET_ITEM(v, i), depth + 1);
            if (r != 0) return r;
        }
        return 0;
    }
    if (t == &PyDict_Type) {
        PyObject *key, *item;
        Py_ssize_t pos = 0;
        if (depth >= SIO_PACK_DEPTH) return 1;
        n = PyDict_GET_SIZE(v);
        if (sio_sized(o, n, 0x80, 15, 0, 0xde, 0xdf) < 0) return -1;
        while (PyDict_Next(v, &pos, &key, &item)) {
            Py_UCS4 c;
            if (!PyUnicode_CheckExact(key)) return 1;
            if (PyUnicode_GET_LENGTH(key) > 0) {
                c = PyUnicode_READ_CHAR(key, 0);
                if (c >= '0' && c <= '9') return 1;  /* maybe an array index: sorted first */
            }
            r = sio_pack_str(o, key);
            if (r != 0) return r;
            r = sio_pack(o, item, depth + 1);
            if (r != 0) return r;
        }
        return 0;
    }
    return 1;
}

static int sio_key_str(sio_out *o, const char *name) {
    Py_ssize_t n = (Py_ssize_t)strlen(name);
    if (sio_head(o, (unsigned char)(0xa0 | n), 0, 0) < 0) return -1;
    return sio_raw(o, name, n);
}

/* The packet map {type, data, id, nsp} (an ACK: type, id, data, nsp), absent keys left out,
 * as bytes; NotImplemented when a value needs the general path. */
static PyObject *sioclient_msgpack_packet(int ptype, PyObject *nsp, PyObject *data,
                                          PyObject *pid) {
    sio_out o;
    int r = 0;
    int ack = (ptype == 3 || ptype == 6);
    Py_ssize_t entries = 2 + (data != Py_None) + (pid != Py_None);
    PyObject *out;
    if (!PyUnicode_CheckExact(nsp) || (pid != Py_None && !PyLong_CheckExact(pid))) {
        Py_RETURN_NOTIMPLEMENTED;
    }
    o.data = o.local;
    o.len = 0;
    o.cap = (Py_ssize_t)sizeof(o.local);
    if (sio_head(&o, (unsigned char)(0x80 | entries), 0, 0) < 0
        || sio_key_str(&o, "type") < 0
        || sio_head(&o, (unsigned char)ptype, 0, 0) < 0) {
        r = -1;
        goto done;
    }
    if (ack && pid != Py_None) {
        if (sio_key_str(&o, "id") < 0) { r = -1; goto done; }
        if ((r = sio_pack(&o, pid, 1)) != 0) goto done;
    }
    if (data != Py_None) {
        if (sio_key_str(&o, "data") < 0) { r = -1; goto done; }
        if ((r = sio_pack(&o, data, 1)) != 0) goto done;
    }
    if (!ack && pid != Py_None) {
        if (sio_key_str(&o, "id") < 0) { r = -1; goto done; }
        if ((r = sio_pack(&o, pid, 1)) != 0) goto done;
    }
    if (sio_key_str(&o, "nsp") < 0) { r = -1; goto done; }
    r = sio_pack_str(&o, nsp);
done:
    if (r == 0) out = PyBytes_FromStringAndSize((const char *)o.data, o.len);
    else if (r > 0) {
        Py_INCREF(Py_NotImplemented);
        out = Py_NotImplemented;
    } else out = NULL;
    if (o.data != o.local) PyMem_Free(o.data);
    return out;
}

#endif
