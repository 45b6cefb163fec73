"""What the API and the console read: the view tables that hold the projections, the runner
that follows the log into them (each event applied once), the study-level reports computed
from them, and the replay of a subject as it stood at a past time or log position.
"""
