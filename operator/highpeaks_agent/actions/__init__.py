"""Actions on a person's word (CONTRACT §10): what was asked, the change, the run, the record."""
