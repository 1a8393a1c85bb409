"""Results of activities: xAPI statements of the H5P player and native quiz answers, parsed,
stored once and applied to progress."""
