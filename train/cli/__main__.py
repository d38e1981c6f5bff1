"""``python -m train.cli``: the ``mm-env`` command."""

from train.cli.app import main

raise SystemExit(main())
