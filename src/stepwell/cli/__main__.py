"""``python -m stepwell.cli`` is the ``stepwell`` command."""

from stepwell.cli._main import main

main()
