"""Making the sound: synthesis workers, rendering, mixing, mastering, MP3 encoding."""
