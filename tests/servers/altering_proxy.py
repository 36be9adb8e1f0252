"""A server with one output changed, for replay tests: runs COMMAND and relays its stdio line by
line, replacing the text OLD with NEW in every line the server writes.

Usage: altering_proxy.py OLD NEW -- COMMAND [ARGS...]
"""

import os
import signal
import subprocess
import sys
import threading

old, new = sys.argv[1], sys.argv[2]
command = sys.argv[sys.argv.index("--") + 1:]
child = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=0)
signal.signal(signal.SIGTERM, lambda *_: child.terminate())


def to_child():
    try:
        for line in sys.stdin.buffer:
            child.stdin.write(line)
            child.stdin.flush()
        child.stdin.close()
    except OSError:
        pass  # the child is gone


threading.Thread(target=to_child, daemon=True).start()
for line in child.stdout:
    sys.stdout.buffer.write(line.replace(old.encode(), new.encode()))
    sys.stdout.buffer.flush()
code = child.wait()
sys.stdout.flush()
# os._exit: a plain exit would abort while the thread above is still blocked reading our stdin.
os._exit(code if code >= 0 else 128 - code)  # killed by signal N: 128 + N, as a shell says
