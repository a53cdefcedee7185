import sys

from es_rerank.cli import main

sys.exit(main())
