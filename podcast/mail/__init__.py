"""`podcast mail`: the week's newsletter by email, one copy per subscriber, through SMTP.

edition.py reads what a built episode's copies share; html.py and plain.py render its two parts;
message.py makes one reader's message; subscribers.py reads the list; deliveries.py records in the
show's ledger what the server accepted; send.py talks SMTP; commands.py is the command.
"""
