"""`contractsync plan`: a scenario run through the real rules, with no database and no Autotask (X2)."""
