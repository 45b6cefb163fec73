"""Views derived from the event log only. Pure functions of events; the tables that hold
their output are infrastructure's business (``infrastructure.views.tables``)."""
