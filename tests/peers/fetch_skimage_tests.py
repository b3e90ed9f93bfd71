"""Download scikit-image's test_template.py of the installed release (its
tag on GitHub) into the folder test_skimage_template.py reads, and check it
against the pinned SHA-256.  Run once (CI runs it before tests/peers)."""

import hashlib
import os
import sys
import urllib.request

import skimage
import skimage_peer as harness


def main():
    version = skimage.__version__
    if version not in harness.PINNED:
        sys.exit(f"scikit-image {version}: no pinned test_template.py (add its path and SHA-256 to PINNED)")
    path, sha = harness.PINNED[version]
    url = f"https://raw.githubusercontent.com/scikit-image/scikit-image/v{version}/{path}"
    text = urllib.request.urlopen(url, timeout=60).read()
    if hashlib.sha256(text).hexdigest() != sha:
        sys.exit(f"{url}: not the pinned file (SHA-256 differs)")
    out = harness.pinned_path(version)
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, "wb") as f:
        f.write(text)
    print(out)


if __name__ == "__main__":
    main()
