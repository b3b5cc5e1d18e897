"""Step 4: the doctor's checks of a deployment against this machine, its Apache and the project's
own deployment files."""
