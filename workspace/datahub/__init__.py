"""The Data Hub: responses that Qualtrics Workflows push, their open texts on the journey steps they concern.

``endpoint`` (the key, and receiving a push) → ``body`` (reading and checking it) → ``store`` (its tables)
→ ``worker`` (reads texts off the request path with ``sentiment``) → ``steps`` and ``insights`` (which
step a text concerns, each step's themes from ``mining``); ``samples`` pushes demo comments through the
real endpoint. ``words`` is the tokenizer the matching and the theme labels share.
"""
