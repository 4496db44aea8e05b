"""Tables and overlay pictures of an analysis."""
