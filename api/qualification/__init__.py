"""The performance qualification (PQ): a scripted scenario run on a served deployment with
synthetic data only (``sealtrail validation pq``, docs/validation/performance-qualification.md).
"""
