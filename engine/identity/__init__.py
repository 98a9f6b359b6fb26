"""Identity and access: who is calling (principal, tokens) and what they may do (policy)."""
