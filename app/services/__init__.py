"""Services: plain Python that does the work, called from the CLI, the web layer and notebooks."""
