"""What the store reports to CONEP (Brazil's National Research Ethics Commission), from events:
the notification of a serious adverse event (``notification``, with what the record shows
around the event in ``case_facts``) and the partial or final progress report (``progress``),
each a pure function of folded subjects returning a document (``document``) worded in
Portuguese and English (``bilingual``). Every figure names the entries it came from, so a
reader can open them in the subject's history and audit trail.
"""
