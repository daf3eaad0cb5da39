# Declarations that type sioclient/core/_eio_py.py when it is compiled as _eio_c.
# The constants stay ordinary module attributes: a cdef global would hide them from Python.
cimport cython

cdef str _b64encode(bytes data)
cdef bytes _b64decode(str text, object whole)
cdef bytes _as_bytes(object data)

@cython.locals(n=Py_ssize_t)
cpdef Py_ssize_t utf16_len(str text) except -1

@cython.locals(raw=bytes)
cpdef object encode_packet(int ptype, object data, int revision, bint binary_ok=*)

@cython.locals(n=Py_ssize_t, ptype=int)
cdef tuple _decode_text(str text, int revision)

@cython.locals(raw=bytes, ptype=int)
cpdef tuple decode_packet(object frame, int revision)

@cython.locals(size=Py_ssize_t, n=Py_ssize_t)
cpdef Py_ssize_t payload_item_size(int ptype, object data, int revision) except -1

cdef str _encode_text_v3(int ptype, object data)

@cython.locals(out=bytearray, ptype=int, body=bytes, ch=Py_UCS4)
cdef bytes _encode_binary_v3(list packets)

@cython.locals(parts=list, ptype=int, text=str)
cpdef object encode_payload(list packets, int revision, bint b64=*)

cdef bint _has_astral(str text) except -1

@cython.locals(end=Py_ssize_t, pos=Py_ssize_t, colon=Py_ssize_t, n=Py_ssize_t,
               start=Py_ssize_t, stop=Py_ssize_t, units=Py_ssize_t, astral=bint,
               i=Py_ssize_t, limit=Py_ssize_t, ch=Py_UCS4, packets=list)
cdef list _decode_text_v3(str body)

@cython.locals(end=Py_ssize_t, pos=Py_ssize_t, i=Py_ssize_t, n=Py_ssize_t,
               digits=int, kind=int, d=int, ptype=int, chunk=bytes, text=str, packets=list)
cdef list _decode_binary_v3(bytes body)

@cython.locals(packets=list, part=str)
cdef list _decode_text_v4(str body)

@cython.locals(raw=bytes)
cpdef list decode_payload(object body, int revision, object max_payload=*)

@cython.locals(raw=bytes, head=str, i=Py_ssize_t, n=Py_ssize_t)
cpdef int detect_revision(object body) except -1
