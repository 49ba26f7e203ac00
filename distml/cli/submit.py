"""The file spark-submit runs: ``spark-submit [spark options] "$(distml entry)" train ...``.

It is ``distml``'s command line; under spark-submit the commands use spark-submit's session
(master, resources, confs) instead of starting a local one.
"""
import sys

from distml.cli.main import main

if __name__ == "__main__":
    sys.exit(main())
