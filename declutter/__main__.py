"""``python -m declutter``: the command line."""

from declutter.cli import main

main()
