"""gRPC transport of the API: servicers, authentication of calls, error mapping, conversion."""
