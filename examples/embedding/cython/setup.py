"""Build the Cython consumer: `python setup.py build_ext --inplace` (fastact installed).

No include_dirs and no libraries: `from fastact.kernels cimport ...` is resolved
from fastact/kernels.pxd on the import path, the functions at import time.
"""
from Cython.Build import cythonize
from setuptools import Extension, setup

setup(
    name="fastact-rows-cy",
    ext_modules=cythonize([Extension("fastact_rows_cy", ["fastact_rows_cy.pyx"])]),
)
