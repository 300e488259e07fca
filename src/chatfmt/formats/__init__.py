"""Known chat formats: the built-in table and, for the compiled path, their declarative descriptions."""
