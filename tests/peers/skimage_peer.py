"""Where scikit-image's pinned test file lives, and the wrapper it runs against."""

import os

import skimage

import sigcorr

#: the file test_skimage_template.py runs, per scikit-image release: (path in the repository, SHA-256)
PINNED = {
    "0.26.0": ("tests/skimage/feature/test_template.py",
               "7122b339cfa8e97da88f262a2dedc8d4b0d22dc69af846a05697cbb76d385486"),
}


def peer_tests_dir():
    return os.environ.get("SIGCORR_PEER_TESTS") or os.path.join(os.path.expanduser("~"), ".cache", "sigcorr", "peers")


def pinned_path(version=skimage.__version__):
    return os.path.join(peer_tests_dir(), f"scikit-image-{version}", "test_template.py")


def match_template(image, template, pad_input=False, mode="constant", constant_values=0):
    """skimage.feature.match_template, as a sigcorr user writes it (skimage
    reads a 3-D image as a volume)."""
    return sigcorr.match_template(image, template, pad_input=pad_input, mode=mode, constant_values=constant_values,
                                  channel_axis=None)
