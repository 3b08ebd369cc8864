"""The entry points: the command line (one module per command group), serve and worker, the
demo, the Telegram runner, and the runtime opened with dpabot's task table."""
