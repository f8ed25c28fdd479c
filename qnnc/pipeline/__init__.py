"""Backends: the build directory and the named, ordered stages that fill it."""
