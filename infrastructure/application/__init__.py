"""The service layer (cosmicpython's ``service_layer/``): what the ways in ask of the store.

``records`` writes subjects' records (one, a batch, a signature with its ceremony) through one
guard sequence (``guards``) and answers each with one kind of signed receipt (``receipts``);
``administration`` opens and changes accounts; ``reads`` reads histories; ``access``
authenticates people and keeps their sessions. They take ``commands`` (frozen dataclasses)
and share one ``SealTrail`` application, which loads and saves aggregates.
``infrastructure/bootstrap.py`` builds them.
"""
