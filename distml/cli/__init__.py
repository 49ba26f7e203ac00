"""The ``distml`` command line (``distml.cli.main``) and its spark-submit entry file."""
