"""The sans-I/O protocol core: Engine.IO and Socket.IO as pure state machines.

Nothing in this package performs I/O, starts a greenlet or imports gevent; it is fed bytes and
strings (and the clock, as a number) and returns packets, events and bytes to send.
"""
