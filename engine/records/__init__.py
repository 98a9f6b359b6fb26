"""Records a regulator would accept: the audit hash chain, personal-data declarations, retention and erasure."""
