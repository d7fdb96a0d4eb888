"""Renderers: each module turns the model (and settings) into one kind of output."""
