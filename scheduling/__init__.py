"""The yearly plan turned into sessions, reminders, broadcast pacing and iCalendar building.

Empty in the foundation release: the sessions and calendar-feed issues fill it.
"""
