"""HTTP surfaces, one blueprint each; views parse, call a service, serialise."""
