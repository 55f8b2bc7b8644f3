"""Golden recordings: record modes, the store on disk and the comparison with a run."""
