/* A packet written as msgpack in one pass, for the compiled msgpack parser.
 *
 * It writes what _msgpack_py's general path writes (packet_map() with notepack's
 * normalisation, then msgpack's Packer(use_bin_type=True, use_single_float=False)) for the
 * values that need no normalisation: None, bool, int within 64 bits, a float that is not a
 * whole number, str, bytes, list, tuple, and dict whose keys are str not starting with a digit,
 * all of their exact types, nested at most MAX_DEPTH deep.  Anything else (a whole float, an
 * index-like or non-str key, a subclass, bytearray, datetime, a string that is not valid
 * UTF-8...) returns NotImplemented before a byte is kept, and the general path decides.
 *
 * The bytes are gathered in one buffer kept between calls (grown to the largest packet written,
 * given back past SIO_SCRATCH_KEEP), so that a packet costs no allocation but its bytes object;
 * a call that finds the buffer in use (a finaliser run by an allocation in the middle of a
 * write, on another thread) takes a buffer of its own.  Each value reserves the room its header
 * needs once, then writes without further checks.
 */
#ifndef SIOCLIENT_MSGPACKWRITE_H
#define SIOCLIENT_MSGPACKWRITE_H

#include <Python.h>
#include <math.h>
#include <string.h>
#include <stdint.h>

#include "_packet.h"

typedef struct {
    unsigned char *data;
    Py_ssize_t len, cap;
    int shared; /* data is the kept buffer */
} sio_out;

#define SIO_PACK_DEPTH 100 /* _msgpack_py.MAX_DEPTH: deeper data takes the general path */
#define SIO_SCRATCH_MIN 4096
#define SIO_SCRATCH_KEEP (256 * 1024)

static unsigned char *sio_scratch = NULL;
static Py_ssize_t sio_scratch_cap = 0;
static int sio_scratch_busy = 0;

