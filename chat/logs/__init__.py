"""The conversation log: the SQL store (`chat.logs.store`), the reports over its rows (`chat.logs.reports`)
and their command line (`chat.logs.cli`, run as `python -m chat.logs`).

    from chat.logs import LogStore, export_logs
    store = LogStore.open_existing("var/conversations.db")
    export_logs(store, "sft", Path("logs.sft.jsonl"), only_positive=True)
"""

from chat.logs.cli import main
from chat.logs.reports import EXPORT_FORMATS, export_logs, log_stats, stats_markdown, stats_text
from chat.logs.store import LogStore, LogStoreError, LogStoreNotFoundError, redact

__all__ = [
    "EXPORT_FORMATS",
    "LogStore",
    "LogStoreError",
    "LogStoreNotFoundError",
    "export_logs",
    "log_stats",
    "main",
    "redact",
    "stats_markdown",
    "stats_text",
]
