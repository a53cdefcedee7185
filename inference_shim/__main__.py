import sys

from inference_shim.cli import main

sys.exit(main())
