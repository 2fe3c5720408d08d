"""An empty directory outside the source tree, for the child interpreters the tests start.

The shared temporary directory is no good as their working directory: a file there named like
a module the interpreter imports on its way (a stray /tmp/nt.py, once) is imported instead and
breaks the child.  Removed when the test process exits."""
import atexit
import shutil
import tempfile

CLEAN_CWD = tempfile.mkdtemp(prefix="fastact-tests-cwd-")
atexit.register(shutil.rmtree, CLEAN_CWD, True)
