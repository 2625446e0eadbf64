"""Files of the flagship review (``srma demo``); their sources and licences: README.md."""
