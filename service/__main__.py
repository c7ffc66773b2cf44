"""`python -m service` is the same as the `reviewmon` console script."""

from service.cli import main

if __name__ == "__main__":
    main()
