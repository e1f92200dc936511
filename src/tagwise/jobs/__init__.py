"""Running long work: the in-server job runner and the training worker process."""
