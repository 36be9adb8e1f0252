"""A server with one output changed, for replay tests: runs COMMAND and relays its stdio line by
line, replacing the text OLD with NEW in every line the server writes.

Usage: altering_proxy.py OLD NEW -- COMMAND [ARGS...]
"""

import signal
import subprocess
import sys
import threading

old, new = sys.argv[1], sys.argv[2]
command = sys.argv[sys.argv.index("--") + 1:]
child = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=0)
signal.signal(signal.SIGTERM, lambda *_: child.terminate())


def to_child():
    for line in sys.stdin.buffer:
        child.stdin.write(line)
        child.stdin.flush()
    child.stdin.close()


threading.Thread(target=to_child, daemon=True).start()
for line in child.stdout:
    sys.stdout.buffer.write(line.replace(old.encode(), new.encode()))
    sys.stdout.buffer.flush()
sys.exit(child.wait())
