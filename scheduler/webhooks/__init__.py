"""Webhooks, pure: the event types and the messages' bodies (`events`), the Standard Webhooks
signature (`sign`), the retry schedule (`events.next_attempt`). No I/O, no clock."""