static int sio_out_open(sio_out *o) {
    o->len = 0;
    if (!sio_scratch_busy) {
        if (sio_scratch == NULL) {
            sio_scratch = (unsigned char *)PyMem_Malloc(SIO_SCRATCH_MIN);
            if (sio_scratch == NULL) {
                PyErr_NoMemory();
                return -1;
            }
            sio_scratch_cap = SIO_SCRATCH_MIN;
        }
        sio_scratch_busy = 1;
        o->shared = 1;
        o->data = sio_scratch;
        o->cap = sio_scratch_cap;
        return 0;
    }
    o->shared = 0;
    o->data = (unsigned char *)PyMem_Malloc(SIO_SCRATCH_MIN);
    if (o->data == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    o->cap = SIO_SCRATCH_MIN;
    return 0;
}

static void sio_out_close(sio_out *o) {
    if (!o->shared) {
        PyMem_Free(o->data);
        return;
    }
    if (o->cap > SIO_SCRATCH_KEEP) {
        PyMem_Free(o->data);
        sio_scratch = NULL;
        sio_scratch_cap = 0;
    } else {
        sio_scratch = o->data;
        sio_scratch_cap = o->cap;
    }
    sio_scratch_busy = 0;
}

static int sio_grow(sio_out *o, Py_ssize_t n) {
    Py_ssize_t want = o->len + n;
    Py_ssize_t cap = o->cap;
    unsigned char *grown;
    if (n > PY_SSIZE_T_MAX / 2 - o->len) {
        PyErr_NoMemory();
        return -1;
    }
    while (cap < want) cap *= 2;
    grown = (unsigned char *)PyMem_Realloc(o->data, (size_t)cap);
    if (grown == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    o->data = grown;
    o->cap = cap;
    if (o->shared) { /* the kept pointer must never dangle, even while busy */
        sio_scratch = grown;
        sio_scratch_cap = cap;
    }
    return 0;
}

/* room for ``n`` more bytes */
#define SIO_ROOM(o, n) (((o)->cap - (o)->len >= (Py_ssize_t)(n)) ? 0 : sio_grow((o), (n)))

static inline unsigned char *sio_put16(unsigned char *p, uint32_t v) {
    p[0] = (unsigned char)(v >> 8);
    p[1] = (unsigned char)v;
    return p + 2;
}

static inline unsigned char *sio_put32(unsigned char *p, uint32_t v) {
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
    return p + 4;
}

static inline unsigned char *sio_put64(unsigned char *p, uint64_t v) {
    sio_put32(p, (uint32_t)(v >> 32));
    return sio_put32(p + 4, (uint32_t)v);
}

/* A str or bin header for ``n`` bytes (room for 5 bytes reserved by the caller). */
static inline unsigned char *sio_put_str_head(unsigned char *p, Py_ssize_t n) {
    if (n < 32) {
        *p++ = (unsigned char)(0xa0 | n);
    } else if (n < 256) {
        *p++ = 0xd9;
        *p++ = (unsigned char)n;
    } else if (n < 65536) {
        *p++ = 0xda;
        p = sio_put16(p, (uint32_t)n);
    } else {
        *p++ = 0xdb;
        p = sio_put32(p, (uint32_t)n);
    }
    return p;
}

/* a container header: fix form up to 15 items, then 16 or 32 bits (room for 5 reserved) */
static inline unsigned char *sio_put_count(unsigned char *p, Py_ssize_t n, unsigned char fix,
                                           unsigned char c16) {
    if (n < 16) {
        *p++ = (unsigned char)(fix | n);
    } else if (n < 65536) {
        *p++ = c16;
        p = sio_put16(p, (uint32_t)n);
    } else {
        *p++ = (unsigned char)(c16 + 1);
        p = sio_put32(p, (uint32_t)n);
    }
    return p;
}

/* 0 written, 1 not for this path (nothing to undo: the caller drops the buffer), -1 error */
static int sio_pack(sio_out *o, PyObject *v, int depth);

/* ``n`` bytes copied; a short string (most keys and words) by a loop rather than a call */
static inline void sio_copy(unsigned char *dst, const char *src, Py_ssize_t n) {
    Py_ssize_t i;
    if (n <= 16) {
        for (i = 0; i < n; i++) dst[i] = (unsigned char)src[i];
    } else {
        memcpy(dst, src, (size_t)n);
    }
}

static int sio_pack_str(sio_out *o, PyObject *v) {
    Py_ssize_t n;
    const char *s;
    unsigned char *p;
    if (PyUnicode_IS_COMPACT_ASCII(v)) { /* its characters are its UTF-8 */
        n = PyUnicode_GET_LENGTH(v);
        s = (const char *)PyUnicode_1BYTE_DATA(v);
    } else {
        s = PyUnicode_AsUTF8AndSize(v, &n);
        if (s == NULL) { /* a lone surrogate: the general path words the error */
            PyErr_Clear();
            return 1;
        }
    }
    if (n > 0xffffffffLL) return 1;
    if (SIO_ROOM(o, 5 + n) < 0) return -1;
    p = sio_put_str_head(o->data + o->len, n);
    sio_copy(p, s, n);
    o->len = (p - o->data) + n;
    return 0;
}

static int sio_pack_int(sio_out *o, PyObject *v) {
    int overflow;
    long long d = PyLong_AsLongLongAndOverflow(v, &overflow);
    unsigned char *p;
    if (SIO_ROOM(o, 9) < 0) return -1;
    p = o->data + o->len;
    if (overflow != 0) {
        unsigned long long u;
        if (overflow < 0) return 1;
        u = PyLong_AsUnsignedLongLong(v);
        if (u == (unsigned long long)-1 && PyErr_Occurred()) {
            PyErr_Clear();
            return 1;
        }
        *p++ = 0xcf;
        p = sio_put64(p, (uint64_t)u);
    } else if (d == -1 && PyErr_Occurred()) {
        return -1;
    } else if (d >= 0) {
        if (d < 128) {
            *p++ = (unsigned char)d;
        } else if (d < 256) {
            *p++ = 0xcc;
            *p++ = (unsigned char)d;
        } else if (d < 65536) {
            *p++ = 0xcd;
            p = sio_put16(p, (uint32_t)d);
        } else if (d < (1LL << 32)) {
            *p++ = 0xce;
            p = sio_put32(p, (uint32_t)d);
        } else {
            *p++ = 0xcf;
            p = sio_put64(p, (uint64_t)d);
        }
    } else if (d >= -32) {
        *p++ = (unsigned char)(d & 0xff);
    } else if (d >= -128) {
        *p++ = 0xd0;
        *p++ = (unsigned char)(d & 0xff);
    } else if (d >= -32768) {
        *p++ = 0xd1;
        p = sio_put16(p, (uint32_t)d & 0xffff);
    } else if (d >= -(1LL << 31)) {
        *p++ = 0xd2;
        p = sio_put32(p, (uint32_t)d);
    } else {
        *p++ = 0xd3;
        p = sio_put64(p, (uint64_t)d);
    }
    o->len = p - o->data;
    return 0;
}

/* An item of a list or dict: the common leaves (a str, a small int, None, True, False) written
 * here, without the call that the other values take. */
static inline int sio_pack_item(sio_out *o, PyObject *v, int depth) {
    PyTypeObject *t = Py_TYPE(v);
    if (t == &PyUnicode_Type) return sio_pack_str(o, v);
    if (v == Py_None || v == Py_True || v == Py_False) {
        if (SIO_ROOM(o, 1) < 0) return -1;
        o->data[o->len++] = v == Py_None ? 0xc0 : (v == Py_True ? 0xc3 : 0xc2);
        return 0;
    }
    if (t == &PyLong_Type) return sio_pack_int(o, v);
    return sio_pack(o, v, depth);
}

static int sio_pack_dict(sio_out *o, PyObject *v, int depth) {
    PyObject *key, *item;
    Py_ssize_t pos = 0, n = PyDict_GET_SIZE(v);
    int r;
    if (depth >= SIO_PACK_DEPTH) return 1;
    if (n > 0xffffffffLL) return 1;
    if (SIO_ROOM(o, 5) < 0) return -1;
    o->len = sio_put_count(o->data + o->len, n, 0x80, 0xde) - o->data;
    while (PyDict_Next(v, &pos, &key, &item)) {
        Py_UCS4 c;
        if (!PyUnicode_CheckExact(key)) return 1;
        n = PyUnicode_GET_LENGTH(key);
        if (PyUnicode_IS_COMPACT_ASCII(key) && n < 32) { /* the common key, written here */
            const char *s = (const char *)PyUnicode_1BYTE_DATA(key);
            if (n > 0 && s[0] >= '0' && s[0] <= '9') return 1; /* maybe an array index */
            if (SIO_ROOM(o, 1 + n) < 0) return -1;
            o->data[o->len] = (unsigned char)(0xa0 | n);
            sio_copy(o->data + o->len + 1, s, n);
            o->len += 1 + n;
        } else {
            if (n > 0) {
                c = PyUnicode_READ_CHAR(key, 0);
                if (c >= '0' && c <= '9') return 1; /* maybe an array index: sorted first */
            }
            r = sio_pack_str(o, key);
            if (r != 0) return r;
        }
        r = sio_pack_item(o, item, depth + 1);
        if (r != 0) return r;
    }
    return 0;
}

static int sio_pack(sio_out *o, PyObject *v, int depth) {
    PyTypeObject *t = Py_TYPE(v);
    Py_ssize_t i, n;
    unsigned char *p;
    int r;
    if (t == &PyUnicode_Type) return sio_pack_str(o, v);
    if (t == &PyLong_Type) return sio_pack_int(o, v);
    if (t == &PyDict_Type) return sio_pack_dict(o, v, depth);
    if (v == Py_None || v == Py_True || v == Py_False) {
        if (SIO_ROOM(o, 1) < 0) return -1;
        o->data[o->len++] = v == Py_None ? 0xc0 : (v == Py_True ? 0xc3 : 0xc2);
        return 0;
    }
    if (t == &PyFloat_Type) {
        double d = PyFloat_AS_DOUBLE(v);
        uint64_t bits;
        if (isfinite(d) && d == floor(d)) return 1; /* a whole float: notepack writes an int */
        if (SIO_ROOM(o, 9) < 0) return -1;
        memcpy(&bits, &d, 8);
        p = o->data + o->len;
        *p++ = 0xcb;
        sio_put64(p, bits);
        o->len += 9;
        return 0;
    }
    if (t == &PyBytes_Type) {
        n = PyBytes_GET_SIZE(v);
        if (n > 0xffffffffLL) return 1;
        if (SIO_ROOM(o, 5 + n) < 0) return -1;
        p = o->data + o->len;
        if (n < 256) {
            *p++ = 0xc4;
            *p++ = (unsigned char)n;
        } else if (n < 65536) {
            *p++ = 0xc5;
            p = sio_put16(p, (uint32_t)n);
        } else {
            *p++ = 0xc6;
            p = sio_put32(p, (uint32_t)n);
        }
        memcpy(p, PyBytes_AS_STRING(v), (size_t)n);
        o->len = (p - o->data) + n;
        return 0;
    }
    if (t == &PyList_Type || t == &PyTuple_Type) {
        if (depth >= SIO_PACK_DEPTH) return 1;
        n = PySequence_Fast_GET_SIZE(v);
        if (n > 0xffffffffLL) return 1;
        if (SIO_ROOM(o, 5) < 0) return -1;
        o->len = sio_put_count(o->data + o->len, n, 0x90, 0xdc) - o->data;
        for (i = 0; i < n; i++) {
            /* nothing here runs Python code: a list cannot change size under the walk */
            r = sio_pack_item(o, PySequence_Fast_GET_ITEM(v, i), depth + 1);
            if (r != 0) return r;
        }
        return 0;
    }
    return 1;
}

/* a constant run of bytes (a key with its header) */
static inline int sio_lit(sio_out *o, const char *s, Py_ssize_t n) {
    if (SIO_ROOM(o, n) < 0) return -1;
    memcpy(o->data + o->len, s, (size_t)n);
    o->len += n;
    return 0;
}

/* The packet map {type, data, id, nsp} (an ACK: type, id, data, nsp), absent keys left out,
 * into ``o``: 0 written, 1 when a value needs the general path, -1 error. */
static int sio_pack_packet(sio_out *o, int ptype, PyObject *nsp, PyObject *data, PyObject *pid) {
    int r;
    int ack = (ptype == 3 || ptype == 6);
    unsigned char head[6] = {0, 0xa4, 't', 'y', 'p', 'e'};
    head[0] = (unsigned char)(0x80 | (2 + (data != Py_None) + (pid != Py_None)));
    if (sio_lit(o, (const char *)head, 6) < 0) return -1;
    if (SIO_ROOM(o, 1) < 0) return -1;
    o->data[o->len++] = (unsigned char)ptype;
    if (ack && pid != Py_None) {
        if (sio_lit(o, "\xa2id", 3) < 0) return -1;
        if ((r = sio_pack_int(o, pid)) != 0) return r;
    }
    if (data != Py_None) {
        if (sio_lit(o, "\xa4" "data", 5) < 0) return -1;
        if ((r = sio_pack(o, data, 1)) != 0) return r;
    }
    if (!ack && pid != Py_None) {
        if (sio_lit(o, "\xa2id", 3) < 0) return -1;
        if ((r = sio_pack_int(o, pid)) != 0) return r;
    }
    if (sio_lit(o, "\xa3nsp", 4) < 0) return -1;
    return sio_pack_str(o, nsp);
}

static PyObject *sio_pack_finish(sio_out *o, int r) {
    PyObject *out;
    if (r == 0) {
        out = PyBytes_FromStringAndSize((const char *)o->data, o->len);
    } else if (r > 0) {
        Py_INCREF(Py_NotImplemented);
        out = Py_NotImplemented;
    } else {
        out = NULL;
    }
    sio_out_close(o);
    return out;
}

/* The packet's bytes; NotImplemented when a value needs the general path. */
static PyObject *sioclient_msgpack_packet(int ptype, PyObject *nsp, PyObject *data,
                                          PyObject *pid) {
    sio_out o;
    if (!PyUnicode_CheckExact(nsp) || (pid != Py_None && !PyLong_CheckExact(pid))) {
        Py_RETURN_NOTIMPLEMENTED;
    }
    if (sio_out_open(&o) < 0) return NULL;
    return sio_pack_finish(&o, sio_pack_packet(&o, ptype, nsp, data, pid));
}

/* Encoder.encode's whole path for a Packet of exactly the prepared class whose slots hold a
 * type from 0 to 6, an exact str namespace and an exact int id or None: ``[bytes]``, or
 * NotImplemented for anything else (another class, a type that the revision sends as JSON
 * text, a value that needs the general path), which check_packet() and the general path then
 * take from the start. */
static PyObject *sioclient_msgpack_encode(PyObject *packet, int binary_types, int text_control) {
    PyObject *tobj, *nsp, *data, *pid, *raw, *out;
    long ptype;
    sio_out o;
    int r;
    if (!sioclient_packet_exact(packet)) Py_RETURN_NOTIMPLEMENTED;
    tobj = SIOCLIENT_PACKET_SLOT(packet, 0);
    nsp = SIOCLIENT_PACKET_SLOT(packet, 1);
    data = SIOCLIENT_PACKET_SLOT(packet, 2);
    pid = SIOCLIENT_PACKET_SLOT(packet, 3);
    if (tobj == NULL || nsp == NULL || data == NULL || pid == NULL) Py_RETURN_NOTIMPLEMENTED;
    if (!PyLong_CheckExact(tobj) || !PyUnicode_CheckExact(nsp)
        || (pid != Py_None && !PyLong_CheckExact(pid))) {
        Py_RETURN_NOTIMPLEMENTED;
    }
    ptype = PyLong_AsLong(tobj);
    if (ptype < 0 || ptype > 6) {
        PyErr_Clear();
        Py_RETURN_NOTIMPLEMENTED;
    }
    if (!binary_types) { /* 3.x decoders know no BINARY_* types */
        if (ptype == 5) ptype = 2;
        else if (ptype == 6) ptype = 3;
    }
    if (text_control && (ptype == 0 || ptype == 1 || ptype == 4)) Py_RETURN_NOTIMPLEMENTED;
    if (sio_out_open(&o) < 0) return NULL;
    /* held for the walk, though nothing in it runs Python code that could rebind a slot */
    Py_INCREF(nsp);
    Py_INCREF(data);
    Py_INCREF(pid);
    r = sio_pack_packet(&o, (int)ptype, nsp, data, pid);
    Py_DECREF(nsp);
    Py_DECREF(data);
    Py_DECREF(pid);
    raw = sio_pack_finish(&o, r);
    if (raw == NULL || raw == Py_NotImplemented) return raw;
    out = PyList_New(1);
    if (out == NULL) {
        Py_DECREF(raw);
        return NULL;
    }
    PyList_SET_ITEM(out, 0, raw);
    return out;
}

#endif
