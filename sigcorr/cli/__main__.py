"""``python -m sigcorr.cli``: the ``sigcorr`` command."""

from . import main

if __name__ == "__main__":
    raise SystemExit(main())
