import sys

from cogflow_desktop.cli import main

sys.exit(main())
