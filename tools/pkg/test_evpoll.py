# SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
"""Tests of the evpoll Python package (python3-evpoll), in the VM.

    python3 test_evpoll.py [-v]

1. CPython's own selector tests (Debian's libpython3.11-testsuite,
   test/test_selectors.py), EpollSelectorTestCase with SELECTOR =
   evpoll.EvpollSelector: BaseSelectorTestCase, ScalableSelectorMixIn and
   the regular-file case.
2. evpoll.evpoll against select.epoll, call by call: every error is the
   same exception type with the same errno.
3. asyncio: the echo server of evpoll.echo on EvpollSelector.

Needs /dev/evpoll (the module loaded).  Prints a kselftest "# Totals:"
line for tests/run-tests.sh; exits 0 only if nothing failed.
"""

import asyncio
import os
import select
import selectors
import socket
import sys
import tempfile
import unittest
import unittest.mock

import evpoll

try:
    from test import test_selectors
except ImportError:                      # no libpython3.X-testsuite
    test_selectors = None


if test_selectors is not None:
    class CPythonSelectorTests(test_selectors.EpollSelectorTestCase):
        SELECTOR = evpoll.EvpollSelector

        def test_modify_unregister(self):
            # CPython's own test picks the class to patch by the
            # selector's name and skips any other: the same test, on
            # EvpollSelector's poller class.
            with unittest.mock.patch("evpoll.EvpollSelector._selector_cls") \
                    as m:
                m.return_value.modify = unittest.mock.Mock(
                    side_effect=ZeroDivisionError)
                s = self.SELECTOR()
                self.addCleanup(s.close)
                rd, wr = self.make_socketpair()
                s.register(rd, selectors.EVENT_READ)
                self.assertEqual(len(s._map), 1)
                with self.assertRaises(ZeroDivisionError):
                    s.modify(rd, selectors.EVENT_WRITE)
                self.assertEqual(len(s._map), 0)


def _outcome(call):
    try:
        return ("ok", call())
    except Exception as e:              # pylint: disable=broad-except
        return (type(e), getattr(e, "errno", None))


