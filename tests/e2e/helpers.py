# SPDX-License-Identifier: BSD-3-Clause
"""Helpers shared by the end-to-end tests (through conftest.py) and the
benchmarks in bench/ (which put this directory on sys.path): free ports and
waiting for a condition, with no dependency on pytest."""

import socket
import time
from pathlib import Path


def free_port(kind=socket.SOCK_DGRAM, host="127.0.0.1"):
    """A port the kernel has free on host (UDP by default; socket.SOCK_STREAM for TCP)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, kind) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def free_tcp_port():
    return free_port(socket.SOCK_STREAM)


def wait_for(pred, timeout=30, what=None, *, proc=None, step=0.1):
    """Poll pred() every `step` seconds until it returns a true value, and
    return that value.  After `timeout` seconds: with `what` (what is waited
    for, for the message) raise AssertionError, which fails the test;
    without, return False for the caller to assert with its own message, or
    to go on (a best-effort wait).  proc: a Popen to watch; fail as soon as
    it has exited (the tail of its stderr in the message), and kill it on a
    timeout."""
    end = time.monotonic() + timeout
    while True:
        res = pred()
        if res:
            return res
        if proc is not None and proc.poll() is not None:
            err = proc.stderr.read()[-3000:] if proc.stderr else ""
            raise AssertionError(f"exited {proc.returncode} before {what or 'the condition'}:\n{err}")
        if time.monotonic() >= end:
            break
        time.sleep(step)
    if proc is not None:
        proc.kill()
    if what is not None or proc is not None:
        raise AssertionError(f"gave up after {timeout} s waiting for {what or 'the condition'}")
    return False


def file_has(path, text):
    """Whether the file at path exists and contains text (a log line awaited)."""
    path = Path(path)
    return path.exists() and text in path.read_text(errors="replace")
