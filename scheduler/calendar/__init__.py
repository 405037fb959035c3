"""Pure date logic: working days, rule kinds, expansion into occurrences, explanations."""
