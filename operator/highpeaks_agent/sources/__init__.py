"""Sources turn the world (a dump tree, a List file, stdin, the live API) into a Snapshot."""
