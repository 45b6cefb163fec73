"""The validation pack's operational qualification (OQ): requirements as data, the tests that
prove each, and the traceability report generated from a run of them.

- :mod:`.requirements`: ``docs/validation/requirements.toml``, loaded and checked whole.
- :mod:`.markers`: which tests prove which requirement, read from the tests' source.
- :mod:`.runs`: a run of the marked tests, from pytest's JUnit XML (or the run itself).
- :mod:`.changes`: the requirements the CHANGELOG's unreleased entries name.
- :mod:`.environment`: the commit, every installed distribution and the machine.
- :mod:`.matrix`: clause -> requirement -> tests -> result.
- :mod:`.report`: the matrix as HTML and as a signed PDF.

Nothing here opens the store: the report is about the software, not the trial's data.
"""
