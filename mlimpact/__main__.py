"""``python -m mlimpact``."""

import sys

from mlimpact.cli import main

sys.exit(main())
