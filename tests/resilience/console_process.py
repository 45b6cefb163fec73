"""A console kept open: ``sealtrail`` commands run one after another in one process of their
own, sent down a pipe.

The race tests change an account while its owner writes through the server, and the live verify
test runs ``sealtrail verify`` while a coordinator writes. Run as ``sealtrail ...`` processes,
each command waited a second or more for the console to start, and the writers wrote (and the
store grew, and verify read) all that time for nothing: what is tested is the command's commit,
or its reads, meeting writes in flight, not the start-up before it. Here each command is the
console's own (``api.console.main``: its options, the administrator's password check, the store
opened and closed around it), in a process apart from the server's workers and from the test,
started once, before the writers.

The protocol is one JSON line each way: ``{"args": [...], "env": {...}}`` in (``env``: variables
set for that command alone, as a shell's ``VAR=value sealtrail ...``), and ``{"exit": code,
"stdout": ..., "stderr": ...}`` out.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from types import TracebackType
from typing import IO, Any

from click.testing import CliRunner

from api.console import main as sealtrail


@dataclass(frozen=True)
class Done:
    """What one command did: its exit status and what it printed."""

    returncode: int
    stdout: str
    stderr: str


class ConsoleProcess:
    """The process, seen from the test: :meth:`run` sends one command and waits for it."""

    def __init__(self, environment: dict[str, str], cwd: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.resilience.console_process"],
            cwd=cwd,
            env=environment,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def run(self, *args: str, **env: str) -> Done:
        """``sealtrail ARGS`` with ``env`` set for it; what it did."""
        pipe_in, pipe_out = self._pipes()
        pipe_in.write(json.dumps({"args": list(args), "env": env}) + "\n")
        pipe_in.flush()
        line = pipe_out.readline()
        if not line:
            raise RuntimeError(f"the console process ended (exit {self.process.wait()})")
        answer = json.loads(line)
        return Done(int(answer["exit"]), str(answer["stdout"]), str(answer["stderr"]))

    def _pipes(self) -> tuple[IO[str], IO[str]]:
        assert self.process.stdin is not None and self.process.stdout is not None
        return self.process.stdin, self.process.stdout

    def close(self) -> None:
        """End the process: its input closed, it exits."""
        pipe_in, pipe_out = self._pipes()
        pipe_in.close()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        pipe_out.close()

    def ready(self) -> None:
        """Wait until the console has started (``sealtrail --version``)."""
        done = self.run("--version")
        assert done.returncode == 0, done.stderr

    def __enter__(self) -> ConsoleProcess:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()


def serve(commands: IO[str], answers: IO[str]) -> None:
    """Run each command read from ``commands``, answering on ``answers``, until end of input."""
    runner = CliRunner()
    for line in commands:
        asked: dict[str, Any] = json.loads(line)
        done = runner.invoke(sealtrail, asked["args"], env=asked["env"], prog_name="sealtrail")
        stderr = done.stderr
        if done.exception is not None and not isinstance(done.exception, SystemExit):
            # Not one of the console's one-line errors: say what broke, for the test's message.
            stderr += f"{type(done.exception).__name__}: {done.exception}"
        answer = {"exit": done.exit_code, "stdout": done.stdout, "stderr": stderr}
        answers.write(json.dumps(answer) + "\n")
        answers.flush()


if __name__ == "__main__":
    serve(sys.stdin, sys.stdout)
