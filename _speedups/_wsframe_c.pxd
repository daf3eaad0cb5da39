# Declarations that type sioclient/core/_wsframe_py.py when it is compiled as _wsframe_c.
cimport cython

# frames built in one allocation (see the header)
cdef extern from "_wsframe.h":
    bytes _ws_frame "sioclient_ws_frame"(int first, bytes payload, bytes pool, Py_ssize_t at)
    bytes _ws_text_frame "sioclient_ws_text_frame"(str text, bytes pool, Py_ssize_t at)

cdef class FrameReader:
    cdef public Py_ssize_t max_size
    cdef public object error
    cdef public Py_ssize_t others
    cdef bytes _buf
    cdef bint _fragmented
    cdef list _partial_out

    cpdef list feed(self, bytes data)

    @cython.locals(buf=bytes, n=Py_ssize_t, pos=Py_ssize_t, start=Py_ssize_t, b0=int, b1=int,
                   length=Py_ssize_t, head=Py_ssize_t, opcode=int, out=list, fragmented=bint,
                   payload=bytes, others=Py_ssize_t)
    cdef list _feed(self, bytes data)


cdef class FrameWriter:
    cdef bytes _pool
    cdef Py_ssize_t _at

    @cython.locals(at=Py_ssize_t)
    cdef bytes _mask_key(self)

    @cython.locals(at=Py_ssize_t)
    cdef Py_ssize_t _key_at(self)

    @cython.locals(at=Py_ssize_t)
    cpdef bytes text(self, str text)

    @cython.locals(n=Py_ssize_t, head=bytes, key=bytes, at=Py_ssize_t)
    cpdef bytes frame(self, int first, bytes payload)

    @cython.locals(parts=list)
    cpdef bytes encode(self, list messages)
