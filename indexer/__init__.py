"""Index the EU-China regional policy archive and search it.

The package never imports Flask: the web layer depends on it, not the reverse.
"""
