"""Code shared by the services: settings, database, messaging, runtime seam, generated protos."""
