# Types for sioclient/core/_msgpack_py.py when compiled as sioclient.core._msgpack_c.
cimport cython

# Packets made without a Python call (see the header)
cdef extern from "_packet.h":
    int _packet_prepare "sioclient_packet_prepare"(object cls) except -1
    object _packet_make "sioclient_packet_make"(object ptype, object nsp, object data,
                                                 object pid, object attachments)

# msgpack read without extensions (see the header)
cdef extern from "_msgpackread.h":
    object _read_msgpack "sioclient_msgpack_read"(bytes buf)
    object _read_packet "sioclient_msgpack_read_packet"(bytes buf, int protocol)

# a packet written in one pass (see the header)
cdef extern from "_msgpackwrite.h":
    object _pack_packet "sioclient_msgpack_packet"(int ptype, object nsp, object data, object pid)
    object _encode_packet "sioclient_msgpack_encode"(object packet, bint binary_types,
                                                     bint text_control)

cdef bint _COMPILED
cdef bint _FAST_PACKET

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
cdef tuple _JSON_TYPES_V4
cdef object _unpackb
cdef object _object_new
cdef object _json_loads
cdef object _json_dumps
cdef object jsoncodec

cdef bint _is_index_key(str key) except -1

@cython.locals(c=Py_UCS4)
cdef bint _index_first(str key) except -1
cdef str _norm_key(object key)

@cython.locals(has_index=bint, items=list, index=list, named=list, out=dict, k=str)
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

@cython.locals(kinds=list)
cpdef object unpack(object buf)

cpdef object map_to_packet(object obj, int protocol, int flavour, object raw)

cpdef int check_packet(object packet, bint binary_types) except -1

cpdef object load_json(object message)

cdef class Encoder:
    cdef readonly bint binary_types
    cdef readonly bint text_control
    cdef object _packer

    @cython.locals(ptype=int)
    cpdef list encode(self, object packet)

cdef class Decoder:
    cdef readonly int protocol
    cdef readonly bint text_control

    cpdef list feed(self, object message)

@cython.locals(out=dict)
cpdef dict packet_map(int ptype, object nsp, object data, object pid, bint normalise)
