"""Where the domain meets storage: the eventsourcing application, its sealed event store,
SQLite and PostgreSQL, immutability triggers, keys, credentials and the view tables."""
