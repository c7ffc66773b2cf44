"""Alerts: tell people when something needs them, once, through their own channels.
May import the shared modules, service.reading and service.trends (for the reports).

An outbox (the `alerts` table), written and read in two separate steps:

    enqueue.py   in the transaction of the event itself (a stored page, a failed poll),
                 one row per subscribing channel, insert-if-absent on (channel, key):
                 an event is recorded once per channel, however often it is seen again
    reports.py   the daily and weekly reports, enqueued the same way when they are due
    deliver.py   claims due rows (a lease, so two processes never send the same row),
                 sends them through apprise, records sent / retry later / failed

Channels are apprise URLs (mailto://, slack://, json://, ...) read from the environment
variable the config names; they hold passwords and tokens, so they are never logged or
stored. Everything a reviewer wrote is shown as plain text, and HTML-escaped in HTML.
"""
