"""``sealtrail verify``: the whole store checked again from its log (every signature, chain,
Merkle leaf and checkpoint, then every view derived again and compared), and the findings and
per-stream checks it shares with the offline verifier of a submission packet.
"""
