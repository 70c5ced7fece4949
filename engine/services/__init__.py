"""The service layer: each module is one capability, called by the REST API, the CLI and tests."""
