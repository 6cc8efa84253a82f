"""``python -m fersk.cli``: the ``fersk`` command."""

from . import main

raise SystemExit(main())
