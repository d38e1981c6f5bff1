"""The test suite (a package, so that test modules of the same name in different folders and
the shared helpers under tests/ import as ``tests.<path>``)."""
