"""The integer codes kernels switch on, named once.

Kernels receive a code (an ``int64``) instead of a string, and compare it
with these names; numba reads module-level integers as compile-time
constants, so a named comparison costs what a literal one does.  The Python
callers translate the public names with the dictionaries below.
"""

# match_template's methods (OpenCV's TM_* order)
SQDIFF = 0
SQDIFF_NORMED = 1
CCORR = 2
CCORR_NORMED = 3
CCOEFF = 4
CCOEFF_NORMED = 5

MATCH_METHOD_CODES = {
    "sqdiff": SQDIFF,
    "sqdiff_normed": SQDIFF_NORMED,
    "ccorr": CCORR,
    "ccorr_normed": CCORR_NORMED,
    "ccoeff": CCOEFF,
    "ccoeff_normed": CCOEFF_NORMED,
}
