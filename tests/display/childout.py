"""What the display tests read from the host programs they start."""

import re
import threading
import time

import vmkit


def fnv1a(data):
    h = 14695981039346656037
    for b in data:
        h = ((h ^ b) * 1099511628211) & 0xFFFFFFFFFFFFFFFF
    return h


class Lines:
    """A child's standard output, line by line, read in a thread."""

    def __init__(self, proc, name):
        self.proc, self.name, self.lines, self.cv = proc, name, [], threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            with self.cv:
                self.lines.append(line.rstrip("\n"))
                self.cv.notify_all()

    def wait(self, pattern, timeout=60):
        """The first line matching @pattern (a regex), waiting for it."""
        deadline = time.time() + timeout
        with self.cv:
            while True:
                for line in self.lines:
                    m = re.search(pattern, line)
                    if m:
                        return m
                left = deadline - time.time()
                if left <= 0 or (self.proc.poll() is not None and not self.cv.wait(0.2)):
                    vmkit._fail("no line %r in %s's output: %r (exit %r, stderr %s)"
                                % (pattern, self.name, self.lines[-20:], self.proc.poll(),
                                   self.proc.stderr.read() if self.proc.poll() is not None
                                   else "(running)"))
                self.cv.wait(min(left, 0.5))

    def last(self, pattern):
        """The last line matching @pattern so far, or None."""
        with self.cv:
            found = [m for m in (re.search(pattern, l) for l in self.lines) if m]
        return found[-1] if found else None

    def last_point(self):
        """The last timeline point the program's -vv lines ("NAME: point N") named, or 0."""
        with self.cv:
            pts = [int(m.group(1)) for m in (re.match(re.escape(self.name) + r": point (\d+)", l)
                                             for l in self.lines) if m]
        return pts[-1] if pts else 0
