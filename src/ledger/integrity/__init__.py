"""Pure integrity formats: the bytes signatures cover and whose keys were good where. No I/O,
no crypto library, no domain import: anyone can check these rules from the README alone."""
