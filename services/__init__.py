"""The Pods service: api, spawner and health processes and the code they share."""
