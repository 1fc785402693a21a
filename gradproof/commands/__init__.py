"""The CLI's subcommands, one module each (``add_parser(subparsers)``, ``run(args) -> int``)."""

#: when this process started, on ``time.perf_counter``'s clock: set by :func:`gradproof.cli.script`
#: (the ``gradproof`` executable), so that a summary's time includes the interpreter's start-up;
#: None where ``main()`` runs inside another program (a test, a notebook), whose age is not ours
process_started: float | None = None
