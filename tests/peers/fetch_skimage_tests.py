"""Fetch scikit-image's test_template.py of the installed release into the
folder test_skimage_template.py reads, checked against the pinned SHA-256.
Run once (CI runs it before tests/peers).

The wheel ships no tests; the release's source distribution on PyPI does.
It is downloaded from the package index (the one place CI machines reach),
checked against the SHA-256 the index publishes for it, and the one file
is read out of it."""

import hashlib
import io
import os
import re
import sys
import tarfile
import urllib.request

import skimage
import skimage_peer as harness

INDEX = "https://pypi.org/simple/scikit-image/"


def main():
    version = skimage.__version__
    if version not in harness.PINNED:
        sys.exit(f"scikit-image {version}: no pinned test_template.py (add its path and SHA-256 to PINNED)")
    path, sha = harness.PINNED[version]
    page = urllib.request.urlopen(INDEX, timeout=60).read().decode()
    links = re.findall(r'href="([^"]*scikit_image-' + re.escape(version) + r'\.tar\.gz#sha256=([0-9a-f]{64}))"', page)
    if not links:
        sys.exit(f"{INDEX}: no source distribution of scikit-image {version}")
    url, sdist_sha = links[0]
    data = urllib.request.urlopen(url.split("#")[0], timeout=300).read()
    if hashlib.sha256(data).hexdigest() != sdist_sha:
        sys.exit(f"{url}: the download does not match the index's SHA-256")
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        text = tar.extractfile(f"scikit_image-{version}/{path}").read()
    if hashlib.sha256(text).hexdigest() != sha:
        sys.exit(f"{path} of scikit-image {version}'s sdist: not the pinned file (SHA-256 differs)")
    out = harness.pinned_path(version)
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, "wb") as f:
        f.write(text)
    print(out)


if __name__ == "__main__":
    main()
