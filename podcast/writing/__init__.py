"""Writing the episode: script, dialogue, speakable text, the lexicon, the newsletter."""
