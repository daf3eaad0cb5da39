/* Client frames built in one allocation (compiled twin of sioclient/core/_wsframe_py.py).
 *
 * A frame made in Python from its parts (the header, the mask key sliced off the pool, the
 * masked payload, then two joins) costs several allocations; for the short messages of a
 * Socket.IO exchange that was more than the rest of the write.  Here the header, the key and
 * the payload masked a word at a time go straight into the one bytes object returned, and a
 * text message is framed from the UTF-8 of its str (which CPython keeps within an ASCII str:
 * no copy).
 */
#ifndef SIOCLIENT_WSFRAME_H
#define SIOCLIENT_WSFRAME_H

#include <Python.h>
#include <stdint.h>
#include <string.h>

/* The frame of ``n`` bytes at ``data``, masked with the 4 bytes at ``key``; NULL with an
 * exception set on failure. */
static PyObject *sioclient_ws_frame_of(int first, const char *data, Py_ssize_t n,
                                       const unsigned char *key) {
    Py_ssize_t head = n < 126 ? 2 : (n < 65536 ? 4 : 10);
    PyObject *out = PyBytes_FromStringAndSize(NULL, head + 4 + n);
    unsigned char *p, *dst;
    const unsigned char *src = (const unsigned char *)data;
    uint64_t k64;
    uint32_t k32;
    Py_ssize_t i;
    if (out == NULL) return NULL;
    p = (unsigned char *)PyBytes_AS_STRING(out);
    p[0] = (unsigned char)first;
    if (n < 126) {
        p[1] = (unsigned char)(0x80 | n);
    } else if (n < 65536) {
        p[1] = 0xFE;
        p[2] = (unsigned char)(n >> 8);
        p[3] = (unsigned char)(n & 0xFF);
    } else {
        uint64_t v = (uint64_t)n;
        p[1] = 0xFF;
        for (i = 0; i < 8; i++) p[2 + i] = (unsigned char)(v >> (56 - 8 * i));
    }
    memcpy(p + head, key, 4);
    dst = p + head + 4;
    memcpy(&k32, key, 4);
    k64 = ((uint64_t)k32 << 32) | k32; /* the key twice: byte i of a word is key[i & 3] */
    for (i = 0; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, src + i, 8);
        w ^= k64;
        memcpy(dst + i, &w, 8);
    }
    for (; i < n; i++) dst[i] = src[i] ^ key[i & 3];
    return out;
}

/* ``FrameWriter.frame(first, payload)`` with the key at ``at`` in ``pool``. */
static PyObject *sioclient_ws_frame(int first, PyObject *payload, PyObject *pool, Py_ssize_t at) {
    return sioclient_ws_frame_of(first, PyBytes_AS_STRING(payload), PyBytes_GET_SIZE(payload),
                                 (const unsigned char *)PyBytes_AS_STRING(pool) + at);
}

/* The text frame of ``text`` (a str), the key at ``at`` in ``pool``. */
static PyObject *sioclient_ws_text_frame(PyObject *text, PyObject *pool, Py_ssize_t at) {
    Py_ssize_t n;
    const char *data = PyUnicode_AsUTF8AndSize(text, &n);
    if (data == NULL) return NULL;
    return sioclient_ws_frame_of(0x81, data, n,
                                 (const unsigned char *)PyBytes_AS_STRING(pool) + at);
}

#endif
