"""``python -m app.cli_main``: kept for scripts and tests written before ``python -m app.cli`` existed."""

from app.cli import main

if __name__ == "__main__":
    main()
