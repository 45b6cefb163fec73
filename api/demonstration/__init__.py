"""The demonstration cohort of NCT01297972: nine synthetic subjects, loaded by ``sealtrail demo``.

The subjects are planned as data (``cohort.toml``, read by :mod:`api.demonstration.plans`); the
records a site would sign are made from the plans by plain arithmetic
(:mod:`api.demonstration.records`, with the treatment, the counts and the safety events in a
module each); :mod:`api.demonstration.loading` signs them as synthetic site staff and submits them
through the same write path a site's batch takes (:mod:`api.schemas`), as the synthetic staff of
:mod:`api.demonstration.staff`; :mod:`api.demonstration.closing` then closes site RP's data (source
verification, casebook signatures, locks, an audit-trail review, the investigator's copy). Neither
way in owns it:
the console's ``demo`` command runs it, and the tests and benchmarks use its records.
"""
