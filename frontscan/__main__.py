"""`python -m frontscan`: the same command line as the `frontscan` script."""

from frontscan.cli import main

main()
