"""The built episode: catalog records, ID3 tags, transcripts, cover art."""
