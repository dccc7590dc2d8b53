"""The ``fork`` executor: a zygote process that forks one child per task.

The zygote is forked from the scheduler process before the run opens any
thread, database connection or file, so it holds just the imported flow
module and stepwell. Each task is a fork of the zygote: a separate process
(a crash, a segfault or ``os._exit`` fails only that task) that starts in
about a millisecond, with the flow already imported.

Protocol (a Unix socket pair, length-prefixed pickles): the scheduler sends
``("init", RunInfo)`` once, then ``("launch", TaskSpec)`` with the task's
three pipe write-ends attached; the zygote answers
``("started", task_id, attempt, pid)`` and ``("exited", task_id, attempt,
exit_code)``. When the scheduler goes away (end of stream) the zygote kills
its children and exits.
"""

from __future__ import annotations

import contextlib
import gc
import os
import selectors
import signal
import socket
import sys

from stepwell.exceptions import ExecutorError
from stepwell.runtime._channel import MessageReader, recv_message, send_message
from stepwell.runtime._context import WorkerContext
from stepwell.runtime._executor import (
    Executor,
    ExecutorContext,
    TaskHandle,
    new_pipes,
    signal_group,
)
from stepwell.runtime._spec import TaskSpec
from stepwell.runtime._worker import preload_task_modules, run_in_child


class ForkExecutor(Executor):
    """Tasks are forks of a zygote that imported the flow once."""

    name = "fork"

    def __init__(self) -> None:
        self._sock: socket.socket | None = None
        self._zygote_pid: int | None = None
        self._handles: dict[tuple[str, int], TaskHandle] = {}
        self._reader = MessageReader()
        self._ctx: ExecutorContext | None = None
        self._initialized = False

    def start(self, ctx: ExecutorContext) -> None:
        self._ctx = ctx
        self._sock = self._spawn(ctx)
        ctx.add_reader(self._sock.fileno(), self._on_message)

    def _spawn(self, ctx: ExecutorContext) -> socket.socket:
        """Start the zygote; the scheduler's end of its socket."""
        # imported once here, not once per forked task
        preload_task_modules(ctx.info.metadata, ctx.info.datastore_url)
        parent_sock, zygote_sock = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:  # the zygote
            parent_sock.close()
            code = 0
            try:
                zygote_main(zygote_sock, ctx.worker)
            except BaseException:
                code = 1
            finally:
                os._exit(code)
        zygote_sock.close()
        self._zygote_pid = pid
        return parent_sock

    def _wait_zygote(self) -> None:
        if self._zygote_pid is not None:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(self._zygote_pid, 0)
            self._zygote_pid = None

    def _zygote_died(self) -> ExecutorError:
        return ExecutorError(
            "The fork executor's zygote process died unexpectedly; the run was stopped. "
            "Resume it, or run with --executor subprocess."
        )

    def launch(self, spec: TaskSpec) -> TaskHandle:
        assert self._sock is not None and self._ctx is not None
        if not self._initialized:  # the run's facts exist only after the zygote forked
            try:
                send_message(self._sock, ("init", self._ctx.info))
            except (BrokenPipeError, ConnectionResetError):
                raise self._zygote_died() from None
            self._initialized = True
        (out_r, out_w), (err_r, err_w), (res_r, res_w) = new_pipes()
        handle = TaskHandle(spec, out_r, err_r, res_r, open_fds={out_r, err_r, res_r})
        self._handles[spec.key] = handle
        try:
            send_message(self._sock, ("launch", spec), fds=(out_w, err_w, res_w))
        except (BrokenPipeError, ConnectionResetError):
            raise self._zygote_died() from None
        finally:
            for fd in (out_w, err_w, res_w):
                os.close(fd)
        return handle

    def terminate(self, handle: TaskHandle, sig: int = signal.SIGTERM) -> None:
        signal_group(handle.pid, sig)

    def close(self) -> None:
        if self._sock is not None:
            assert self._ctx is not None
            self._ctx.remove_reader(self._sock.fileno())
            self._sock.close()
            self._sock = None
        self._wait_zygote()

    def _on_message(self) -> None:
        assert self._sock is not None and self._ctx is not None
        try:
            data = self._sock.recv(1 << 16)
        except ConnectionResetError:  # the zygote died with messages unread
            data = b""
        if not data:
            raise self._zygote_died()
        for message in self._reader.feed(data):
            kind, task_id, attempt, value = message
            handle = self._handles.get((task_id, attempt))
            if handle is None:
                continue
            if kind == "started":
                handle.pid = value
            elif kind == "exited":
                del self._handles[(task_id, attempt)]
                self._ctx.on_exit(handle, value)


# -- the zygote process ---------------------------------------------------------------
def zygote_main(sock: socket.socket, worker: WorkerContext) -> None:
    """The zygote's loop: fork a task per launch message, report starts and exits."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the scheduler's to handle
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    message = recv_message(sock)
    if message is None:
        return
    worker.info = message[0][1]
    # Everything imported so far is shared with every task; keep the garbage
    # collector from walking (and so copying) those pages in each fork.
    gc.collect()
    gc.freeze()
    children: dict[int, tuple[str, int]] = {}
    selector = selectors.DefaultSelector()
    selector.register(sock, selectors.EVENT_READ)
    selector.register(wake_r, selectors.EVENT_READ)
    while True:
        for key, _ in selector.select():
            if key.fileobj is sock:
                if not _serve(sock, worker, children, (wake_r, wake_w)):
                    for pid in children:
                        signal_group(pid, signal.SIGKILL)
                    return
            else:
                os.read(wake_r, 4096)
                _reap(sock, children)


def _serve(
    sock: socket.socket,
    worker: WorkerContext,
    children: dict[int, tuple[str, int]],
    wake: tuple[int, int],
) -> bool:
    received = recv_message(sock, max_fds=3)
    if received is None:
        return False
    message, fds = received
    spec: TaskSpec = message[1]
    pid = os.fork()
    if pid == 0:
        sock.close()
        signal.set_wakeup_fd(-1)
        for fd in wake:
            os.close(fd)
        run_in_child(spec, worker, *fds)  # never returns
    for fd in fds:
        os.close(fd)
    children[pid] = spec.key
    send_message(sock, ("started", spec.task_id, spec.attempt, pid))
    return True


def _reap(sock: socket.socket, children: dict[int, tuple[str, int]]) -> None:
    while children:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        task = children.pop(pid, None)
        if task is not None:
            send_message(sock, ("exited", task[0], task[1], os.waitstatus_to_exitcode(status)))
