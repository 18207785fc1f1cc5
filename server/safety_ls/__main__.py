import sys

from safety_ls.cli.main import main

sys.exit(main())
