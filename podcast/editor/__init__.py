"""The editor: what the show picked before, and which new papers it would pick now.

- `history`: the seed workflow's CSV files (`Title,ArXiv Link,Paper Date,Date Added`) into the
  ledger and back: every row seen, every kept row picked.
- `ranker`: a model learned from the ledger, picked against seen-but-passed-over, cached in .cache/.
- `rank`: `rank_listings`, the one call `podcast rank`, `podcast find` and `podcast week` use.
- `commands`: the CLI handlers.
"""
