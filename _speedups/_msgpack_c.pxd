# Types for sioclient/core/_msgpack_py.py when compiled as sioclient.core._msgpack_c.
cimport cython

cdef object ProtocolError
cdef object Packet
cdef object msgpack
cdef object datetime
cdef object _EPOCH
cdef object _MS
cdef object _I64
cdef object _INT_MIN
cdef object _UINT_MAX
cdef object UNDEFINED

cdef bint _is_index_key(str key) except -1
cdef str _norm_key(object key)

@cython.locals(changed=bint, has_index=bint, items=list, index=list, named=list, out=dict,
               k=str)
cdef object _norm_dict(dict value, int depth)

@cython.locals(out=list, n=Py_ssize_t, i=Py_ssize_t)
cdef object _norm_list(object value, int depth)

cdef object _norm(object value, int depth)
cdef object _norm_other(object value, int depth)

cdef int _fail(str message, object raw) except -1
cdef int _need(Py_ssize_t pos, Py_ssize_t n, Py_ssize_t end, object raw) except -1

@cython.locals(hi=Py_ssize_t)
cdef Py_ssize_t _u32(const unsigned char* buf, Py_ssize_t pos)

@cython.locals(b=int, n=Py_ssize_t)
cdef Py_ssize_t _skip_items(const unsigned char* buf, Py_ssize_t pos, Py_ssize_t end,
                            Py_ssize_t count, int depth, list kinds, object raw) except -1

@cython.locals(kinds=list, end=Py_ssize_t, pos=Py_ssize_t)
cpdef list scan(bytes buf)

@cython.final
cdef class _ExtHook:
    cdef list kinds
    cdef Py_ssize_t next
    cdef public bint undefined

cdef object _replace_undefined(object value)

cdef object _as_int(object value)
cdef bint _data_valid(int ptype, object data, int protocol, int flavour) except -1
