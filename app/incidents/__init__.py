"""The home of a 112 call: its lifecycle, who may see it, and the one read model everyone reads.

- ``lifecycle``: statuses and transitions, and the OPEN / AWAITING / NOT COUNTED rules.
- ``viewer``: who is reading (role, agency, user) and what that lets them see.
- ``facts``: the ``incident_facts`` read model and the row-level-security visibility
  installed in the database (``sql/facts.sql``), and how a session is told its viewer.
"""
