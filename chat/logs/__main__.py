"""`python -m chat.logs`: export, summarise or purge the conversation log (the flags are in `chat.logs.cli`)."""

import sys

from chat.logs.cli import main

sys.exit(main())
