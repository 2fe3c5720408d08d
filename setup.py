"""Build fastact: C kernels compiled once per ISA, a Cython C-API module, a Cython wrapper.

- src_c/isa/fa_isa_<isa>.c is compiled with that ISA's flags only (ISA_FLAGS) and linked
  into fastact.kernels with the baseline-compiled dispatcher; the best variant is chosen
  at import from cpuid + XCR0.  The shipped build never uses -march=native.
- fastact/_registry.py first writes the element-wise lines of src_c/fastact_functions.h and
  fastact/_generated.py (tools/gen_wrappers.py; files already current are left untouched);
  fastact/kernels.pxd/.pyx are generated from src_c/fastact_functions.h
  (tools/gen_cython_api.py); the public headers are copied to fastact/include/.  An in-place
  build (build_ext --inplace) then writes the type stubs fastact/__init__.pyi from the built
  package, so adding a function is a registry row, its kernel, and a build.
"""
import os
import platform
import shutil
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

ROOT = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import gen_cython_api  # noqa: E402
import gen_wrappers  # noqa: E402

X86 = platform.machine().lower() in ("x86_64", "amd64", "i386", "i686", "x86")
ISA_FLAGS = {"scalar": []}
if X86:
    ISA_FLAGS.update({
        "sse2": ["-msse2"],
        "avx2": ["-mavx2", "-mfma", "-mf16c"],
        "avx512": ["-mavx512f", "-mavx2", "-mfma", "-mf16c"],
    })
# -ffp-contract=off: FMAs only where a kernel writes them, so error-free transforms
# (two-sum, two-product) stay exact and every compiler gives the same bits.
C_FLAGS = ["-O3", "-std=gnu11", "-ffp-contract=off", "-fno-math-errno", "-fvisibility=hidden",
           "-Wall", "-Wno-unused-function"]
# No debug information in the shipped build (Python's CFLAGS add -g): the kernels' objects
# shrink from ~60 MB to ~3.5 MB and compile ~1.8x faster.  Kept for a sanitizer build (its
# reports then name source lines) or with FASTACT_DEBUG_INFO=1.
SANITIZED = "-fsanitize" in os.environ.get("CFLAGS", "")
if not SANITIZED and not os.environ.get("FASTACT_DEBUG_INFO"):
    C_FLAGS.append("-g0")
# A sanitizer build (CI's ASan + UBSan job) compiles at -O1, as AddressSanitizer's documentation
# advises: the instrumented -O3 build of the AVX-512 unit alone took 344 s (2.8 GB), at -O1 130 s
# (2026-12-07, Zen 4 VM).  The SIMD kernels are intrinsics, so their vector loops are the same
# instructions; the scalar variant is not auto-vectorised and inlining differs from -O3.
# UBSan's checks are inserted at any level.
if SANITIZED:
    C_FLAGS[C_FLAGS.index("-O3")] = "-O1"
PUBLIC_HEADERS = ("fastact.h", "fastact_kinds.h", "fastact_functions.h")


def prepare_sources():
    for path in gen_wrappers.write_registry_outputs():
        print(f"wrote {os.path.relpath(path, ROOT)} from fastact/_registry.py")
    gen_cython_api.generate(ROOT)
    inc = os.path.join(ROOT, "fastact", "include")
    os.makedirs(inc, exist_ok=True)
    for h in PUBLIC_HEADERS:
        shutil.copyfile(os.path.join(ROOT, "src_c", h), os.path.join(inc, h))


class BuildExt(build_ext):
    """Compile the per-ISA kernel units with their own flags, then link them in; in place,
    write the type stubs from the package just built."""

    def run(self):
        super().run()
        if self.inplace and gen_wrappers.write_stubs_in_new_interpreter():
            print("warning: fastact/__init__.pyi not written (python tools/gen_wrappers.py)", file=sys.stderr)

    def _compiler_is_gcc(self):
        """Whether the C compiler is GCC (-fvect-cost-model is a GCC option: Clang stops on it)."""
        import subprocess
        cmd = [a for a in getattr(self.compiler, "compiler_so", None) or [] if not a.startswith("-")][:2]
        try:
            out = subprocess.run(cmd + ["--version"], capture_output=True, text=True, timeout=30).stdout
        except (OSError, subprocess.SubprocessError):
            return False
        return "clang" not in out.lower() and ("gcc" in out.lower() or "free software foundation" in out.lower())

    def build_extension(self, ext):
        if ext.name == "fastact._core" and not self._compiler_is_gcc():
            ext.extra_compile_args = [a for a in ext.extra_compile_args if not a.startswith("-fvect-cost-model")]
        if ext.name == "fastact.kernels":
            # the ISA units are the bulk of the build: compiled side by side, one per core
            from concurrent.futures import ThreadPoolExecutor

            def compile_unit(isa):
                src = os.path.join("src_c", "isa", f"fa_isa_{isa}.c")
                return self.compiler.compile(
                    [src], output_dir=self.build_temp, include_dirs=ext.include_dirs,
                    extra_postargs=C_FLAGS + ISA_FLAGS[isa], depends=ext.depends)

            os.makedirs(os.path.join(self.build_temp, "src_c", "isa"), exist_ok=True)
            with ThreadPoolExecutor(max_workers=max(1, min(len(ISA_FLAGS), os.cpu_count() or 1))) as pool:
                ext.extra_objects = [o for objs in pool.map(compile_unit, ISA_FLAGS) for o in objs]
        super().build_extension(ext)


def extensions():
    import numpy
    from Cython.Build import cythonize

    depends = [os.path.join(dp, f) for dp, _, fs in os.walk("src_c") for f in fs if f.endswith(".h")]
    kernels = Extension(
        "fastact.kernels", ["fastact/kernels.pyx", "src_c/fa_dispatch.c", "src_c/fa_threads.c", "src_c/fa_capi.c",
                            "src_c/fa_chunk.c", "src_c/fa_slice_blocks.c"],
        include_dirs=["src_c"], extra_compile_args=C_FLAGS, depends=depends,
        # fastact.h: plain declarations here; consumers get calls through the capsule table
        define_macros=[("FASTACT_BUILDING_LIBRARY", None)])
    core = Extension("fastact._core", ["fastact/_core.pyx"], include_dirs=[numpy.get_include(), "src_c"],
                     define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
                     # (GCC: vectorizes _scale_slices; dropped for other compilers, BuildExt)
                     extra_compile_args=["-O2", "-fvect-cost-model=cheap"])
    return cythonize([kernels, core], compiler_directives={"language_level": 3},
                     include_path=["fastact"])


prepare_sources()
setup(ext_modules=extensions(), cmdclass={"build_ext": BuildExt})
