"""Build the C consumer: `python setup.py build_ext --inplace` (fastact installed).

The only thing fastact provides at build time is its header folder; nothing is linked.
"""
import fastact
from setuptools import Extension, setup

setup(
    name="fastact-rows-c",
    ext_modules=[Extension("fastact_rows_c", ["rows_module.c", "rows_loops.c"],
                           include_dirs=[fastact.get_include()])],
)
