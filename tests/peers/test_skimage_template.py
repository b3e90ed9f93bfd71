"""scikit-image 0.26's own ``tests/skimage/feature/test_template.py``, run
against sigcorr's ``match_template`` (a volume where skimage reads 3-D).

The wheel ships no tests, and their code is not copied into this
repository: ``python tests/peers/fetch_skimage_tests.py`` takes the file
out of the installed release's source distribution on PyPI once (its
SHA-256 is pinned in skimage_peer.py) into ``~/.cache/sigcorr/peers/`` (or ``$SIGCORR_PEER_TESTS``),
and CI runs that before this step.  Without the file these tests are
skipped, with that command as the reason; under CI (``$CI`` set) they fail.
"""

import importlib.util
import os

import pytest
import skimage
import skimage_peer


def _load():
    path = skimage_peer.pinned_path()
    if not os.path.exists(path):
        why = (f"scikit-image {skimage.__version__}'s test_template.py is not at {path}: "
               "run python tests/peers/fetch_skimage_tests.py")
        if os.environ.get("CI"):
            raise FileNotFoundError(why)
        pytest.skip(why, allow_module_level=True)
    spec = importlib.util.spec_from_file_location("_skimage_test_template", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    mod.match_template = skimage_peer.match_template
    return {name: getattr(mod, name) for name in dir(mod) if name.startswith("test_")}


globals().update(_load())
