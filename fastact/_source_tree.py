"""What `import fastact` does when it finds the source folder of a checkout that was never built.

`python -m fastact` and `python -m pytest`, typed in the checkout, put the current folder
first on sys.path, so `import fastact` finds the checkout's fastact/ (Python files only:
`pip install .` compiles the extensions into site-packages, not into the checkout).
Importing the package from there used to fail deep inside with "cannot import name
'kernels' from partially initialized module 'fastact' (most likely due to a circular
import)".

Design: fastact/__init__.py first asks `unbuilt()` whether the compiled `kernels`
extension sits beside it (one stat per extension suffix: no import cost to speak of).
If not, `hand_over()` looks for another fastact on sys.path (skipping this folder) that
has its extension, imports that one and puts it in sys.modules['fastact'].  Python's
import returns whatever sys.modules holds once the package's __init__ has run, so the
`import fastact` that started all this (and `python -m fastact`, which then finds
fastact.__main__ through the installed package's __path__) gets the installed package
and the source folder is never used.  With no built copy anywhere, the ImportError says
what is wrong and the commands that fix it, as NumPy and SciPy do.
"""
import importlib.machinery
import os
import sys

_EXTENSION = "kernels"


def _has_extension(folder):
    return any(os.path.exists(os.path.join(folder, _EXTENSION + suffix))
               for suffix in importlib.machinery.EXTENSION_SUFFIXES)


def unbuilt(init_file):
    """True when the package folder of `init_file` has no compiled extension beside it."""
    return not _has_extension(os.path.dirname(os.path.abspath(init_file)))


def _installed_spec(name, source_folder):
    """The spec of another `name` package on sys.path whose folder holds the extension."""
    here = os.path.realpath(source_folder)
    for entry in sys.path:
        spec = importlib.machinery.PathFinder.find_spec(name, [entry or os.getcwd()])
        if spec is None or not spec.submodule_search_locations:
            continue
        folder = list(spec.submodule_search_locations)[0]
        if os.path.realpath(folder) != here and _has_extension(folder):
            return spec
    return None


def hand_over(name, init_file):
    """Replace sys.modules[name] (this source folder) by an installed copy, or raise ImportError."""
    source_folder = os.path.dirname(os.path.abspath(init_file))
    spec = _installed_spec(name, source_folder)
    if spec is None:
        checkout = os.path.dirname(source_folder)
        raise ImportError(
            f"fastact is being imported from its source tree ({source_folder}), which has no compiled "
            f"extension (no {_EXTENSION}{importlib.machinery.EXTENSION_SUFFIXES[0]} beside __init__.py), "
            f"and no built fastact was found elsewhere on sys.path.  Either build it in place:\n"
            f"    cd {checkout} && python setup.py build_ext --inplace\n"
            f"or install it (pip install {checkout}); then `import fastact` in the checkout (as "
            f"`python -m fastact` and `python -m pytest` do) hands over to the installed copy.")
    for sub in [m for m in sys.modules if m.startswith(name + ".")]:
        del sys.modules[sub]         # fastact._source_tree, from this folder: the copy must use its own
    from importlib.util import module_from_spec
    module = module_from_spec(spec)
    previous = sys.modules.get(name)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        if previous is not None:
            sys.modules[name] = previous
        raise
    return module
