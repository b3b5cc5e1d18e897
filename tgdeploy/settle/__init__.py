"""Step 2: every value the deployment needs, settled from the project and the user's options,
checked before anything is written."""
