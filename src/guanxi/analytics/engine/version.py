"""The engine version stored with every fit; a stored fit from another version is refit."""

ENGINE_VERSION = "1.0.0"
