"""`python -m service` is the same as the `reviewmon` console script."""

from service.cli import main

main()
