"""fastact's thread pool seen by threadpoolctl: `threadpool_info()` lists it and
`threadpool_limits(1)` caps it, as for BLAS and OpenMP (scikit-learn, joblib and Dask
workers use this to avoid oversubscription).

threadpoolctl stays optional and is never imported by `import fastact`:
- threadpoolctl already imported when fastact is: the controller is registered at once;
- fastact imported first: a finder at the head of sys.meta_path waits for the import of
  threadpoolctl, lets the usual finders load it, registers the controller right after its
  module has run, and removes itself.  It only compares a module name per import until then.
Either way `threadpoolctl.threadpool_info()` lists {"user_api": "fastact", ...}.

threadpoolctl finds controllers among the shared libraries loaded in the process, by file
name prefix ("kernels", for fastact/kernels.<abi>.so) and a symbol that only fastact's
library exports (src_c/fa_threads.c: fastact_threadpool_get/set_num_threads); its calls
then go straight to those C functions through ctypes, as for OpenBLAS.  Needs a threadpoolctl
with `register` and `LibController` (tested with 3.8); an older one is left alone.
"""
import sys

_MODULE = "threadpoolctl"


def _controller(threadpoolctl):
    class FastactController(threadpoolctl.LibController):
        """fastact's worker pool (fastact.set_num_threads / get_num_threads)."""
        user_api = "fastact"
        internal_api = "fastact"
        filename_prefixes = ("kernels",)
        check_symbols = ("fastact_threadpool_set_num_threads",)

        def get_num_threads(self):
            get = getattr(self.dynlib, "fastact_threadpool_get_num_threads", None)
            return None if get is None else get()

        def set_num_threads(self, num_threads):
            return self.dynlib.fastact_threadpool_set_num_threads(int(num_threads))

        def get_version(self):
            from ._api import __version__
            return __version__

    return FastactController


def register(threadpoolctl):
    """Register fastact's controller with this threadpoolctl module (once)."""
    if getattr(threadpoolctl, "_fastact_registered", False):
        return True
    if not (hasattr(threadpoolctl, "register") and hasattr(threadpoolctl, "LibController")):
        return False
    threadpoolctl.register(_controller(threadpoolctl))
    threadpoolctl._fastact_registered = True
    return True


class _RegisteringLoader:
    """Runs the real loader, then registers the controller in the fresh module."""

    def __init__(self, loader):
        self._loader = loader

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        self._loader.exec_module(module)
        register(module)

    def __getattr__(self, name):            # get_source, get_filename, ... for inspect and friends
        return getattr(self._loader, name)


class _WaitForThreadpoolctl:
    """A sys.meta_path finder that only reacts to `import threadpoolctl` (see the module doc)."""

    @classmethod
    def find_spec(cls, name, path=None, target=None):
        if name != _MODULE:
            return None
        uninstall()
        for finder in sys.meta_path:
            find = getattr(finder, "find_spec", None)
            spec = find(name, path, target) if find is not None else None
            if spec is not None:
                if spec.loader is not None and hasattr(spec.loader, "exec_module"):
                    spec.loader = _RegisteringLoader(spec.loader)
                return spec
        return None


def install():
    """Register now if threadpoolctl is loaded, else wait for its import."""
    module = sys.modules.get(_MODULE)
    if module is not None:
        register(module)
    elif _WaitForThreadpoolctl not in sys.meta_path:
        sys.meta_path.insert(0, _WaitForThreadpoolctl)


def uninstall():
    try:
        sys.meta_path.remove(_WaitForThreadpoolctl)
    except ValueError:
        pass
