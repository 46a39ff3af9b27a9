# SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
"""evpoll: selectors and asyncio on /dev/evpoll, through libevpoll.

    import asyncio, evpoll
    loop = asyncio.SelectorEventLoop(evpoll.EvpollSelector())

EvpollSelector is selectors.EpollSelector with its poller object replaced
by evpoll.evpoll, which has select.epoll's interface (register, modify,
unregister, poll, close, closed, fileno, fromfd, context manager) and its
behaviour: the same exception types and errnos (FileExistsError on a
second register, FileNotFoundError on an unknown fd, PermissionError on a
regular file, ValueError on a closed object or a bad argument), poll()
timeouts rounded up to the millisecond, and EINTR retried with the
remaining time unless a signal handler raises (PEP 475).

The calls go to libevpoll's evpoll_create1(), evpoll_ctl() and
evpoll_wait() (libevpoll.so.0, or $EVPOLL_LIBRARY) through ctypes, which
releases the GIL while evpoll_wait() sleeps.  /dev/evpoll must exist:
the evpoll module is loaded (evpoll-dkms and its modules-load.d entry).
"""

import ctypes
import errno as _errno
import math
import os
import platform
import select
import selectors
import time

__all__ = ["evpoll", "EvpollSelector", "available"]

EPOLL_CTL_ADD = 1
EPOLL_CTL_DEL = 2
EPOLL_CTL_MOD = 3
_CLOEXEC = 0o2000000            # EPOLL_CLOEXEC == O_CLOEXEC
_FD_SETSIZE = 1024              # select.epoll's maxevents for -1

_lib = None


def _library():
    global _lib
    if _lib is None:
        name = os.environ.get("EVPOLL_LIBRARY") or "libevpoll.so.0"
        lib = ctypes.CDLL(name, use_errno=True)
        lib.evpoll_create1.argtypes = [ctypes.c_int]
        lib.evpoll_create1.restype = ctypes.c_int
        lib.evpoll_ctl.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int,
                                   ctypes.POINTER(_Event)]
        lib.evpoll_ctl.restype = ctypes.c_int
        lib.evpoll_wait.argtypes = [ctypes.c_int, ctypes.POINTER(_Event),
                                    ctypes.c_int, ctypes.c_int]
        lib.evpoll_wait.restype = ctypes.c_int
        _lib = lib
    return _lib


# struct epoll_event: packed (12 bytes) on x86-64, as glibc declares it.
_event_attrs = {"_fields_": [("events", ctypes.c_uint32),
                             ("data", ctypes.c_uint64)]}
if platform.machine() == "x86_64":
    _event_attrs = {"_pack_": 1, **_event_attrs}
_Event = type("_Event", (ctypes.Structure,), _event_attrs)


def _oserror():
    err = ctypes.get_errno()
    return OSError(err, os.strerror(err))


def _fd_of(fileobj):
    """The fd of an int or an object with fileno(), as select.epoll takes."""
    if isinstance(fileobj, int):
        fd = fileobj
    else:
        try:
            fd = fileobj.fileno()
        except AttributeError:
            raise TypeError("argument must be an int, or have a fileno() "
                            "method.") from None
        if not isinstance(fd, int):
            raise TypeError("fileno() returned a non-integer")
    if fd < 0:
        raise ValueError(
            "file descriptor cannot be a negative integer (%d)" % fd)
    return fd


class evpoll:
    """An evpoll instance with select.epoll's interface."""

    def __init__(self, sizehint=-1, flags=0):
        if sizehint == 0 or sizehint < -1:
            raise ValueError("negative sizehint")
        if flags and flags != _CLOEXEC:
            raise OSError("invalid flags")
        self._fd = -1
        fd = _library().evpoll_create1(_CLOEXEC)
        if fd < 0:
            raise _oserror()
        self._fd = fd

    @classmethod
    def fromfd(cls, fd):
        """Wrap an evpoll instance fd (it is then owned and closed here)."""
        self = cls.__new__(cls)
        self._fd = _fd_of(fd)
        return self

    def _check(self):
        if self._fd < 0:
            raise ValueError("I/O operation on closed epoll object")

    @property
    def closed(self):
        return self._fd < 0

    def fileno(self):
        self._check()
        return self._fd

    def close(self):
        fd, self._fd = self._fd, -1
        if fd >= 0:
            os.close(fd)

    def __del__(self):
        if getattr(self, "_fd", -1) >= 0:
            self.close()

    def __enter__(self):
        self._check()
        return self

    def __exit__(self, *exc):
        self.close()

    def _ctl(self, op, fileobj, eventmask):
        self._check()
        fd = _fd_of(fileobj)
        ev = _Event(eventmask & 0xffffffff, fd)
        if _library().evpoll_ctl(self._fd, op, fd, ctypes.byref(ev)) < 0:
            raise _oserror()

    def register(self, fd, eventmask=select.EPOLLIN | select.EPOLLPRI |
                 select.EPOLLOUT):
        self._ctl(EPOLL_CTL_ADD, fd, eventmask)

    def modify(self, fd, eventmask):
        self._ctl(EPOLL_CTL_MOD, fd, eventmask)

    def unregister(self, fd):
        self._ctl(EPOLL_CTL_DEL, fd, 0)

    def poll(self, timeout=None, maxevents=-1):
        """[(fd, events), ...] within timeout seconds (None or < 0: wait)."""
        self._check()
        if timeout is None:
            ms = -1
        else:
            timeout = float(timeout)
            ms = -1 if timeout < 0 else math.ceil(timeout * 1e3)
            if ms > 0x7fffffff:
                raise OverflowError("timeout is too large")
        if maxevents == -1:
            maxevents = _FD_SETSIZE - 1
        elif maxevents <= 0:
            raise ValueError(
                "maxevents must be greater than 0, got %d" % maxevents)
        evs = (_Event * maxevents)()
        deadline = time.monotonic() + ms / 1e3 if ms > 0 else None
        while True:
            n = _library().evpoll_wait(self._fd, evs, maxevents, ms)
            if n >= 0:
                return [(evs[i].data, evs[i].events) for i in range(n)]
            err = _oserror()
            if err.errno != _errno.EINTR:
                raise err
            # PEP 475: the signal's handler has run by now (between two
            # bytecodes); it did not raise, so retry with what is left.
            if deadline is not None:
                ms = max(0, math.ceil((deadline - time.monotonic()) * 1e3))


class EvpollSelector(selectors.EpollSelector):
    """selectors.EpollSelector on /dev/evpoll (see the module's help)."""
    _selector_cls = evpoll


def available():
    """True if an evpoll instance can be made here (module loaded)."""
    try:
        evpoll().close()
    except OSError:
        return False
    return True
