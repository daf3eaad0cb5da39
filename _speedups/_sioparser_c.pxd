# Types for sioclient/core/_sioparser_py.py, compiled as sioclient.core._sioparser_c
# (Cython pure-Python mode: the .py is the source, these declarations augment it).

cimport cython

# Packets made without a Python call (see the header)
cdef extern from "_packet.h":
    int _packet_prepare "sioclient_packet_prepare"(object cls) except -1
    object _packet_make "sioclient_packet_make"(object ptype, object nsp, object data,
                                                 object pid, object attachments)
    bint _packet_exact "sioclient_packet_exact"(object o)
    object _packet_get "sioclient_packet_get"(object o, int i)

# the number spellings of orjson's output that JavaScript writes otherwise (see the header)
cdef extern from "_jsonscan.h":
    int _scan_numbers "sioclient_number_marks"(bytes raw)
    str _join_ascii "sioclient_join_utf8"(str prefix, bytes raw)
    object _join_packet "sioclient_join_packet"(str head, object nsp, object pid, bytes raw)

# small packets' JSON written and read by hand; NotImplemented for the rest (see the header)
cdef extern from "_jsonfast.h":
    object _fast_packet "sioclient_jf_packet"(int ptype, object nsp, object pid, object data)
    object _fast_loads "sioclient_jf_loads"(str text, Py_ssize_t start)
    str _fast_slice "sioclient_jf_slice"(str text, Py_ssize_t start, Py_ssize_t end)

cdef str _join_utf8(str prefix, bytes raw)

cdef bint _COMPILED
cdef bint _FAST_PACKET

cdef object jsoncodec
cdef object Packet
cdef object ProtocolError

cdef int _MAX_ENCODE_DEPTH
cdef Py_ssize_t _MAX_ID_DIGITS
cdef Py_ssize_t _MAX_ATTACHMENT_DIGITS

cdef int _CONNECT
cdef int _DISCONNECT
cdef int _EVENT
cdef int _ACK
cdef int _CONNECT_ERROR
cdef int _BINARY_EVENT
cdef int _BINARY_ACK

cdef tuple _TYPE_STR
cdef frozenset _RESERVED

cdef object _odumps
cdef object _oloads
cdef object _OOPTS
cdef object _OFAST
cdef object _std_dumps
cdef object _std_loads
cdef object _js_small
cdef object _object_new
cdef tuple _PLACEHOLDERS
cdef int _WHOLE_FLOAT
cdef int _SMALL_FLOAT

@cython.locals(marks=int)
cdef int _number_marks(bytes raw) except -1

@cython.locals(raw=bytes, marks=int)
cdef str _dumps(object obj)

cdef object _loads(str text)

@cython.locals(n=Py_ssize_t, i=Py_ssize_t, copy=list, dcopy=dict)
cdef object _js_floats(object obj, int depth)

cpdef object js_floats(object data)

cdef object _packet(int ptype, str nsp, object data, object pid, Py_ssize_t attachments)

@cython.locals(data=list, n=Py_ssize_t)
cpdef object event_packet(str nsp, object event, tuple args)

cdef bint _is_binary(object obj)

@cython.final
cdef class _Attachments:
    cdef public list buffers

cdef bint _has_bin(object obj, int depth, int max_depth) except -1

cpdef bint has_binary(object data, int max_depth=*) except -1

@cython.locals(n=Py_ssize_t, i=Py_ssize_t, copy=list, dcopy=dict)
cdef object _deconstruct(object obj, list buffers, int depth)

@cython.locals(buffers=list)
cpdef tuple deconstruct(object data)

cdef Py_ssize_t _placeholder_num(dict obj, Py_ssize_t count) except -2

@cython.locals(n=Py_ssize_t, i=Py_ssize_t, num=Py_ssize_t)
cdef int _replace(object node, list buffers, Py_ssize_t count, int depth, int max_depth) except -1

@cython.locals(count=Py_ssize_t, num=Py_ssize_t)
cpdef object reconstruct(object data, list buffers, int max_depth=*)

cpdef list encode(object packet, int protocol)

@cython.locals(ptype=int, buffers=list, head=str, body=str, text=str, out=list, raw=bytes,
               done=bint, marks=int, tobj=object, nsp=object, data=object, pid=object,
               utf8=bytes, named=bint, joined=object, out0=list, written=object)
cdef list _encode(object packet, int protocol, _Attachments hook)

cdef class Encoder:
    cdef readonly int protocol
    cdef _Attachments _hook
    cpdef list encode(self, object packet)

@cython.locals(n=Py_ssize_t)
cdef bint _valid_event(object data, int protocol)

cdef int _check_payload(int ptype, object data, bint has_data, int protocol, str text) except -1

@cython.locals(n=Py_ssize_t, i=Py_ssize_t, start=Py_ssize_t, c=Py_UCS4, ptype=int,
               count=Py_ssize_t, attachments=Py_ssize_t, ack="long long", has_data=bint)
cpdef object decode_text(str text, int protocol, Py_ssize_t max_attachments=*)

cdef class Decoder:
    cdef readonly int protocol
    cdef readonly Py_ssize_t max_attachments
    cdef readonly int max_depth
    cdef object _pending
    cdef list _buffers
    cdef Py_ssize_t _due

    cpdef reset(self)

    @cython.locals(buffers=list, c=Py_UCS4, text=str)
    cpdef list feed(self, object message)
