"""Finding the week's papers: arXiv ids and answers, discovery, the ledger, episode sources."""
