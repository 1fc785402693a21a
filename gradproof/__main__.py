import sys

from gradproof.cli import main

sys.exit(main())
