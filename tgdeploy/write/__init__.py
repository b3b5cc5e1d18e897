"""Step 3: render the template into a staging folder and put it in place of apache/ without
losing anything."""
