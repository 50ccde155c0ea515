"""The security suite: the permission matrix of every public RPC by every kind of caller, and the
REST fuzzer."""