class SameAsEpoll(unittest.TestCase):
    """Each case runs the same calls on select.epoll and evpoll.evpoll."""

    def both(self, script):
        a = script(select.epoll)
        b = script(evpoll.evpoll)
        self.assertEqual(a, b)
        return b

    def test_register_twice(self):
        r, w = socket.socketpair()
        self.addCleanup(r.close)
        self.addCleanup(w.close)

        def script(cls):
            with cls() as ep:
                ep.register(r, select.EPOLLIN)
                return _outcome(lambda: ep.register(r, select.EPOLLIN))
        self.assertEqual(self.both(script), (FileExistsError, 17))

    def test_modify_unregister_unknown(self):
        r, w = socket.socketpair()
        self.addCleanup(r.close)
        self.addCleanup(w.close)

        def script(cls):
            with cls() as ep:
                return (_outcome(lambda: ep.modify(r, select.EPOLLOUT)),
                        _outcome(lambda: ep.unregister(r)))
        self.assertEqual(self.both(script)[0], (FileNotFoundError, 2))

    def test_bad_fds(self):
        fd, path = tempfile.mkstemp()
        os.unlink(path)
        self.addCleanup(os.close, fd)

        def script(cls):
            with cls() as ep:
                return (_outcome(lambda: ep.register(fd)),       # EPERM
                        _outcome(lambda: ep.register(-1)),
                        _outcome(lambda: ep.register(1 << 20)),  # EBADF
                        _outcome(lambda: ep.register("x")),
                        _outcome(lambda: ep.register(ep.fileno())))
        out = self.both(script)
        self.assertEqual(out[0], (PermissionError, 1))
        self.assertEqual(out[2], (OSError, 9))

    def test_closed(self):
        def script(cls):
            ep = cls()
            fd = ep.fileno()
            ep.close()
            ep.close()
            return (ep.closed, fd >= 0,
                    _outcome(ep.fileno), _outcome(lambda: ep.poll(0)),
                    _outcome(lambda: ep.register(0)),
                    _outcome(lambda: ep.unregister(0)))
        self.assertEqual(self.both(script)[2], (ValueError, None))

    def test_poll_arguments(self):
        r, w = socket.socketpair()
        self.addCleanup(r.close)
        self.addCleanup(w.close)
        w.send(b"x")

        def script(cls):
            with cls() as ep:
                ep.register(r, select.EPOLLIN)
                ep.register(w, select.EPOLLOUT | select.EPOLLET)
                return (sorted(ep.poll(0)), sorted(ep.poll(0)),
                        ep.poll(timeout=None, maxevents=1) != [],
                        _outcome(lambda: ep.poll(0, 0)),
                        _outcome(lambda: ep.poll(0, -2)),
                        _outcome(lambda: ep.poll(-5.5)) != (),
                        sorted(ep.poll(0.01, 5)))
        out = self.both(script)
        self.assertEqual(out[0], sorted([(r.fileno(), select.EPOLLIN),
                                         (w.fileno(), select.EPOLLOUT)]))
        self.assertEqual(out[3], (ValueError, None))

    def test_inheritable_and_fromfd(self):
        def script(cls):
            ep = cls()
            inh = os.get_inheritable(ep.fileno())
            fd = os.dup(ep.fileno())
            ep.close()
            ep2 = cls.fromfd(fd)
            ok = ep2.fileno() == fd and ep2.poll(0) == []
            ep2.close()
            return (inh, ok)
        self.assertEqual(self.both(script), (False, True))

    def test_constructor_arguments(self):
        def script(cls):
            return (_outcome(lambda: cls(-2)), _outcome(lambda: cls(0)),
                    _outcome(lambda: cls(flags=1)),
                    _outcome(lambda: cls(5).close()))
        self.assertEqual(self.both(script)[0], (ValueError, None))

    def test_selector_is_on_dev_evpoll(self):
        with evpoll.EvpollSelector() as s:
            self.assertEqual(os.readlink("/proc/self/fd/%d" % s.fileno()),
                             "/dev/evpoll")


class AsyncioOnEvpoll(unittest.TestCase):
    def test_echo(self):
        from evpoll import echo
        self.assertEqual(echo.main(["20", "10"]), 0)

    def test_loop_uses_evpoll(self):
        loop = asyncio.SelectorEventLoop(evpoll.EvpollSelector())
        self.addCleanup(loop.close)
        r, w = socket.socketpair()
        self.addCleanup(r.close)
        self.addCleanup(w.close)
        got = loop.create_future()
        loop.add_reader(r, lambda: got.set_result(r.recv(10)))
        loop.call_soon(w.send, b"ping")
        self.assertEqual(loop.run_until_complete(
            asyncio.wait_for(got, 10)), b"ping")
        loop.remove_reader(r)


def main():
    loader = unittest.TestLoader()
    suite = unittest.TestSuite()
    if test_selectors is None:
        print("test_evpoll: no test.test_selectors "
              "(install libpython3.%d-testsuite)" % sys.version_info[1])
        print("# Totals: pass:0 fail:1 xfail:0 xpass:0 skip:0 error:0")
        return 1
    for case in (CPythonSelectorTests, SameAsEpoll, AsyncioOnEvpoll):
        suite.addTests(loader.loadTestsFromTestCase(case))
    verbosity = 2 if "-v" in sys.argv else 1
    res = unittest.TextTestRunner(verbosity=verbosity,
                                  stream=sys.stdout).run(suite)
    failed = len(res.failures) + len(res.errors) + \
        len(res.unexpectedSuccesses)
    skipped = len(res.skipped)
    for test, why in res.skipped:
        print("skip: %s: %s" % (test.id(), why))
    print("# Totals: pass:%d fail:%d xfail:0 xpass:0 skip:%d error:0"
          % (res.testsRun - failed - skipped, failed, skipped))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
