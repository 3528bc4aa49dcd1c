"""The call centre: every contact (phone, chat, web, SMS) before and besides the incident.

A 112 centre answers calls, most of which are not incidents (information, wrong numbers,
silent lines, pranks, requests forwarded to PMI).  This package keeps the ``calls`` record,
the telephony events that open and close it, callers' handset locations (AML), and the
figures a supervisor plans staff and reports to the ministry with.
"""
