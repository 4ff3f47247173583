"""CSV exports for editors (DESIGN.md, "CSV exports"): one module per file.

Every export is streamed from an iterator that reads the database in chunks, so the
server's memory stays flat and the number of queries grows with the chunks, never per row.
"""
