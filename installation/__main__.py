"""``python -m installation`` is the same as the ``myco`` command."""

import sys

from installation.cli import main

sys.exit(main())
