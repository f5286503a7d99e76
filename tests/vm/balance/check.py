"""Host-side checks of the balance test from the hub capture: 3000
connections answered, no reset, none answered by two nodes."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import hubcheck  # noqa: E402

hubcheck.run(sys.argv[1], 3000)
