/* Packets made without a Python call: sioclient.core.packet.Packet's slots written directly.
 *
 * Packet.__init__ is a Python frame, and object.__new__ plus five setattr calls cost about as
 * much as the JSON of a small event.  At import, the compiled twins read the offset of each
 * slot from Packet's member descriptors (so no layout is assumed); when any of them is not a
 * plain member descriptor they keep the Python way.
 */
#ifndef SIOCLIENT_PACKET_H
#define SIOCLIENT_PACKET_H

#include <Python.h>
#include <structmember.h>

#define SIOCLIENT_PACKET_SLOTS 5

typedef struct {
    int ready;
    PyTypeObject *cls;
    Py_ssize_t offset[SIOCLIENT_PACKET_SLOTS]; /* type, nsp, data, id, attachments */
} sioclient_packet_layout_t;

/* one per module that includes this file */
static sioclient_packet_layout_t sioclient_packet_layout;

/* 1 when ``cls`` can be filled directly, 0 when not; -1 with an exception set on error. */
static int sioclient_packet_prepare(PyObject *cls) {
    static const char *names[SIOCLIENT_PACKET_SLOTS] = {"type", "nsp", "data", "id", "attachments"};
    int i;
    sioclient_packet_layout_t *layout = &sioclient_packet_layout;
    layout->ready = 0;
    if (!PyType_Check(cls)) return 0;
    for (i = 0; i < SIOCLIENT_PACKET_SLOTS; i++) {
        PyObject *descr = PyObject_GetAttrString(cls, names[i]);
        if (descr == NULL) return -1;
        if (!Py_IS_TYPE(descr, &PyMemberDescr_Type)
            || ((PyMemberDescrObject *)descr)->d_member->type != T_OBJECT_EX
            || ((PyMemberDescrObject *)descr)->d_common.d_type != (PyTypeObject *)cls) {
            Py_DECREF(descr);
            return 0;
        }
        layout->offset[i] = ((PyMemberDescrObject *)descr)->d_member->offset;
        Py_DECREF(descr);
    }
    /* a plain class: no __init__ side effects are skipped that __new__ would not skip too */
    if (((PyTypeObject *)cls)->tp_alloc == NULL) return 0;
    Py_INCREF(cls);
    layout->cls = (PyTypeObject *)cls;
    layout->ready = 1;
    return 1;
}

/* Only after sioclient_packet_prepare() returned 1. */
static PyObject *sioclient_packet_make(PyObject *type, PyObject *nsp, PyObject *data,
                                       PyObject *id, PyObject *attachments) {
    PyObject *values[SIOCLIENT_PACKET_SLOTS];
    PyObject *o;
    int i;
    sioclient_packet_layout_t *layout = &sioclient_packet_layout;
    o = layout->cls->tp_alloc(layout->cls, 0);
    if (o == NULL) return NULL;
    values[0] = type;
    values[1] = nsp;
    values[2] = data;
    values[3] = id;
    values[4] = attachments;
    for (i = 0; i < SIOCLIENT_PACKET_SLOTS; i++) {
        Py_INCREF(values[i]);
        *(PyObject **)((char *)o + layout->offset[i]) = values[i];
    }
    return o;
}

/* Slot ``i`` (0 type, 1 nsp, 2 data, 3 id, 4 attachments) of an object whose type is exactly
 * the prepared class, as a new reference; AttributeError for a slot that was deleted. */
static inline PyObject *sioclient_packet_get(PyObject *o, int i) {
    PyObject *v = *(PyObject **)((char *)o + sioclient_packet_layout.offset[i]);
    if (v == NULL) {
        PyErr_SetString(PyExc_AttributeError, "a Packet slot is not set");
        return NULL;
    }
    Py_INCREF(v);
    return v;
}

/* Slot ``i`` of an object whose type is exactly the prepared class, borrowed; NULL (no
 * exception set) for a slot that was deleted. */
#define SIOCLIENT_PACKET_SLOT(o, i) \
    (*(PyObject **)((char *)(o) + sioclient_packet_layout.offset[(i)]))

/* True when ``o`` can be read with sioclient_packet_get. */
static inline int sioclient_packet_exact(PyObject *o) {
    return sioclient_packet_layout.ready && Py_TYPE(o) == sioclient_packet_layout.cls;
}

#endif
