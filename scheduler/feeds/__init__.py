"""Occurrences as iCalendar: all-day events that Outlook, Google and Thunderbird accept."""
