"""Reading a review: is it negative, and why (VADER and the stars, the text model, the
review lexicon, complaint cues, idioms, language, escalation and triage marks).

Pure: no database, no HTTP. May import only the shared modules at the top of service/.
"""
