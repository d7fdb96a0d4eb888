"""Reading sources: the only package that opens the files the team writes."""
