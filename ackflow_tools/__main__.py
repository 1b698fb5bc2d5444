from ackflow_tools.cli.main import cli

cli()
