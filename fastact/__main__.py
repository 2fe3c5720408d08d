"""python -m fastact: the CPU's SIMD level, the kernel variant in use, and a speed and
accuracy table measured on the spot (see fastact/_selfcheck.py)."""
import sys

from ._selfcheck import main

sys.exit(main(sys.argv[1:]))
