"""``python -m groundsight``: the command line (same as the ``groundsight`` script)."""

from groundsight.agent.cli import main

if __name__ == "__main__":
    main()
