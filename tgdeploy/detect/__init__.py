"""Step 1: what the project is (a TurboGears 2, TurboGears 1.x or CherryPy project), read from
its files, never imported: one module per flavor and the arbiter that chooses."""
