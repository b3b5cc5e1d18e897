"""Step 5: the generated config in a real Apache: a private one on 127.0.0.1 for --check and
--serve, the running one for --reload."""
